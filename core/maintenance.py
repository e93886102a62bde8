"""Queue upkeep run by one leader across all hosts: reap expired leases, expire, prune finished
tasks and old outbox events (each status past its own retention), keep the monthly partitions
of the snapshot tables (core/partitions.py), refresh the task table's statistics after a burst,
run the refresh scheduler (core/scheduler) every SCHEDULER_INTERVAL, and refresh the
leaderboards (core/analytics) every LEADERBOARD_REFRESH_INTERVAL.

Every worker host runs this loop; a session-level advisory lock elects the leader, and a leader
whose connection drops loses the lock to the next host.
"""

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from core import sqlfile
from core.analytics.leaderboards import LeaderboardLoop
from core.config import Settings
from core.db import DB_ERRORS
from core.leader import lead_when_elected
from core.partitions import keep_partitions
from core.process import delete_in_batches, run_process, sleep_unless
from core.queue import sql
from core.scheduler.loop import SchedulerLoop

log = logging.getLogger(__name__)

LEADER_LOCK = 0x62656174  # "beat"
# A leader session idle for this many rounds is ended by the server (core/leader.py): a host
# cut off the network stops reaping, and another host must take over within seconds, not hours.
LEADER_SILENT_ROUNDS = 4
LEADER_SILENT_MIN_S = 2.0
PRUNE_BATCH = 10_000
STATISTICS_MIN_ROWS = 10_000  # fewer changed rows than this never warrant an ANALYZE
OUTBOX_SQL = sqlfile.load(Path(__file__).parent / "sql" / "outbox.sql")


class Maintenance:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.stopping = asyncio.Event()
        self.interval = settings.queue_maintenance_interval
        self.scheduler = SchedulerLoop(settings)
        self.leaderboards = LeaderboardLoop(settings)

    def stop(self) -> None:
        self.stopping.set()

    async def run(self) -> None:
        while not self.stopping.is_set():
            try:
                await self._lead_when_elected()
            except DB_ERRORS as exc:
                log.warning("maintenance connection lost (%s): %s", type(exc).__name__, exc)
            await self._sleep(self.interval)

    async def _lead_when_elected(self) -> None:
        url = self.settings.session_database_url()
        assert url
        await lead_when_elected(url, LEADER_LOCK, self.stopping, self.interval, self._lead,
                                idle_timeout=leader_idle_timeout(self.interval))

    async def _lead(self, conn: asyncpg.Connection) -> None:
        log.info("this host leads queue maintenance")
        rounds = 0
        try:
            while not self.stopping.is_set():
                await self.tick(conn, prune=rounds % 60 == 0)
                await self.scheduler.maybe_tick()
                self.leaderboards.maybe_refresh()
                rounds += 1
                await self._sleep(self.interval)
        finally:
            await self.scheduler.close()
            await self.leaderboards.close()

    async def tick(self, conn: asyncpg.Connection, expire: bool = True, prune: bool = True) -> None:
        """One round of upkeep (public so tests and `beat` commands can run it directly)."""
        reaped = await conn.fetch(sql("reap_expired_leases"))
        if reaped:
            failed = sum(1 for r in reaped if r["status"] == "FAILED")
            log.warning("reaped %d tasks with expired leases (%d out of attempts -> FAILED)",
                        len(reaped), failed)
        if expire:
            expired = await conn.fetchval(sql("expire_pending"))
            if expired:
                log.info("expired %d pending tasks that were not picked in time", expired)
        if prune:
            await self.prune(conn)
            await keep_partitions(conn, self.settings.log_partitions_ahead,
                                  self.settings.log_retention_months)
        await self.refresh_statistics(conn)

    async def refresh_statistics(self, conn: asyncpg.Connection) -> bool:
        """ANALYZE the task table when it changed a lot since its last one; whether it did."""
        if not await conn.fetchval(sql("stale_statistics"), STATISTICS_MIN_ROWS):
            return False
        started = asyncio.get_running_loop().time()
        await conn.execute("ANALYZE scrape_request_log")
        log.info("analyzed scrape_request_log after a burst of changes (%.2fs)",
                 asyncio.get_running_loop().time() - started)
        return True

    async def prune(self, conn: asyncpg.Connection) -> int:
        """Retention of finished tasks and of the outbox; the number of tasks deleted."""
        cutoff = _days_ago(self.settings.queue_retention_days)
        total = await delete_in_batches(conn, sql("prune_finished"), cutoff, PRUNE_BATCH,
                                        self.stopping)
        if total:
            log.info("retention: deleted %d finished tasks older than %s", total, cutoff)
        await self.prune_outbox(conn)
        return total

    async def prune_outbox(self, conn: asyncpg.Connection) -> dict[str, int]:
        """Delete outbox events past the retention of their status; the number per status.

        PENDING events are pruned only when no relay runs here (AMQP_URL unset): then nothing
        ever sends them and clients read them with GET /events. With a relay they wait for it.
        """
        settings, deleted = self.settings, {}
        deleted["SENT"] = await delete_in_batches(
            conn, OUTBOX_SQL["prune_sent"], _days_ago(settings.events_retention_days),
            PRUNE_BATCH, self.stopping)
        unsent = {"PARKED": settings.events_parked_retention_days}
        if not settings.amqp_url:
            unsent["PENDING"] = settings.events_unsent_retention_days
        for status, days in unsent.items():
            deleted[status] = await delete_in_batches(
                conn, OUTBOX_SQL["prune_unsent"], _days_ago(days), PRUNE_BATCH, self.stopping,
                status)
        if any(deleted.values()):
            log.info("outbox retention: deleted %s events",
                     ", ".join(f"{n} {s.lower()}" for s, n in deleted.items() if n))
        return deleted

    async def _sleep(self, seconds: float) -> None:
        await sleep_unless(self.stopping, seconds)


def leader_idle_timeout(interval: float) -> float:
    """How long the leader's session may stay idle before the server ends it: several rounds
    (one round is a tick then a sleep of `interval`; a long tick is busy, not idle)."""
    return max(LEADER_SILENT_MIN_S, LEADER_SILENT_ROUNDS * interval)


def _days_ago(days: float) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


def run_maintenance_process(settings: Settings) -> None:
    run_process(settings, lambda: Maintenance(settings))
