"""Monthly partitions of the snapshot tables (profile_log, post_log), kept by the maintenance
leader: the months ahead exist before a row needs them, rows that landed in the DEFAULT
partition (rows moved there by the migration, or from a month nobody created) move to their
month's partition, and whole months past LOG_RETENTION_MONTHS are dropped, which costs a
catalog change instead of a delete of millions of rows."""

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import asyncpg

log = logging.getLogger(__name__)
T = TypeVar("T")

LOG_TABLES = ("profile_log", "post_log")
# Creating or dropping a partition locks the whole table: behind a long reader (a leaderboard
# refresh) it would queue every writer of snapshots. It gives up after this long instead, and
# the next round tries again.
LOCK_TIMEOUT_MS = 2000
_MONTH_SUFFIX = re.compile(r"_p(\d{4})(\d{2})$")


@dataclass
class PartitionChanges:
    """What one upkeep pass did, by partition name."""

    created: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    moved_rows: int = 0
    deleted_rows: int = 0


def month_of(moment: date) -> date:
    return date(moment.year, moment.month, 1)


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def partition_name(table: str, month: date) -> str:
    return f"{table}_p{month:%Y%m}"


def _bound(month: date) -> datetime:
    return datetime(month.year, month.month, 1, tzinfo=UTC)


async def month_partitions(conn: asyncpg.Connection, table: str) -> dict[date, str]:
    """The table's monthly partitions by month (the DEFAULT one left out)."""
    rows = await conn.fetch(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = $1::regclass", table)
    found = {}
    for row in rows:
        match = _MONTH_SUFFIX.search(row["relname"])
        if match and row["relname"] == f"{table}{match.group(0)}":
            found[date(int(match.group(1)), int(match.group(2)), 1)] = row["relname"]
    return found


async def _lock_parent(conn: asyncpg.Connection, table: str) -> None:
    """Every change locks the partitioned table before any of its partitions, in the order a
    TRUNCATE or a DROP of the table takes them: reading the DEFAULT partition first and then
    waiting for the table would deadlock against a TRUNCATE holding the table and waiting for
    the partition."""
    await conn.execute(f"SET LOCAL lock_timeout = {LOCK_TIMEOUT_MS}")
    await conn.execute(f"LOCK TABLE ONLY {table} IN ACCESS EXCLUSIVE MODE")


async def _create_month(conn: asyncpg.Connection, table: str, month: date) -> int:
    """Create one month's partition; rows of that month in the DEFAULT partition move into it
    (the DEFAULT partition is detached meanwhile: a new partition may not overlap its rows).
    Returns the rows moved."""
    name, low, high = partition_name(table, month), _bound(month), _bound(add_months(month, 1))
    default = f"{table}_default"
    create = (f"CREATE TABLE {name} PARTITION OF {table}"
              f" FOR VALUES FROM ('{low.isoformat()}') TO ('{high.isoformat()}')")
    async with conn.transaction():
        await _lock_parent(conn, table)
        waiting = await conn.fetchval(
            f"SELECT count(*) FROM {default} WHERE timestamp >= $1 AND timestamp < $2", low, high)
        if not waiting:
            await conn.execute(create)
            return 0
        await conn.execute(f"ALTER TABLE {table} DETACH PARTITION {default}")
        await conn.execute(create)
        await conn.execute(
            f"WITH moved AS (DELETE FROM {default} WHERE timestamp >= $1 AND timestamp < $2"
            f" RETURNING *) INSERT INTO {table} SELECT * FROM moved", low, high)
        await conn.execute(f"ALTER TABLE {table} ATTACH PARTITION {default} DEFAULT")
        return int(waiting)


async def _drop(conn: asyncpg.Connection, table: str, name: str) -> bool:
    async with conn.transaction():
        await _lock_parent(conn, table)
        await conn.execute(f"DROP TABLE {name}")
    return True


async def _locked_out(conn: asyncpg.Connection, change: Callable[..., Awaitable[T]],
                      *args: Any) -> T | None:
    """`change(conn, *args)`, or None (logged) when its lock was not granted in time."""
    try:
        return await change(conn, *args)
    except asyncpg.LockNotAvailableError:
        log.warning("log partitions: %s %s waited %d ms for its lock; next round",
                    change.__name__.strip("_"), " ".join(map(str, args)), LOCK_TIMEOUT_MS)
        return None


async def _months_waiting_in_default(conn: asyncpg.Connection, table: str) -> set[date]:
    rows = await conn.fetch(
        f"SELECT DISTINCT date_trunc('month', timestamp AT TIME ZONE 'UTC')::date AS month"
        f" FROM {table}_default")
    return {row["month"] for row in rows}


async def keep_partitions(conn: asyncpg.Connection, ahead: int, retention_months: int | None,
                          today: date | None = None) -> PartitionChanges:
    """One upkeep pass over every snapshot table: partitions from the oldest kept month with
    rows up to `ahead` months past the current one; months older than the current month minus
    `retention_months` dropped (None: kept forever). `today` (UTC) is for tests."""
    current = month_of(today or datetime.now(UTC).date())
    oldest_kept = add_months(current, -retention_months) if retention_months else None
    changes = PartitionChanges()
    for table in LOG_TABLES:
        existing = await month_partitions(conn, table)
        if oldest_kept is not None:
            changes.deleted_rows += int((await conn.execute(
                f"DELETE FROM {table}_default WHERE timestamp < $1",
                _bound(oldest_kept))).split()[-1])
            for month, name in sorted(existing.items()):
                if month < oldest_kept and await _locked_out(conn, _drop, table, name):
                    changes.dropped.append(name)
        wanted = {add_months(current, n) for n in range(ahead + 1)}
        wanted |= await _months_waiting_in_default(conn, table)
        for month in sorted(wanted - set(existing)):
            moved = await _locked_out(conn, _create_month, table, month)
            if moved is not None:
                changes.moved_rows += moved
                changes.created.append(partition_name(table, month))
    if changes.created or changes.dropped or changes.deleted_rows:
        log.info("log partitions: created %s, dropped %s, %d rows moved out of the default "
                 "partitions, %d past retention deleted from them",
                 ", ".join(changes.created) or "none", ", ".join(changes.dropped) or "none",
                 changes.moved_rows, changes.deleted_rows)
    return changes
