"""Scheduler ticks for an Instagram watchlist against the sandbox, with a real worker process
running what each tick enqueues and on-demand refreshes arriving between ticks. The budget
line is the Graph API token's own call limit (CREDENTIAL_LIMITS, here 30 an hour), which the
worker's token picker takes in the limiter: each tick plans at most its share of what is left
past the reserve, the sandbox's own count of the token's calls never passes the limit, the
scheduled calls leave the reserve alone, and on-demand refreshes still get through on it."""

import asyncio
import json
import math
import time
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx

from bench.schedule_world import SEED, SimClock, sandbox_thread
from bench.scratch import beat_process
from core.budgets import read_budgets
from core.config import Settings
from core.queue import NewTask, Queue
from core.ratelimit import RateLimiter
from core.scheduler.tick import plan_tick, run_tick
from core.validation import RESERVED_KEY_PREFIX
from core.watchlists import store
from core.watchlists.freshness import freshness
from core.watchlists.items import Item
from credentials import store as credentials
from credentials.crypto import Crypto, generate_key
from instagram.settings import SANDBOX_GRAPH_TOKENS
from sandbox.instagram.world import build_world

SOURCE = "instagram_graph_api"
PROVIDER = "instagram_rapidapi"
LIMIT, WINDOW_S, TICK_S, RESERVE = 30, 3600, 900, 0.2
TOKEN = SANDBOX_GRAPH_TOKENS[0].partition(":")[2]
FLOW = "refresh_profile_by_handle"
ACTIVE = "status IN ('PENDING', 'PROCESSING')"


def on_demand(handles: list[str]) -> list[NewTask]:
    return [NewTask(flow=FLOW, params={"handle": h}, platform="INSTAGRAM", priority=100,
                    account_id="on-demand", idempotency_key=f"{RESERVED_KEY_PREFIX}ig:od:{h}")
            for h in handles]


async def drain(pool: asyncpg.Pool) -> None:
    deadline = time.monotonic() + 60
    while await pool.fetchval(f"SELECT count(*) FROM scrape_request_log WHERE {ACTIVE}"):
        assert time.monotonic() < deadline, "the worker did not finish the refreshes"
        await asyncio.sleep(0.05)


async def token_calls(client: httpx.AsyncClient, sandbox_url: str) -> int:
    """The sandbox's own count of the token's Graph API calls (its window outlasts the test:
    the sandbox's clock stands still)."""
    usage = (await client.get(f"{sandbox_url}/_sandbox/instagram/graph/usage")).json()
    return int(usage["calls"].get(f"user:{TOKEN}", 0))


async def wait_for_token(pool: asyncpg.Pool) -> None:
    deadline = time.monotonic() + 60
    while not await pool.fetchval("SELECT count(*) FROM credential WHERE source = $1", SOURCE):
        assert time.monotonic() < deadline, "the worker did not import the sandbox token"
        await asyncio.sleep(0.1)


async def ticks(pool: asyncpg.Pool, settings: Settings, sandbox_url: str,
                handles: list[str]) -> dict[str, Any]:
    assert settings.redis_url
    limiter = RateLimiter.from_url(settings.redis_url, prefix=settings.rate_limit_prefix)
    found: dict[str, Any] = {"planned": [], "shares": []}
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            await wait_for_token(pool)
            for n in range(10):
                plan, created = await run_tick(pool, settings, limiter)
                [line] = plan.budgets[SOURCE].lines
                found["planned"].append(created)
                found["shares"].append((line.spent, line.share, line.remaining))
                if n == 0:  # on-demand refreshes arrive meanwhile
                    await Queue(pool).enqueue_many(on_demand(handles[:2]))
                await drain(pool)
            found["scheduled_calls"] = await token_calls(client, sandbox_url)
            await Queue(pool).enqueue_many(on_demand(handles[2:7]))  # within the reserve
            await drain(pool)
            found["calls"] = await token_calls(client, sandbox_url)
            budgets = await read_budgets(settings, pool, limiter)
    finally:
        await limiter.aclose()
    [graph] = [s for s in budgets.sources if s.source == SOURCE]
    found["limiter_used"] = graph.credentials[0].limits[0].used
    return found


async def test_ticks_keep_the_graph_api_token_within_its_limit_and_leave_the_reserve(
        pool: asyncpg.Pool, settings: Settings) -> None:
    await pool.execute("TRUNCATE watchlist, instagram_account, instagram_post, credential "
                       "RESTART IDENTITY CASCADE")
    handles = build_world(SEED).business_handles(47)
    await store.create(pool, "ig")
    await store.add_items(pool, "ig", [Item("instagram", "profile", h) for h in handles[7:]])
    spec = f"{LIMIT}/{WINDOW_S}s"
    tuned = settings.model_copy(update={"credential_limits": {SOURCE: [spec]},
                                        "scheduler_interval": TICK_S,
                                        "scheduler_reserve": RESERVE})
    assert settings.database_url and settings.redis_url
    with sandbox_thread(SimClock(), {}, 0) as sandbox_url, beat_process(
            "worker", "--flows", FLOW, DATABASE_URL=settings.database_url,
            REDIS_URL=settings.redis_url, RATE_LIMIT_PREFIX=settings.rate_limit_prefix,
            SANDBOX_URL=sandbox_url, INSTAGRAM_GRAPH_TOKENS=",".join(SANDBOX_GRAPH_TOKENS),
            CREDENTIAL_LIMITS=json.dumps({SOURCE: [spec]}), SCHEDULER_INTERVAL="0",
            FLOW_OVERRIDES=json.dumps({FLOW: {"processes": 1, "concurrency": 10}})):
        found = await ticks(pool, tuned, sandbox_url, handles)
    reserve = math.ceil(LIMIT * RESERVE)
    # Each tick a quarter (15 of the window's 60 minutes) of what is left past the reserve:
    # 30 left -> 6; 2 on demand, 22 -> 4; 18 -> 3; 15 -> 2; 13 -> 1 ... 9 -> 0.
    assert found["planned"] == [6, 4, 3, 2, 1, 1, 1, 1, 0, 0], found
    for spent, share, _ in found["shares"]:
        assert spent <= share
    assert found["scheduled_calls"] == 19 + 2 <= LIMIT - reserve  # the reserve left alone
    # Five on-demand refreshes later, all on the token: within the limit, by the sandbox's
    # count and the limiter's alike.
    assert found["calls"] == found["limiter_used"] == 26 <= LIMIT
    failed = await pool.fetch("SELECT flow, status, last_error FROM scrape_request_log "
                              "WHERE status <> 'COMPLETE'")
    assert failed == []
    sources = {r["source"] for r in await pool.fetch(
        "SELECT data->>'source' AS source FROM scrape_request_log")}
    assert sources == {SOURCE}



async def test_without_a_usable_token_the_plan_draws_on_the_provider_or_holds_back(
        pool: asyncpg.Pool, settings: Settings) -> None:
    """The Graph API answers only with a token: while none is usable the accounts' refreshes
    are planned on the RapidAPI-style provider's budget (and the watchlist's freshness report
    weighs what it needs against that budget), and with no usable key either, not at all (the
    keyless web JSON declares no budget)."""
    await pool.execute("TRUNCATE watchlist, instagram_account, credential "
                       "RESTART IDENTITY CASCADE")
    handles = build_world(SEED).business_handles(5)
    await store.create(pool, "ig")
    await store.add_items(pool, "ig", [Item("instagram", "profile", h) for h in handles])
    crypto = Crypto([generate_key()])
    token, _ = await credentials.upsert(pool, crypto, SOURCE, {"user_id": "1", "token": "t"})
    key, _ = await credentials.upsert(pool, crypto, PROVIDER, {"key": "k"})
    await credentials.disable(pool, token.id, ttl_s=600)
    tuned = settings.model_copy(update={"scheduler_interval": 60})
    assert settings.redis_url
    limiter = RateLimiter.from_url(settings.redis_url, prefix=settings.rate_limit_prefix)
    try:
        on_provider = await plan_tick(pool, tuned, limiter)
        report = await freshness(pool, tuned, limiter, "ig", datetime.now(UTC))
        await credentials.enable(pool, token.id)
        on_token = await freshness(pool, tuned, limiter, "ig", datetime.now(UTC))
        await credentials.disable(pool, token.id, ttl_s=600)
        await credentials.disable(pool, key.id, ttl_s=600)
        held = await plan_tick(pool, tuned, limiter)
    finally:
        await limiter.aclose()
    # What keeping 5 accounts a day fresh needs of the budget the refreshes draw on now
    assert [(b.source, b.limit, b.needed_per_day) for b in report.budgets] == [
        (PROVIDER, f"source:{PROVIDER}:2/1s", 5), (PROVIDER, f"source:{PROVIDER}:100/30s", 5)]
    [line] = on_token.budgets
    assert (line.source, line.limit, line.needed_per_day, line.available_per_day) == (
        SOURCE, f"credential:{SOURCE}:200/3600s:1 credential", 5, 200 * 0.8 * 24)
    [flow] = on_provider.platforms["instagram"].line()["flows"]
    assert (flow["flow"], flow["items"], flow["source"]) == (FLOW, 5, PROVIDER)
    assert [line.name for line in on_provider.budgets[PROVIDER].lines] == [
        f"source:{PROVIDER}:2/1s", f"source:{PROVIDER}:100/30s"]
    assert held.chosen == [] and held.platforms["instagram"].due == 5
    assert held.budgets[SOURCE].blocked == "no usable credential"
