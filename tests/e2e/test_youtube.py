"""YouTube end to end: the sandbox, the server and the workers as real processes; a channel
with hundreds of videos refreshed over HTTP, checked in the tables, the snapshots and the quota
the sandbox counted, including the fallback when the API keys run dry mid-run."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from core import db
from tests.e2e.procs import Launcher, free_port, wait_server_ready, wait_worker_ready

KEYS = "sandbox-key-1,sandbox-key-2"
FLOWS = "refresh_yt_profiles,refresh_yt_posts,refresh_yt_posts_by_channel_id"


class Stack:
    def __init__(self, api: httpx.AsyncClient, sandbox: httpx.AsyncClient,
                 pool: asyncpg.Pool) -> None:
        self.api, self.sandbox, self.pool = api, sandbox, pool

    async def world(self) -> dict[str, Any]:
        return dict((await self.sandbox.get("/_sandbox/world")).json())

    async def units(self) -> dict[str, int]:
        keys = (await self.sandbox.get("/_sandbox/usage")).json()["quota"]["keys"]
        return {key: value["used"] for key, value in keys.items()}

    async def run(self, flow: str, params: dict[str, Any], timeout: float = 120) -> dict[str, Any]:
        task = (await self.api.post(f"/scrape_request_log/flow/{flow}",
                                    json={"params": params})).json()
        for _ in range(int(timeout / 0.1)):
            task = (await self.api.get(f"/scrape_request_log/flow/{task['id']}")).json()
            if task["status"] not in ("PENDING", "PROCESSING"):
                return dict(task)
            await asyncio.sleep(0.1)
        raise AssertionError(f"task {task['id']} still {task['status']} after {timeout}s")


@pytest.fixture(scope="module")
async def stack(launcher: Launcher, database_url: str) -> AsyncIterator[Stack]:
    sandbox_port, api_port = free_port(), free_port()
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    launcher.spawn("sandbox", ["sandbox", "--port", str(sandbox_port)], launcher.env())
    settings = {"SANDBOX_URL": sandbox_url, "YOUTUBE_API_KEYS": KEYS}
    worker = launcher.worker(FLOWS, WORKER_PROCESS_CAP=1, **settings)
    server = launcher.server(api_port, **settings)
    await wait_server_ready(server, api_port)
    await wait_worker_ready(worker, database_url, workers=3)
    pool = await db.create_pool(database_url)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_port}", timeout=30) as api, \
            httpx.AsyncClient(base_url=sandbox_url, timeout=30) as sandbox:
        yield Stack(api, sandbox, pool)
    await pool.close()


def channels_between(world: dict[str, Any], low: int, high: int) -> list[dict[str, Any]]:
    return [c for c in world["channels"] if low <= c["video_count"] <= high]


async def test_channel_refresh_stores_every_video_for_a_few_quota_units(stack: Stack) -> None:
    channel = channels_between(await stack.world(), 500, 3000)[0]
    count, channel_id = channel["video_count"], channel["channel_id"]
    before = sum((await stack.units()).values())
    task = await stack.run("refresh_yt_posts_by_channel_id", {"channel_id": channel_id})
    assert task["status"] == "COMPLETE", task["last_error"]
    assert task["data"]["videos"] == count
    assert task["data"]["sources"] == {"youtube_data_api": count}
    pages = -(-count // 50)
    assert sum((await stack.units()).values()) - before == 1 + 2 * pages
    rows = await stack.pool.fetchval("SELECT count(*) FROM youtube_post WHERE channel_id = $1 "
                                     "AND views IS NOT NULL AND source = 'youtube_data_api'",
                                     channel_id)
    assert rows == count
    snapshots = await stack.pool.fetchval("SELECT count(DISTINCT post_id) FROM post_log "
                                          "WHERE profile_id = $1", channel_id)
    assert snapshots == count
    profile = await stack.pool.fetchrow("SELECT * FROM youtube_account WHERE channel_id = $1",
                                        channel_id)
    assert profile["video_count"] == count and profile["handle"] == channel["handle"]


async def test_profile_endpoints_refresh_on_demand(stack: Stack) -> None:
    await stack.sandbox.post("/_sandbox/quota", json={"reset": True})
    channel = (await stack.world())["channels"][2]
    answer = await stack.api.get(f"/profiles/YOUTUBE/byhandle/{channel['handle']}",
                                 params={"wait": 20})
    assert answer.status_code == 200, answer.text
    assert answer.json()["channel_id"] == channel["channel_id"]
    stored = await stack.api.get(f"/profiles/YOUTUBE/byid/{answer.json()['id']}")
    assert stored.status_code == 200 and stored.json()["channel_id"] == channel["channel_id"]
    missing = await stack.api.get("/profiles/YOUTUBE/byhandle/nobody-at-all-here",
                                  params={"wait": 20})
    assert missing.status_code == 404 and "nobody-at-all-here" in missing.json()["detail"]
    recent = await stack.api.get(f"/recent/posts/YOUTUBE/byprofileid/{channel['channel_id']}",
                                 params={"limit": 5, "wait": 20})
    assert recent.status_code == 200, recent.text
    items = recent.json()["items"]
    assert len(items) == min(5, channel["video_count"])
    assert [i["published_at"] for i in items] == sorted((i["published_at"] for i in items),
                                                        reverse=True)


async def test_post_and_channel_endpoints_serve_fresh_data_without_calling_again(
        stack: Stack) -> None:
    await stack.sandbox.post("/_sandbox/quota", json={"reset": True})
    world = await stack.world()
    channel = world["channels"][3]
    video_id = world["examples"]["hidden_likes_video"]
    first = await stack.api.get(f"/posts/YOUTUBE/byshortcode/{video_id}", params={"wait": 20})
    assert first.status_code == 200, first.text
    assert first.json()["video_id"] == video_id and first.json()["likes"] is None
    calls = sum((await stack.units()).values())
    again = await stack.api.get(f"/posts/YOUTUBE/byshortcode/{video_id}")
    assert again.status_code == 200 and again.json()["refreshed_at"] == \
        first.json()["refreshed_at"]
    assert sum((await stack.units()).values()) == calls, "fresh data needs no upstream call"
    by_id = await stack.api.get(f"/profiles/YOUTUBE/byprofileid/{channel['channel_id']}",
                                params={"wait": 20})
    assert by_id.status_code == 200 and by_id.json()["title"] == channel["title"]
    missing = await stack.api.get("/posts/YOUTUBE/byshortcode/aaaaaaaaaaa", params={"wait": 20})
    assert missing.status_code == 404


async def test_a_refresh_that_does_not_finish_in_time_answers_202_with_the_task(
        stack: Stack) -> None:
    channel = (await stack.world())["channels"][4]
    answer = await stack.api.get(f"/profiles/YOUTUBE/byprofileid/{channel['channel_id']}",
                                 params={"wait": 0})
    assert answer.status_code == 202, answer.text
    task = (await stack.api.get(f"/scrape_request_log/flow/{answer.json()['task_id']}")).json()
    assert task["flow"] == "refresh_yt_profiles" and task["priority"] == 100
    assert task["params"] == {"channel_ids": [channel["channel_id"]]}


# Last: spent keys rest in the credential table until the quota resets, for every worker.
async def test_keys_running_dry_mid_run_store_the_rest_from_the_fallback(stack: Stack) -> None:
    channel = channels_between(await stack.world(), 500, 3000)[1]
    count, channel_id = channel["video_count"], channel["channel_id"]
    used = await stack.units()
    # Enough for the channel, its playlist pages and 10 videos.list calls, across both keys.
    allowance = (1 + -(-count // 50) + 10) // 2
    for key, spent in used.items():
        await stack.sandbox.post("/_sandbox/quota", json={"key": key, "limit": spent + allowance})
    task = await stack.run("refresh_yt_posts_by_channel_id", {"channel_id": channel_id})
    assert task["status"] == "COMPLETE", task["last_error"]
    sources = task["data"]["sources"]
    assert set(sources) == {"youtube_data_api", "invidious"} and sum(sources.values()) == count
    stored = dict(await stack.pool.fetch("SELECT source, count(*) FROM youtube_post "
                                         "WHERE channel_id = $1 GROUP BY source", channel_id))
    assert stored == sources
    fallback = await stack.pool.fetchrow("SELECT views, metric_sources FROM youtube_post "
                                         "WHERE channel_id = $1 AND source = 'invidious' LIMIT 1",
                                         channel_id)
    assert fallback["views"] is not None and fallback["metric_sources"]["views"] == "invidious"
    after = await stack.units()
    assert all(after[key] == used[key] + allowance for key in used), "each key spent, not over"
    assert sources["youtube_data_api"] >= 400
    resting = await stack.pool.fetch("SELECT disabled_till FROM credential "
                                     "WHERE source = 'youtube_data_api'")
    assert len(resting) == 2 and all(r["disabled_till"] is not None for r in resting), \
        "spent keys rest until the quota resets, for every worker"
