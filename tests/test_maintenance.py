"""Queue maintenance keeps the outbox bounded (one pass deletes the events of each status that
are past that status's retention and keeps the rest; the outbox_stats view shows the backlog)
and the task table's statistics fresh after a burst."""

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg

from core import db
from core.config import Settings
from core.maintenance import Maintenance
from core.queue import Queue

DAY = timedelta(days=1)


async def add_event(pool: asyncpg.Pool, status: str, age: timedelta) -> int:
    """An event of `status` that occurred `age` ago (and, if SENT, was sent then too)."""
    at = datetime.now(UTC) - age
    event_id: int = await pool.fetchval(
        "INSERT INTO event_outbox (type, status, occurred_at, sent_at) VALUES "
        "('post.youtube.updated', $1::text, $2::timestamptz, "
        "CASE WHEN $1::text = 'SENT' THEN $2::timestamptz END) RETURNING id",
        status, at)
    return event_id


def retention(settings: Settings, **changes: object) -> Settings:
    return settings.model_copy(update={"events_retention_days": 1.0,
                                       "events_unsent_retention_days": 3.0,
                                       "events_parked_retention_days": 5.0, **changes})


async def one_pass(settings: Settings, pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await Maintenance(settings).tick(conn)


async def remaining(pool: asyncpg.Pool) -> set[int]:
    return {r["id"] for r in await pool.fetch("SELECT id FROM event_outbox")}


async def test_each_status_is_pruned_past_its_own_retention_without_a_relay(
        settings: Settings, outbox: asyncpg.Pool) -> None:
    """No AMQP_URL: nothing ever sends PENDING events (GET /events reads them), so they too
    are deleted once past EVENTS_UNSENT_RETENTION_DAYS."""
    kept = [await add_event(outbox, "SENT", 0.5 * DAY),
            await add_event(outbox, "PENDING", 2.5 * DAY),
            await add_event(outbox, "PARKED", 4.5 * DAY)]
    gone = [await add_event(outbox, "SENT", 1.5 * DAY),
            await add_event(outbox, "PENDING", 3.5 * DAY),
            await add_event(outbox, "PARKED", 5.5 * DAY)]
    await one_pass(retention(settings, amqp_url=None), outbox)
    assert await remaining(outbox) == set(kept), f"expected {gone} deleted"


async def test_with_a_relay_pending_events_wait_for_it_whatever_their_age(
        settings: Settings, outbox: asyncpg.Pool) -> None:
    waiting = await add_event(outbox, "PENDING", 30 * DAY)
    parked = await add_event(outbox, "PARKED", 30 * DAY)
    sent = await add_event(outbox, "SENT", 30 * DAY)
    assert settings.amqp_url
    await one_pass(retention(settings), outbox)
    left = await remaining(outbox)
    assert waiting in left and parked not in left and sent not in left


async def test_outbox_stats_show_the_backlog_per_status(outbox: asyncpg.Pool) -> None:
    for status, age in [("PENDING", DAY), ("PENDING", 0 * DAY), ("PARKED", 2 * DAY)]:
        await add_event(outbox, status, age)
    stats = {row["status"]: row for row in await Queue(outbox).outbox_stats()}
    assert set(stats) == {"PENDING", "PARKED"}
    assert stats["PENDING"]["events"] == 2 and stats["PARKED"]["events"] == 1
    assert 86_000 < stats["PENDING"]["oldest_age_s"] < 87_000
    assert stats["PARKED"]["oldest_age_s"] > 2 * 86_000


async def test_a_burst_of_enqueues_gets_the_task_table_analyzed(
        settings: Settings, database_url: str, pool: asyncpg.Pool) -> None:
    """Without fresh statistics the claim sorts every pending row; autovacuum (off here, so it
    cannot get there first) would take up to a minute to notice. The burst comes from a
    connection of its own that then closes: a session that reported its counts less than a
    second before holds new ones back until it has been idle 10 s, a closing one reports them
    at once."""
    await pool.execute("ALTER TABLE scrape_request_log SET (autovacuum_enabled = false)")
    try:
        analyzed = ("SELECT analyze_count FROM pg_stat_user_tables "
                    "WHERE relid = 'scrape_request_log'::regclass")
        before = await pool.fetchval(analyzed)
        maintenance = Maintenance(settings)
        async with pool.acquire() as conn:
            assert not await maintenance.refresh_statistics(conn)  # nothing changed yet
            burst = await asyncpg.connect(db.asyncpg_dsn(database_url))
            try:
                await burst.execute("INSERT INTO scrape_request_log (flow, params) "
                                    "SELECT 'noop', '{}' FROM generate_series(1, 30000)")
            finally:
                await burst.close()
            deadline = asyncio.get_running_loop().time() + 15
            while not await maintenance.refresh_statistics(conn):  # counts arrive within ~1 s
                assert asyncio.get_running_loop().time() < deadline, "never analyzed"
                await asyncio.sleep(0.2)
        while await pool.fetchval(analyzed) == before:
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.2)
    finally:
        await pool.execute("ALTER TABLE scrape_request_log RESET (autovacuum_enabled)")
