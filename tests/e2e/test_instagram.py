"""Instagram end to end: the sandbox, the server and the workers as real processes. A business
account refreshed over HTTP (profile, recent posts, averages, one Graph API call), the same after
the Graph token expired (a fallback answers, the token is marked), a private account failing for
good, the generic read endpoints, and a follower fetch whose worker is killed half-way resuming
from its cursor."""

import os
import signal
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from core import db
from instagram.settings import SANDBOX_GRAPH_TOKENS, SANDBOX_RAPIDAPI_KEYS
from tests.e2e.procs import (
    BeatProcess,
    Launcher,
    free_port,
    wait_server_ready,
    wait_worker_ready,
)
from tests.e2e.support import TaskApi, wait_for, wait_gone

FLOWS = "refresh_profile_by_handle,refresh_profile_insights,fetch_profile_followers"
GRAPH_TOKEN = SANDBOX_GRAPH_TOKENS[0].partition(":")[2]
PRIVATE, MILLION, PERSONAL = "hidden.person", "million.brand", "just.a.person"
FOLLOWERS_PAGE = 50  # the provider's page of followers


class Stack(TaskApi):
    def __init__(self, api: httpx.AsyncClient, sandbox: httpx.AsyncClient, pool: asyncpg.Pool,
                 worker: BeatProcess, database_url: str) -> None:
        self.api, self.sandbox, self.pool = api, sandbox, pool
        self.worker, self.database_url = worker, database_url

    async def graph_calls(self) -> int:
        calls = (await self.sandbox.get("/_sandbox/usage")).json()["calls"]
        return sum(n for route, n in calls.items() if " /graph/" in route)

    async def world(self) -> dict[str, Any]:
        return dict((await self.sandbox.get("/_sandbox/instagram/graph/world")).json())


@pytest.fixture(scope="module")
async def stack(launcher: Launcher, database_url: str) -> AsyncIterator[Stack]:
    sandbox_port, api_port = free_port(), free_port()
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    launcher.spawn("sandbox", ["sandbox", "--port", str(sandbox_port)], launcher.env())
    settings = {"SANDBOX_URL": sandbox_url,
                "INSTAGRAM_GRAPH_TOKENS": ",".join(SANDBOX_GRAPH_TOKENS),
                "INSTAGRAM_RAPIDAPI_KEYS": ",".join(SANDBOX_RAPIDAPI_KEYS)}
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


async def business_handles(stack: Stack, n: int) -> list[str]:
    """Business accounts of the sandbox world other than the special ones."""
    from sandbox.instagram.world import build_world

    return build_world(1).business_handles(n)


async def test_a_business_profile_comes_with_its_posts_and_averages_in_one_call(
        stack: Stack) -> None:
    [handle] = await business_handles(stack, 1)
    before = await stack.graph_calls()
    task = await stack.run("refresh_profile_by_handle", {"handle": handle})
    assert task["status"] == "COMPLETE", task["last_error"]
    assert await stack.graph_calls() == before + 1  # business_discovery: profile and media
    account = await stack.pool.fetchrow("SELECT * FROM instagram_account WHERE handle = $1",
                                        handle)
    assert account["source"] == "instagram_graph_api" and account["graph_id"]
    assert set(account["metric_sources"].values()) == {"instagram_graph_api"}
    posts = await stack.pool.fetch("SELECT * FROM instagram_post WHERE profile_id = $1",
                                   account["profile_id"])
    assert len(posts) == task["data"]["posts"] == 12
    assert account["averages_posts"] == 12 and account["averages_source"] == "instagram_graph_api"
    kept = sorted(posts, key=lambda p: p["likes"] + p["comments"])[2:-2]  # outliers dropped
    assert account["avg_likes"] == pytest.approx(sum(p["likes"] for p in kept) / len(kept))
    assert account["avg_engagement"] is not None and account["avg_reach"] is not None
    assert await stack.pool.fetchval("SELECT count(*) FROM profile_log WHERE profile_id = $1",
                                     account["profile_id"]) == 1

    # The generic endpoints serve what is stored, fresh, without a new call.
    answer = await stack.api.get(f"/profiles/INSTAGRAM/byhandle/{handle}")
    assert answer.status_code == 200 and answer.json()["followers"] == account["followers"]
    recent = await stack.api.get(f"/recent/posts/INSTAGRAM/byprofileid/{account['profile_id']}",
                                 params={"limit": 5})
    assert recent.status_code == 200 and len(recent.json()["items"]) == 5
    code = posts[0]["shortcode"]
    post = await stack.api.get(f"/posts/INSTAGRAM/byshortcode/{code}")
    assert post.status_code == 200 and post.json()["post_id"] == posts[0]["post_id"]
    assert await stack.graph_calls() == before + 1


async def test_a_token_expiring_mid_run_leaves_the_flow_to_a_fallback_and_is_marked(
        stack: Stack) -> None:
    first, second = (await business_handles(stack, 3))[1:]
    task = await stack.run("refresh_profile_by_handle", {"handle": first})
    assert task["status"] == "COMPLETE" and task["data"]["source"] == "instagram_graph_api"

    # The Graph API answers after 1.5 s: the token expires while the flow's call is out.
    slow = await stack.sandbox.post("/_sandbox/faults", json={"prefix": "/graph",
                                                              "latency_ms": 1500})
    assert slow.status_code == 200
    try:
        before = await stack.graph_calls()
        task_id = await stack.enqueue("refresh_profile_by_handle", {"handle": second})

        async def graph_call_out() -> bool:  # counted when it arrives, before the latency
            return await stack.graph_calls() > before

        await wait_for(graph_call_out, 30, "the flow's Graph API call", stack.worker)
        expired = await stack.sandbox.post(
            f"/_sandbox/instagram/graph/tokens/{GRAPH_TOKEN}/expire")
        assert expired.status_code == 200
        task = await stack.finished(task_id)
        assert task["status"] == "COMPLETE", task["last_error"]
        assert task["retry_count"] == 1  # the same run finished on the fallback
        assert task["data"]["source"] == "instagram_rapidapi" and task["data"]["posts"] == 12
        marked = await stack.pool.fetchrow(
            "SELECT enabled, data_access_expired FROM credential WHERE source = "
            "'instagram_graph_api'")
        assert marked["data_access_expired"] or not marked["enabled"], dict(marked)
        account = await stack.pool.fetchrow(
            "SELECT * FROM instagram_account WHERE handle = $1", second)
        assert set(account["metric_sources"].values()) == {"instagram_rapidapi"}
        assert account["averages_source"] == "instagram_rapidapi"
        assert account["avg_likes"] is not None
    finally:
        await stack.sandbox.delete("/_sandbox/faults", params={"prefix": "/graph"})
        await stack.sandbox.delete(f"/_sandbox/instagram/graph/tokens/{GRAPH_TOKEN}/expire")
        await stack.pool.execute("UPDATE credential SET enabled = true, "
                                 "data_access_expired = false, disabled_till = NULL")


async def test_insights_and_audience_are_refreshed_on_demand(stack: Stack) -> None:
    handle = (await stack.world())["owner"]["handle"]
    answer = await stack.api.get(f"/profiles/INSTAGRAM/byhandle/{handle}/insights",
                                 params={"wait": 30})
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert found["platform"] == "instagram" and found["source"] == "instagram_graph_api"
    assert found["insights"]["reach"]["value"] > 0
    audience = await stack.api.get(f"/profiles/INSTAGRAM/byhandle/{handle}/audienceinsights")
    assert audience.status_code == 200, audience.text
    ages = audience.json()["insights"]["follower_demographics_age"]["breakdowns"]
    assert ages and all(isinstance(n, int) for n in ages.values())
    calls = await stack.graph_calls()
    again = await stack.api.get(f"/profiles/INSTAGRAM/byhandle/{handle}/insights")
    assert again.json() == found and await stack.graph_calls() == calls  # fresh: stored


async def test_a_private_account_fails_at_once_for_good(stack: Stack) -> None:
    task = await stack.run("refresh_profile_by_handle", {"handle": PRIVATE})
    assert task["status"] == "FAILED" and task["error_kind"] == "private"
    assert task["retry_count"] == 1  # not retried
    assert "private" in task["last_error"]
    answer = await stack.api.get(f"/profiles/INSTAGRAM/byhandle/{PERSONAL}x", params={"wait": 20})
    assert answer.status_code == 404, answer.text  # no such account on any source


async def test_a_follower_fetch_killed_half_way_resumes_from_its_cursor(stack: Stack) -> None:
    wanted = 20 * FOLLOWERS_PAGE
    task_id = await stack.enqueue("fetch_profile_followers",
                                  {"handle": MILLION, "max_items": wanted})

    async def some_pages_done() -> bool:
        state = await stack.pool.fetchval(
            "SELECT checkpoint FROM scrape_request_log WHERE id = $1", task_id)
        return bool(state and state["done"] >= 4 * FOLLOWERS_PAGE)

    await wait_for(some_pages_done, 60, "four pages of followers stored", stack.worker)
    slots = stack.worker.started_children()
    [victim] = [pid for pid, slot in slots.items()
                if slot.startswith("worker-fetch_profile_followers-")]
    os.kill(victim, signal.SIGKILL)
    await wait_gone(victim)
    stored_at_kill = await stack.pool.fetchval(
        "SELECT count(*) FROM instagram_relationship WHERE kind = 'follower'")
    assert stored_at_kill < wanted, "the fetch was over before the kill"

    task = await stack.finished(task_id, timeout=120)
    assert task["status"] == "COMPLETE", task["last_error"]
    # Claimed again after the kill (the attempt count says nothing here: a wait for the
    # provider's rate limit gives its attempt back), and from the checkpoint.
    await stack.worker.wait_log(rf"task {task_id} resumes from its checkpoint", timeout=10)
    assert task["data"]["accounts"] == wanted
    assert await stack.pool.fetchval(
        "SELECT count(*) FROM instagram_relationship WHERE kind = 'follower'") == wanted

    pages = (await stack.sandbox.get("/_sandbox/usage")).json()["pages"]
    follower_pages = {key: n for key, n in pages.items() if "get_followers" in key}
    assert len(follower_pages) == wanted // FOLLOWERS_PAGE, follower_pages
    again = sum(n - 1 for n in follower_pages.values())
    assert again <= 1, f"pages fetched twice beyond the one in flight: {follower_pages}"
