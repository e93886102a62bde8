"""Metrics read from PostgreSQL at scrape time: queue depth and the oldest pending task's age per
flow, the event outbox backlog and the relay's lag, credentials per source and state. They
describe the shared database, not one process, so only the /metrics endpoint of the server
exports them (every host's server answers the same). The queries (core/sql/metrics.sql) read
partial indexes and small tables only."""

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import asyncpg

from core import sqlfile

SQL_FILE = Path(__file__).with_name("sql") / "metrics.sql"
ACTIVE = ("PENDING", "PROCESSING")
BACKLOG = ("PENDING", "PARKED")


class Snapshot:
    """A prometheus_client collector over families computed beforehand (asynchronously: the
    collector protocol is synchronous, the pool is not)."""

    def __init__(self, families: list[Any]) -> None:
        self.families = families

    def collect(self) -> Iterator[Any]:
        yield from self.families


async def read_database(pool: asyncpg.Pool, flows: Iterable[str]) -> Snapshot:
    """The database's gauges; every flow of the registry shows, with 0 when it has no task."""
    from prometheus_client.core import GaugeMetricFamily

    queries = sqlfile.load(SQL_FILE)
    async with pool.acquire() as conn:
        tasks = await conn.fetch(queries["active_tasks"])
        outbox = await conn.fetch(queries["outbox_backlog"])
        credentials = await conn.fetch(queries["credential_states"])
    depth = GaugeMetricFamily("beat_queue_depth", "Tasks pending or running, per flow",
                              labels=["flow", "status"])
    oldest = GaugeMetricFamily("beat_queue_oldest_pending_age_seconds",
                               "Age of the oldest pending task per flow (0: none)",
                               labels=["flow"])
    counts = {(r["flow"], r["status"]): r for r in tasks}
    for flow in sorted(set(flows) | {flow for flow, _ in counts}):
        for status in ACTIVE:
            row = counts.get((flow, status))
            depth.add_metric([flow, status], row["tasks"] if row else 0)
        pending = counts.get((flow, "PENDING"))
        oldest.add_metric([flow], pending["oldest_age_s"] if pending else 0.0)
    return Snapshot([depth, oldest, *_outbox(outbox), _credentials(credentials)])


def _outbox(rows: list[asyncpg.Record]) -> list[Any]:
    from prometheus_client.core import GaugeMetricFamily

    by_status = {r["status"]: r for r in rows}
    backlog = GaugeMetricFamily("beat_outbox_backlog", "Events not published yet (PENDING) or "
                                "given up on (PARKED)", labels=["status"])
    for status in BACKLOG:
        backlog.add_metric([status], by_status[status]["events"] if status in by_status else 0)
    pending = by_status.get("PENDING")
    lag = GaugeMetricFamily("beat_relay_lag_seconds", "Age of the oldest unpublished event "
                            "(0: none)", value=pending["oldest_age_s"] if pending else 0.0)
    return [backlog, lag]


def _credentials(rows: list[asyncpg.Record]) -> Any:
    from prometheus_client.core import GaugeMetricFamily

    family = GaugeMetricFamily("beat_credentials", "Stored credentials per source and state "
                               "(usable, resting, expired, disabled)", labels=["source", "state"])
    for row in sorted(rows, key=lambda r: (r["source"], r["state"])):
        family.add_metric([row["source"], row["state"]], row["credentials"])
    return family
