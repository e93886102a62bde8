"""A scheduler tick against real PostgreSQL and Redis: it enqueues the most urgent refreshes
of the watched items within the tick's share of the quota the limiter holds (past the
reserve), batched 50 videos a unit; a refresh already queued is neither enqueued again nor
allowed to spend its budget twice; and the maintenance leader runs the ticks."""

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from core.config import Settings
from core.maintenance import Maintenance
from core.ratelimit import RateLimiter, quota_limit
from core.scheduler.tick import SCHEDULED_PRIORITY, plan_tick, run_tick
from core.watchlists import store
from core.watchlists.items import Item
from credentials import store as credentials
from credentials.crypto import Crypto, generate_key

SOURCE = "youtube_data_api"
QUOTA = "10/day"


def video(n: int) -> str:
    return f"vid{n:08d}"


def channel(n: int) -> str:
    return f"UC{n:022d}"


@pytest.fixture
def tuned(settings: Settings) -> Settings:
    # One tick a day: the share is all that is left past the reserve (2 of 10 units).
    return settings.model_copy(update={"credential_quotas": {SOURCE: QUOTA},
                                       "scheduler_interval": 86_400})


async def watch(pool: asyncpg.Pool, settings: Settings) -> tuple[RateLimiter, int]:
    """200 videos never refreshed, 10 fresh and 5 stale, two channels that matter more; a key
    with 3 of its 10 units spent."""
    await pool.execute("TRUNCATE watchlist, youtube_post, youtube_account, credential "
                       "RESTART IDENTITY CASCADE")
    await store.create(pool, "tick")
    items = [Item("youtube", "video", video(n)) for n in range(215)]
    items += [Item("youtube", "profile", channel(n), importance=5) for n in range(2)]
    await store.add_items(pool, "tick", items)
    now = datetime.now(UTC)
    await pool.executemany("INSERT INTO youtube_post (video_id, refreshed_at) VALUES ($1, $2)",
                           [(video(n), now - timedelta(minutes=5)) for n in range(200, 210)]
                           + [(video(n), now - timedelta(days=2)) for n in range(210, 215)])
    info, _ = await credentials.upsert(pool, Crypto([generate_key()]), SOURCE,
                                       {"key": "AIzaSyD-scheduler-test-key-0123456789"})
    assert settings.redis_url
    limiter = RateLimiter.from_url(settings.redis_url, prefix=settings.rate_limit_prefix)
    quota = quota_limit(SOURCE, str(info.id), QUOTA)
    await limiter.redis.delete(limiter.key(quota))  # the same credential id in every test
    assert (await limiter.acquire([quota], 3)).granted
    return limiter, info.id


async def scheduled(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await pool.fetch(
        "SELECT flow, params, priority, idempotency_key, status FROM scrape_request_log "
        "ORDER BY id")
    return rows


async def test_a_tick_enqueues_the_most_urgent_within_the_share_past_the_reserve(
        pool: asyncpg.Pool, tuned: Settings, caplog: pytest.LogCaptureFixture) -> None:
    limiter, _ = await watch(pool, tuned)
    caplog.set_level(logging.INFO, "core.scheduler.tick")
    try:
        plan, created = await run_tick(pool, tuned, limiter)
    finally:
        await limiter.aclose()
    rows = await scheduled(pool)
    # 7 units left, 2 kept: 2 channels (a unit each) and 3 calls of 50 videos
    assert created == len(rows) == 152
    by_flow = {flow: [r for r in rows if r["flow"] == flow]
               for flow in ("refresh_yt_profiles", "refresh_yt_posts")}
    assert sorted(r["params"]["channel_ids"] for r in by_flow["refresh_yt_profiles"]) == [
        [channel(0)], [channel(1)]]
    videos = [r["params"]["video_ids"][0] for r in by_flow["refresh_yt_posts"]]
    assert len(videos) == 150 and not set(videos) & {video(n) for n in range(200, 210)}
    assert {r["priority"] for r in rows} == {SCHEDULED_PRIORITY}
    assert {r["idempotency_key"] for r in by_flow["refresh_yt_posts"]} == {
        f"beat:yt:post:{v}" for v in videos}
    [line] = plan.budgets[SOURCE].lines
    assert (line.remaining, line.reserve, line.spent, line.left) == (7, 2, 5, 2)
    assert [p.line()["units"] for p in plan.platforms.values()] == [5]
    assert plan.platforms["youtube"].due == 207  # 200 new, 5 stale, 2 channels
    assert "enqueued 152 refreshes" in caplog.text and "2 of 10 units left" in caplog.text


async def test_refreshes_in_flight_are_not_enqueued_again_nor_spent_twice(
        pool: asyncpg.Pool, tuned: Settings) -> None:
    limiter, key = await watch(pool, tuned)
    try:
        await run_tick(pool, tuned, limiter)
        again = await plan_tick(pool, tuned, limiter)
        assert again.platforms["youtube"].in_flight == 152 and not again.chosen
        assert again.budgets[SOURCE].lines[0].in_flight == 5
        # The workers ran them (5 units): 55 items are still due, but what is left is the
        # reserve, so nothing more goes out.
        await pool.execute("UPDATE scrape_request_log SET status = 'COMPLETE'")
        assert (await limiter.acquire([quota_limit(SOURCE, str(key), QUOTA)], 5)).granted
        _, created = await run_tick(pool, tuned, limiter)
    finally:
        await limiter.aclose()
    assert created == 0 and len(await scheduled(pool)) == 152


async def test_more_quota_lets_the_rest_go_out_in_the_next_tick(
        pool: asyncpg.Pool, tuned: Settings) -> None:
    limiter, _ = await watch(pool, tuned)
    roomy = tuned.model_copy(update={"credential_quotas": {SOURCE: "100/day"}})
    try:
        await run_tick(pool, tuned, limiter)
        _, created = await run_tick(pool, roomy, limiter)
    finally:
        await limiter.aclose()
    rows = await scheduled(pool)
    assert created == 55 and len(rows) == len({r["idempotency_key"] for r in rows}) == 207


async def test_the_maintenance_leader_runs_the_scheduler(pool: asyncpg.Pool,
                                                         tuned: Settings) -> None:
    limiter, _ = await watch(pool, tuned)
    await limiter.aclose()
    maintenance = Maintenance(tuned)
    running = asyncio.create_task(maintenance.run())
    try:
        async with asyncio.timeout(20):
            while len(await scheduled(pool)) < 152:
                await asyncio.sleep(0.1)
    finally:
        maintenance.stop()
        await running
    assert len(await scheduled(pool)) == 152
    assert maintenance.scheduler.pool is None  # closed with the leadership
