"""X end to end: the sandbox, the server and the workers as real processes. A tweet with views
and an old tweet without them stored with each metric's source (views NULL, not 0), a profile
stored and served by the generic endpoints, a deleted and a protected tweet failing for good
(not retried), and `beat links --resolve-only` over every X form, t.co followed through the
sandbox process."""

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from core import db
from sandbox.x import world as w
from tests import beat_cli
from tests.e2e.procs import Launcher, free_port, wait_server_ready, wait_worker_ready
from x.settings import SANDBOX_BEARER

ROOT = Path(__file__).parents[2]
FLOWS = "refresh_x_post,refresh_x_profile"


class Stack:
    def __init__(self, api: httpx.AsyncClient, pool: asyncpg.Pool, sandbox_url: str) -> None:
        self.api, self.pool, self.sandbox_url = api, pool, sandbox_url

    async def run(self, flow: str, params: dict[str, Any], timeout: float = 60
                  ) -> dict[str, Any]:
        answer = await self.api.post(f"/scrape_request_log/flow/{flow}", json={"params": params})
        assert answer.status_code == 201, answer.text
        task_id = int(answer.json()["id"])
        for _ in range(int(timeout / 0.1)):
            task = (await self.api.get(f"/scrape_request_log/flow/{task_id}")).json()
            if task["status"] not in ("PENDING", "PROCESSING"):
                return dict(task)
            await asyncio.sleep(0.1)
        raise AssertionError(f"task {task_id} still {task['status']} after {timeout}s")

    async def post(self, tweet_id: str) -> dict[str, Any]:
        row = await self.pool.fetchrow("SELECT * FROM x_post WHERE tweet_id = $1", tweet_id)
        assert row is not None, f"tweet {tweet_id} not stored"
        found = dict(row)
        if isinstance(found["metric_sources"], str):
            found["metric_sources"] = json.loads(found["metric_sources"])
        return found


@pytest.fixture(scope="module")
async def stack(launcher: Launcher, database_url: str) -> AsyncIterator[Stack]:
    sandbox_port, api_port = free_port(), free_port()
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    launcher.spawn("sandbox", ["sandbox", "--port", str(sandbox_port)], launcher.env())
    settings: dict[str, Any] = {"SANDBOX_URL": sandbox_url, "X_BEARER_TOKEN": SANDBOX_BEARER}
    worker = launcher.worker(FLOWS, WORKER_PROCESS_CAP=1, QUEUE_LEASE_SECONDS=2,
                             QUEUE_MAINTENANCE_INTERVAL=0.5, QUEUE_POLL_INTERVAL=0.5, **settings)
    server = launcher.server(api_port, **settings)
    await wait_server_ready(server, api_port)
    await wait_worker_ready(worker, database_url, workers=2)
    pool = await db.create_pool(database_url)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_port}", timeout=30) as api:
        yield Stack(api, pool, sandbox_url)
    await pool.close()


async def test_a_tweet_with_views_is_stored_with_its_sources(stack: Stack) -> None:
    task = await stack.run("refresh_x_post", {"tweet_id": w.VIDEO})
    assert task["status"] == "COMPLETE", task["last_error"]
    assert task["data"]["source"] == "x_graphql"
    row = await stack.post(w.VIDEO)
    assert row["views"] > 2_000_000 and (row["comments"], row["shares"]) == (823, 2_875)
    assert set(row["metric_sources"]) == {"likes", "comments", "shares", "quotes", "bookmarks",
                                          "views"}
    assert set(row["metric_sources"].values()) == {"x_graphql"}
    assert await stack.pool.fetchval("SELECT count(*) FROM post_log WHERE platform = 'X' AND "
                                     "post_id = $1", w.VIDEO) == 1


async def test_an_old_tweet_is_stored_with_views_null_not_zero(stack: Stack) -> None:
    task = await stack.run("refresh_x_post", {"tweet_id": w.OLD_TWEET})
    assert task["status"] == "COMPLETE", task["last_error"]
    row = await stack.post(w.OLD_TWEET)
    assert row["views"] is None and row["likes"] == 263_922
    assert "views" not in row["metric_sources"]
    answer = await stack.api.get(f"/posts/X/byshortcode/{w.OLD_TWEET}")
    assert answer.status_code == 200, answer.text
    assert answer.json()["views"] is None and answer.json()["platform"] == "x"


async def test_a_profile_is_stored_and_served(stack: Stack) -> None:
    answer = await stack.api.get("/profiles/X/byhandle/BeatNews", params={"wait": 30})
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert (found["platform"], found["user_id"], found["handle"]) == ("x", w.NEWS, "beatnews")
    assert found["followers"] >= 100_000 and found["source"] == "x_graphql"
    by_id = await stack.api.get(f"/profiles/X/byprofileid/{w.NEWS}")
    assert by_id.status_code == 200 and by_id.json()["id"] == found["id"]


@pytest.mark.parametrize(("tweet_id", "kind", "reason"), [
    (w.DELETED, "deleted", "deleted"), (w.PROTECTED, "private", "protected")])
async def test_deleted_and_protected_tweets_fail_for_good(stack: Stack, tweet_id: str,
                                                          kind: str, reason: str) -> None:
    task = await stack.run("refresh_x_post", {"tweet_id": tweet_id})
    assert task["status"] == "FAILED" and task["error_kind"] == kind
    assert task["retry_count"] == 1  # not retried
    assert reason in task["last_error"]
    assert await stack.pool.fetchval("SELECT count(*) FROM x_post WHERE tweet_id = $1",
                                     tweet_id) == 0


def test_beat_links_resolves_every_form_and_follows_tco(stack: Stack, tmp_path: Path) -> None:
    texts = ["https://x.com/SpaceX/status/1848831595014459513/video/1",
             "https://twitter.com/jack/status/20?s=20&t=abc",
             "https://mobile.twitter.com/i/web/status/20",
             "https://fxtwitter.com/beatnews/status/1850000000000000001",
             "https://vxtwitter.com/beatnews/status/1850000000000000001/photo/1",
             "https://fixupx.com/beatnews/status/1850000000000000001",
             "https://x.com/BeatNews",
             "https://t.co/bEaT001",
             "https://t.co/nOsUcH",
             "https://x.com/home",
             "https://x.com.evil.example/jack/status/20"]
    listing = tmp_path / "links.txt"
    listing.write_text("\n".join(texts) + "\n", encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", "SANDBOX_URL": stack.sandbox_url}
    result = beat_cli.run(["links", "--resolve-only", str(listing)], env)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    post = {"platform": "x", "kind": "post"}
    assert lines[:8] == [
        {"url": texts[0], **post, "id": "1848831595014459513"},
        {"url": texts[1], **post, "id": "20"},
        {"url": texts[2], **post, "id": "20"},
        *({"url": t, **post, "id": w.WITH_VIEWS} for t in texts[3:6]),
        {"url": texts[6], "platform": "x", "kind": "profile", "id": "beatnews"},
        {"url": texts[7], **post, "id": w.WITH_VIEWS},  # followed through the sandbox
    ]
    assert lines[8] == {"url": texts[8], "error": "the share link answered HTTP 404, not a "
                                                  "redirect"}
    assert "home timeline" in lines[9]["error"]
    assert lines[10]["error"].startswith("unsupported platform")
