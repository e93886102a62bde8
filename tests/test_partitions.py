"""Maintenance keeps the snapshot tables' monthly partitions: the months ahead exist before rows
need them, rows left in the DEFAULT partition move to their month, and months past
LOG_RETENTION_MONTHS are dropped whole. The platforms' writers keep appending snapshots."""

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime

import asyncpg
import pytest
from alembic import command

from core import db
from core.config import Settings
from core.maintenance import Maintenance
from core.partitions import keep_partitions, month_partitions
from tests.conftest import admin, url_for

TODAY = date(2026, 11, 30)


def at(year: int, month: int, day: int = 15) -> datetime:
    return datetime(year, month, day, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
async def no_snapshots(pool: asyncpg.Pool) -> None:
    await pool.execute("TRUNCATE profile_log, post_log")


async def add_snapshots(conn: asyncpg.Connection, moments: list[datetime]) -> None:
    await conn.executemany(
        "INSERT INTO profile_log (platform, profile_id, metrics, timestamp)"
        " VALUES ('YOUTUBE', 'UC1', '{\"subscribers\": 1}', $1)", [(m,) for m in moments])
    await conn.executemany(
        "INSERT INTO post_log (platform, post_id, metrics, timestamp)"
        " VALUES ('YOUTUBE', 'v1', '{\"views\": 1}', $1)", [(m,) for m in moments])


async def rows_by_partition(conn: asyncpg.Connection, table: str) -> dict[str, int]:
    rows = await conn.fetch(f"SELECT tableoid::regclass::text AS part, count(*) FROM {table}"
                            " GROUP BY 1")
    return {r["part"]: r["count"] for r in rows}


async def test_partitions_are_created_ahead_and_dropped_past_retention(
        pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        # Rows of five months, all in the DEFAULT partition (as the migration leaves them).
        await add_snapshots(conn, [at(2026, 6), at(2026, 8), at(2026, 9), at(2026, 11),
                                   at(2026, 11, 2)])
        changes = await keep_partitions(conn, ahead=2, retention_months=3, today=TODAY)
        # June is older than the three months kept before November: deleted, not partitioned.
        months = [date(2026, 8, 1), date(2026, 9, 1), date(2026, 11, 1), date(2026, 12, 1),
                  date(2027, 1, 1)]
        for table in ("profile_log", "post_log"):
            assert sorted(await month_partitions(conn, table)) == months
            assert await rows_by_partition(conn, table) == {
                f"{table}_p202608": 1, f"{table}_p202609": 1, f"{table}_p202611": 2}
        assert changes.moved_rows == 8 and changes.deleted_rows == 2 and not changes.dropped

        # Three months later: August, September (and the rows in them) are past retention.
        later = await keep_partitions(conn, ahead=2, retention_months=3, today=date(2027, 2, 3))
        assert sorted(later.dropped) == ["post_log_p202608", "post_log_p202609",
                                         "profile_log_p202608", "profile_log_p202609"]
        assert sorted(await month_partitions(conn, "profile_log")) == [
            date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1), date(2027, 2, 1),
            date(2027, 3, 1), date(2027, 4, 1)]
        assert await conn.fetchval("SELECT count(*) FROM profile_log") == 2

        # A pass with nothing to do changes nothing.
        again = await keep_partitions(conn, ahead=2, retention_months=3, today=date(2027, 2, 3))
        assert (again.created, again.dropped) == ([], [])


async def test_without_retention_every_month_is_kept(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await add_snapshots(conn, [at(2019, 1)])
        changes = await keep_partitions(conn, ahead=1, retention_months=None, today=TODAY)
        assert "profile_log_p201901" in changes.created and not changes.dropped
        assert await rows_by_partition(conn, "profile_log") == {"profile_log_p201901": 1}


async def test_the_maintenance_leader_keeps_the_partitions(settings: Settings,
                                                           pool: asyncpg.Pool) -> None:
    """A maintenance round creates this month's partition and the next ones, and the rows
    written now (as the platforms' upserts write them) land in this month's partition."""
    now = datetime.now(UTC).date()
    async with pool.acquire() as conn:
        await Maintenance(settings.model_copy(update={"log_partitions_ahead": 2})).tick(conn)
        parts = await month_partitions(conn, "profile_log")
        assert date(now.year, now.month, 1) in parts and len(parts) >= 3
        await conn.execute("INSERT INTO profile_log (platform, profile_id) VALUES ('X', 'a')")
        assert await rows_by_partition(conn, "profile_log") == {
            parts[date(now.year, now.month, 1)]: 1}


@pytest.fixture
def database_at_0015() -> Iterator[str]:
    name = f"beat_partition_migration_{uuid.uuid4().hex[:8]}"
    admin(f"CREATE DATABASE {name}")
    url = url_for(name)
    command.upgrade(db.alembic_config(url), "0015")
    yield url
    admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


async def test_the_migration_moves_the_rows_and_keeps_counting_ids(database_at_0015: str) -> None:
    conn = await asyncpg.connect(database_at_0015)
    try:
        await add_snapshots(conn, [at(2026, 9), at(2026, 10)])
        await asyncio.to_thread(db.migrate, database_at_0015)
        assert await rows_by_partition(conn, "profile_log") == {"profile_log_default": 2}
        assert await rows_by_partition(conn, "post_log") == {"post_log_default": 2}
        new_id = await conn.fetchval("INSERT INTO post_log (platform, post_id) VALUES ('X', 't')"
                                     " RETURNING id")
        assert new_id == 3
        await keep_partitions(conn, ahead=0, retention_months=None, today=TODAY)
        assert await rows_by_partition(conn, "profile_log") == {
            "profile_log_p202609": 1, "profile_log_p202610": 1}
    finally:
        await conn.close()


async def test_a_long_reader_delays_the_upkeep_instead_of_queueing_writers(
        pool: asyncpg.Pool) -> None:
    """Behind a reader (a leaderboard refresh) a partition change would queue every writer of
    snapshots until the reader ends: it gives up after its lock timeout, and a later round
    does it."""
    async with pool.acquire() as reader, pool.acquire() as conn:
        async with reader.transaction():
            await reader.execute("LOCK TABLE profile_log IN ACCESS SHARE MODE")
            held = await keep_partitions(conn, ahead=0, retention_months=None,
                                         today=date(2031, 5, 1))
            assert "profile_log_p203105" not in held.created
            assert "post_log_p203105" in held.created  # the other table is not held
        later = await keep_partitions(conn, ahead=0, retention_months=None,
                                      today=date(2031, 5, 1))
        assert later.created == ["profile_log_p203105"]


async def test_the_upkeep_and_a_truncate_of_the_table_do_not_deadlock(
        pool: asyncpg.Pool) -> None:
    """A TRUNCATE locks the table, then its partitions. The upkeep takes them in the same
    order: were it to read the DEFAULT partition before waiting for the table, the TRUNCATE
    would wait for the upkeep and the upkeep for the TRUNCATE."""
    async with pool.acquire() as truncater, pool.acquire() as conn:
        await add_snapshots(conn, [at(2031, 7)])  # waits in the DEFAULT partition
        async with truncater.transaction():
            await truncater.execute("LOCK TABLE ONLY profile_log IN ACCESS EXCLUSIVE MODE")
            upkeep = asyncio.create_task(
                keep_partitions(conn, ahead=0, retention_months=None, today=date(2031, 7, 1)))
            waiting = "SELECT count(*) FROM pg_locks WHERE pid = $1 AND NOT granted"
            upkeep_pid = conn.get_server_pid()
            for _ in range(200):
                if await truncater.fetchval(waiting, upkeep_pid):
                    break
                await asyncio.sleep(0.01)
            else:
                pytest.fail("the upkeep never waited for the table's lock")
            await truncater.execute("SET LOCAL lock_timeout = 5000")
            await truncater.execute("TRUNCATE profile_log")
        changes = await upkeep
    # The truncate emptied the DEFAULT partition first: profile_log's month was then not needed
    # or was created after it; post_log's rows were not truncated and got their month.
    assert "post_log_p203107" in changes.created
