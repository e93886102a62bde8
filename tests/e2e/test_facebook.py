"""Facebook end to end: the sandbox, the server and the workers as real processes. A page, a post
with reactions/comments/shares and a reel's views refreshed over HTTP and stored with their
sources; a private and a deleted post failing for good (not retried); an expired Graph token
marked while the work goes on with another; `beat links --resolve-only` over every pasted form,
share and fb.watch links followed through the sandbox process."""

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from core import db
from sandbox.facebook.world import DELETED_POST, PRIVATE_POST, build_world
from tests import beat_cli
from tests.e2e.procs import Launcher, free_port, wait_server_ready, wait_worker_ready
from tests.e2e.test_instagram import Stack
from tests.facebook.test_urls import ACCEPTED

ROOT = Path(__file__).parents[2]
FLOWS = "refresh_fb_page,refresh_fb_post,refresh_fb_video"
TOKENS = ("sandbox-graph-token", "sandbox-graph-token-no-insights")
CONTROL = "/_sandbox/facebook/graph"
world = build_world(1)


@pytest.fixture(scope="module")
async def stack(launcher: Launcher, database_url: str) -> AsyncIterator[Stack]:
    sandbox_port, api_port = free_port(), free_port()
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    launcher.spawn("sandbox", ["sandbox", "--port", str(sandbox_port)], launcher.env())
    settings = {"SANDBOX_URL": sandbox_url, "FACEBOOK_GRAPH_TOKENS": ",".join(TOKENS)}
    worker = launcher.worker(FLOWS, WORKER_PROCESS_CAP=1, QUEUE_LEASE_SECONDS=2,
                             QUEUE_MAINTENANCE_INTERVAL=0.5, QUEUE_POLL_INTERVAL=0.5, **settings)
    server = launcher.server(api_port, **settings)
    await wait_server_ready(server, api_port)
    await wait_worker_ready(worker, database_url, workers=3)
    pool = await db.create_pool(database_url)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_port}", timeout=30) as api, \
            httpx.AsyncClient(base_url=sandbox_url, timeout=30) as sandbox:
        yield Stack(api, sandbox, pool, worker, database_url)
    await pool.close()


async def test_a_page_is_stored_with_its_followers_and_source(stack: Stack) -> None:
    task = await stack.run("refresh_fb_page", {"page": "millionfans"})
    assert task["status"] == "COMPLETE", task["last_error"]
    page = world.page("millionfans")
    assert page is not None
    row = await stack.pool.fetchrow("SELECT * FROM facebook_page WHERE page_id = $1",
                                    page.page_id)
    assert (row["followers"], row["fan_count"]) == (page.followers, page.fan_count)
    assert set(row["metric_sources"].values()) == {"facebook_graph_api"}
    answer = await stack.api.get("/profiles/FACEBOOK/byhandle/MillionFans")
    assert answer.status_code == 200, answer.text
    assert (answer.json()["page_id"], answer.json()["followers"]) == (page.page_id,
                                                                       page.followers)


async def test_a_post_with_reactions_comments_shares_and_a_reel_with_views(
        stack: Stack) -> None:
    post = next(p for p in world.post_list() if p.shares)
    reel = next(v for v in world.videos.values() if v.reel)
    done = await stack.run("refresh_fb_post", {"post_id": post.pfbid})
    assert done["status"] == "COMPLETE", done["last_error"]
    row = await stack.pool.fetchrow("SELECT * FROM facebook_post WHERE post_id = $1",
                                    post.post_id)
    assert (row["likes"], row["comments"], row["shares"]) == (post.reactions, post.comments,
                                                              post.shares)
    assert row["metric_sources"] == {name: "facebook_graph_api"
                                     for name in ("likes", "comments", "shares")}
    done = await stack.run("refresh_fb_video", {"video_id": reel.video_id})
    assert done["status"] == "COMPLETE", done["last_error"]
    row = await stack.pool.fetchrow("SELECT * FROM facebook_post WHERE post_id = $1",
                                    reel.video_id)
    assert (row["post_type"], row["views"]) == ("reel", reel.views)
    assert row["metric_sources"]["views"] == "facebook_graph_api"
    answer = await stack.api.get(f"/posts/FACEBOOK/byshortcode/{post.pfbid}")
    assert answer.status_code == 200, answer.text
    assert answer.json()["post_id"] == post.post_id


@pytest.mark.parametrize(("post_id", "kind"), [(PRIVATE_POST, "private"),
                                               (DELETED_POST, "not_found")])
async def test_private_and_deleted_posts_fail_for_good(stack: Stack, post_id: str,
                                                       kind: str) -> None:
    task = await stack.run("refresh_fb_post", {"post_id": post_id})
    assert task["status"] == "FAILED" and task["error_kind"] == kind, task
    assert task["retry_count"] == 1  # not retried


async def test_an_expired_token_is_marked_and_the_work_goes_on(stack: Stack) -> None:
    expired = await stack.sandbox.post(f"{CONTROL}/tokens/{TOKENS[0]}/expire")
    assert expired.status_code == 200
    try:
        pages = [p.username for p in world.page_list() if p.username != "millionfans"]
        for page in pages:  # tokens are picked at random: enough calls meet the expired one
            task = await stack.run("refresh_fb_page", {"page": page})
            assert task["status"] == "COMPLETE", task["last_error"]
        marked = await stack.pool.fetch(
            "SELECT data_access_expired, last_error FROM credential "
            "WHERE source = 'facebook_graph_api' ORDER BY id")
        assert [m["data_access_expired"] for m in marked] == [True, False], marked
        assert "190" in marked[0]["last_error"]
    finally:
        await stack.sandbox.delete(f"{CONTROL}/tokens/{TOKENS[0]}/expire")
        await stack.pool.execute("UPDATE credential SET data_access_expired = false "
                                 "WHERE source = 'facebook_graph_api'")


def links(stdin: str, *args: str, **env: str) -> list[dict[str, Any]]:
    result = beat_cli.run(["links", "--resolve-only", *args, "-"], {**os.environ, **env},
                          input=stdin)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


async def test_beat_links_routes_every_form_and_follows_share_links(stack: Stack) -> None:
    lines = links("\n".join(url for url, _, _ in ACCEPTED) + "\n")
    assert [(line.get("platform"), line.get("kind"), line.get("id")) for line in lines] == \
        [("facebook", kind, ident) for _, kind, ident in ACCEPTED]
    post = world.post_list()[0]
    reel = next(v for v in world.videos.values() if v.reel)
    video = next(v for v in world.videos.values() if not v.reel)
    watch_code = next(k for k, url in world.shares.items()
                      if k.startswith("fbwatch/") and url.endswith(video.video_id))
    shares = ["https://www.facebook.com/share/p/SbxP00x/",
              "https://m.facebook.com/share/r/SbxR02x/?mibextid=abc",
              f"https://fb.watch/{watch_code.partition('/')[2]}/",
              "https://www.facebook.com/share/p/Unknown1/"]
    found = links("\n".join(shares) + "\n", SANDBOX_URL=str(stack.sandbox.base_url))
    assert [(f.get("kind"), f.get("id")) for f in found[:3]] == [
        ("post", post.pfbid), ("video", reel.video_id), ("video", video.video_id)]
    assert "404" in found[3]["error"]
    offline = links(shares[0] + "\n", "--offline")
    assert "id" not in offline[0] and offline[0].get("platform") == "facebook"
