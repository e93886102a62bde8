"""What the dashboard shows, read from PostgreSQL: per-flow depth, throughput and failures over
the last hour, execution-time percentiles, failed, slow and running tasks, and the workers that
hold tasks. Every statement is a named block of core/sql/dashboard.sql."""

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg

from core import sqlfile
from core.queue import Queue, Status

SQL_FILE = Path(__file__).parents[2] / "sql" / "dashboard.sql"
MINUTES = 60
FAILED_STATUSES = (Status.FAILED, Status.TIMEOUT)


def sql(name: str) -> str:
    return sqlfile.load(SQL_FILE)[name]


@dataclass
class FlowRow:
    """One flow's line: queue depth now, and its last hour minute by minute (index 0 = now)."""

    flow: str
    pending: int = 0
    processing: int = 0
    failed_last_hour: int = 0
    oldest_pending_age_s: float = 0.0
    completed_per_minute: int = 0
    completed: list[int] = field(default_factory=lambda: [0] * MINUTES)
    failed: list[int] = field(default_factory=lambda: [0] * MINUTES)

    @property
    def completed_last_hour(self) -> int:
        return sum(self.completed)

    @property
    def active(self) -> bool:
        """Something is queued or running, or finished in the last hour."""
        return bool(self.pending or self.processing or any(self.completed) or any(self.failed))


@dataclass(frozen=True, slots=True)
class Timing:
    flow: str
    runs: int
    p50: float
    p95: float
    p99: float


async def flow_rows(pool: asyncpg.Pool, flows: list[str]) -> list[FlowRow]:
    """A row for every registered flow (idle ones too) and any other flow the table holds."""
    rows = {name: FlowRow(name) for name in flows}
    for stats in await Queue(pool).stats():
        row = rows.setdefault(stats["flow"], FlowRow(stats["flow"]))
        for name in ("pending", "processing", "failed_last_hour", "completed_per_minute"):
            setattr(row, name, int(stats[name]))
        row.oldest_pending_age_s = float(stats["oldest_pending_age_s"])
    for minute in await pool.fetch(sql("flow_minutes")):
        row = rows.setdefault(minute["flow"], FlowRow(minute["flow"]))
        row.completed[minute["minutes_ago"]] += minute["completed"]
        row.failed[minute["minutes_ago"]] += minute["failed"]
    return sorted(rows.values(), key=lambda r: r.flow)


async def timings(pool: asyncpg.Pool) -> list[Timing]:
    return [Timing(r["flow"], r["runs"], *r["seconds"]) for r in await pool.fetch(
        sql("flow_timings"))]


async def failures(pool: asyncpg.Pool, flow: str | None, limit: int = 20
                   ) -> tuple[list[dict[str, Any]], int]:
    """The newest failed tasks (of `flow`), and how many failed tasks there are in all."""
    rows = await pool.fetch(sql("recent_failures"), flow, limit)
    total: int = await pool.fetchval(sql("failed_count"), flow)
    return [dict(r) for r in rows], total


async def slow_tasks(pool: asyncpg.Pool, flow: str | None, limit: int = 10
                     ) -> dict[str, list[dict[str, Any]]]:
    return {"running": [dict(r) for r in await pool.fetch(sql("longest_running"), flow, limit)],
            "completed": [dict(r) for r in await pool.fetch(sql("slowest_completed"), flow,
                                                             limit)]}


async def workers(pool: asyncpg.Pool) -> list[dict[str, Any]]:
    return [dict(r) for r in await pool.fetch(sql("workers"))]


async def requeue_failed(queue: Queue, flow: str | None) -> int:
    """Every failed (FAILED or TIMEOUT) task of `flow` (every flow: None) back to PENDING, with
    the queue's own rule: one per idempotency key, none whose key an active task holds."""
    return sum([await queue.requeue_where(status, flow) for status in FAILED_STATUSES])


def age(moment: datetime | None, now: datetime) -> str:
    """`12s ago`, `4m ago`, `3h ago` (or `-`)."""
    if moment is None:
        return "-"
    return f"{duration((now - moment).total_seconds())} ago"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit}" if seconds >= 10 * size else \
                f"{seconds / size:.1f}{unit}"
    return f"{seconds:.1f}s"
