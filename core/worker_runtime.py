"""One worker process: claims batches for its flows, runs each task as a coroutine, acks in batches.

Wake-up comes from LISTEN/NOTIFY with a polling fallback; running tasks keep their leases alive
with one heartbeat statement per process; SIGTERM stops claiming, lets running tasks finish
within the grace period and hands the rest back to PENDING.

A task past its timeout is cancelled and recorded TIMEOUT at once; it no longer holds a slot nor
a lease. A handler that ignores its cancellation for WORKER_CANCEL_GRACE seconds makes the
process recycle: it stops like on SIGTERM and exits with RECYCLE_EXIT_CODE, and the supervisor
starts a fresh one (a process that restarts is cheaper than a slot that never frees).
"""

import asyncio
import logging
import os
import socket
import uuid
from typing import Any

import asyncpg

from core import metrics
from core.acks import AckBuffer, Claim
from core.config import Settings
from core.console import plural
from core.db import DB_ERRORS, asyncpg_dsn, close_pool, create_pool
from core.flow_loop import FlowLoop
from core.flows import Flow
from core.process import run_process
from core.queue import NOTIFY_CHANNEL, sql

log = logging.getLogger(__name__)

RECYCLE_EXIT_CODE = 3  # the process stopped because a task would not die: start a new one
DB_WAIT_S = 10.0  # longest wait on the database while stopping
METRICS_PERIOD_S = 0.5  # how often task metrics are published (core/metrics.py)


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class WorkerRuntime:
    """The event-loop side of a worker process for a set of flows."""

    def __init__(self, settings: Settings, flows: list[Flow], pool_size: int = 4) -> None:
        self.settings = settings
        self.loops = {f.name: FlowLoop(self, f) for f in flows}
        self.worker_id = new_worker_id()
        self.pool_size = pool_size
        self.stopping = False
        self.hurry = asyncio.Event()  # stop again: hand running tasks back without waiting
        self.released: list[Claim] = []
        self.pool: asyncpg.Pool
        self.acks: AckBuffer
        self.listening = False
        self.renewed_at = 0.0
        self.claims_in_flight = 0
        self.exit_code = 0  # RECYCLE_EXIT_CODE once a task would not die

    @property
    def poll_interval(self) -> float:
        # Without a live LISTEN connection, poll faster so wake-ups are not missed for long.
        interval = self.settings.queue_poll_interval
        return interval if self.listening else min(interval, 0.5)

    def stop(self) -> None:
        """First call: no new claims, running tasks finish within the grace period. Second
        call (a second Ctrl-C or SIGTERM): running tasks are handed back to the queue now."""
        if self.stopping:
            if not self.hurry.is_set():
                log.info("worker %s: handing %s back to the queue now", self.worker_id,
                         plural(len(self.running_claims()), "running task"))
            self.hurry.set()
            return
        self._stop_claiming()

    def recycle(self, reason: str) -> None:
        """Stop this process (gracefully, like a first SIGTERM, however often it is asked) so
        the supervisor starts a fresh one. It never hurries the other running tasks: a stuck
        run found during the grace period must not cut the grace of the rest."""
        if not self.exit_code:
            log.error("worker %s recycles its process: %s", self.worker_id, reason)
        self.exit_code = RECYCLE_EXIT_CODE
        if not self.stopping:
            self._stop_claiming()

    def _stop_claiming(self) -> None:
        log.info("worker %s stopping: no new claims", self.worker_id)
        self.stopping = True
        for loop in self.loops.values():
            loop.wake.set()
            loop.slot_freed.set()

    def _slots_freed(self) -> None:
        for loop in self.loops.values():
            loop.slot_freed.set()

    def running_claims(self) -> list[Claim]:
        return [claim for loop in self.loops.values() for claim in loop.running]

    async def run(self) -> None:
        assert self.settings.database_url
        self.pool = await _connect_with_retry(self.settings.database_url, self.pool_size)
        self.acks = AckBuffer(self.pool, self.worker_id, self.settings.queue_ack_flush_ms,
                              max_rows=self.settings.queue_claim_batch,
                              on_flushed=self._slots_freed,
                              flushes=self.settings.queue_ack_flushes)
        helpers = [asyncio.create_task(c) for c in
                   (self.acks.run(), self._heartbeat(), self._listen(), self._report(),
                    self._watchdog(), self._publish_metrics())]
        log.info("worker %s started: flows %s", self.worker_id,
                 ", ".join(f"{n}x{l.flow.concurrency}" for n, l in self.loops.items()))
        try:
            await asyncio.gather(*(loop.run() for loop in self.loops.values()))
            await self._drain()
        finally:
            await self.acks.close()
            try:
                await asyncio.wait_for(helpers[0], timeout=10)
            except TimeoutError:
                log.warning("%d acks not written; the reaper will retry those tasks",
                            len(self.acks.unacked_claims()))
            for helper in helpers[1:]:
                helper.cancel()
            await self._release()
            await close_pool(self.pool, DB_WAIT_S)
            for name in self.loops:
                metrics.set_running(name, 0)
            metrics.flush()
        log.info("worker %s stopped", self.worker_id)

    async def _drain(self) -> None:
        """Let running tasks finish within the grace period, cancel the rest, and hand back the
        ones that ignore their cancellation for WORKER_CANCEL_GRACE (then the process exits
        without waiting for them)."""
        running = [t for loop in self.loops.values() for t in loop.running.values()]
        if not running:
            return
        if not self.hurry.is_set():
            log.info("worker %s: waiting up to %gs for %s to finish (a second Ctrl-C or "
                     "SIGTERM hands them back to the queue now)", self.worker_id,
                     self.settings.worker_shutdown_grace, plural(len(running), "running task"))
        finished = asyncio.ensure_future(asyncio.wait(running))
        hurry = asyncio.ensure_future(self.hurry.wait())
        await asyncio.wait([finished, hurry], timeout=self.settings.worker_shutdown_grace,
                           return_when=asyncio.FIRST_COMPLETED)
        finished.cancel()
        hurry.cancel()
        late = [task for task in running if not task.done()]
        for task in late:
            task.cancel()
        if late:
            await asyncio.wait(late, timeout=self.settings.worker_cancel_grace)
        for loop in self.loops.values():
            for claim, task in list(loop.running.items()):
                loop.forget(claim)
                loop.abandoned[claim] = (task, 0.0)
                self.released.append(claim)
                self.recycle(f"task {claim.task_id} ({loop.flow.name}) ignored its cancellation "
                             f"for {self.settings.worker_cancel_grace:g}s: handed back")

    async def _release(self) -> None:
        if not self.released:
            return
        try:
            async with asyncio.timeout(DB_WAIT_S):
                await self.pool.execute(sql("release"), [c.task_id for c in self.released],
                                        [c.lease_token for c in self.released], self.worker_id)
            log.info("handed %s back to the queue", plural(len(self.released), "unfinished task"))
        except DB_ERRORS as exc:
            log.warning("could not hand back %d tasks (%s); the reaper will", len(self.released),
                        exc)

    async def _watchdog(self) -> None:
        shortest = min([loop.flow.timeout_s for loop in self.loops.values()]
                       + [self.settings.queue_lease_seconds])
        period = min(0.5, shortest / 10)
        clock = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(period)
            for loop in self.loops.values():
                loop.cancel_overdue(clock.time())
                loop.cancel_unleased(clock.time(), self.renewed_at,
                                     self.settings.queue_lease_seconds)
                stuck = loop.stuck(clock.time(), self.settings.worker_cancel_grace)
                if stuck:
                    self.recycle(f"task {stuck[0].task_id} ({loop.flow.name}) ignored its "
                                 f"cancellation for {self.settings.worker_cancel_grace:g}s")

    async def _publish_metrics(self) -> None:
        """Running tasks per flow, and the outcomes tallied meanwhile, to the metrics."""
        while True:
            for name, loop in self.loops.items():
                metrics.set_running(name, len(loop.running))
            metrics.flush()
            await asyncio.sleep(METRICS_PERIOD_S)

    async def _heartbeat(self) -> None:
        period = self.settings.queue_lease_seconds / 3
        while True:
            await asyncio.sleep(period)
            await self._release_orphans(min_age=period)
            sent = asyncio.get_running_loop().time()
            try:
                async with self.acks.paused():  # never beside an ack on the same rows
                    claims = self.running_claims() + self.acks.unacked_claims()
                    rows = await self.pool.fetch(
                        sql("heartbeat"), [c.task_id for c in claims],
                        [c.lease_token for c in claims], self.worker_id,
                        self.settings.queue_lease_seconds) if claims else []
            except DB_ERRORS as exc:
                log.warning("heartbeat failed (%s): %s", type(exc).__name__, exc)
                continue
            self.renewed_at = sent
            lost = set(claims) - {Claim(row["id"], row["lease_token"]) for row in rows}
            for loop in self.loops.values():
                for claim in lost.intersection(loop.running):
                    loop.lose_lease(claim)

    async def _release_orphans(self, min_age: float) -> None:
        """Hand back rows left in this worker's name by a claim whose answer was lost."""
        try:
            async with self.pool.acquire() as conn:
                if self.claims_in_flight:
                    return  # rows of a claim on its way are ours but not registered yet
                known = self.running_claims() + self.acks.unacked_claims()
                rows = await conn.fetch(sql("release_orphans"), self.worker_id,
                                        [c.task_id for c in known],
                                        [c.lease_token for c in known], min_age)
        except DB_ERRORS as exc:
            log.warning("orphan check failed (%s): %s", type(exc).__name__, exc)
            return
        if rows:
            log.warning("took back %d tasks whose claim answer was lost", len(rows))

    async def _listen(self) -> None:
        """Keep one LISTEN connection; reconnect when it drops."""
        url = self.settings.session_database_url()
        if self.settings.queue_poll_only or not url:
            return
        while True:
            conn: asyncpg.Connection | None = None
            try:
                conn = await _connect_listener(url, self._on_notify)
                self.listening = True
                while not conn.is_closed():
                    await asyncio.sleep(1)
                    await conn.execute("SELECT 1")
            except DB_ERRORS as exc:
                log.warning("LISTEN connection lost (%s); polling until it is back", exc)
            finally:
                self.listening = False
                if conn is not None and not conn.is_closed():
                    conn.terminate()
            await asyncio.sleep(1)

    def _on_notify(self, conn: Any, pid: int, channel: str, flow: str) -> None:
        loop = self.loops.get(flow)
        if loop is not None:
            loop.wake.set()

    async def _report(self) -> None:
        last, period = 0, 10.0
        while True:
            await asyncio.sleep(period)
            done = sum(loop.done for loop in self.loops.values())
            if done != last:
                log.info("worker %s: %d tasks finished in the last %.0fs (%d running)",
                         self.worker_id, done - last, period, len(self.running_claims()))
                last = done


async def _connect_listener(url: str, callback: Any) -> asyncpg.Connection:
    conn = await asyncpg.connect(asyncpg_dsn(url), timeout=10)
    await conn.add_listener(NOTIFY_CHANNEL, callback)
    return conn


async def _connect_with_retry(url: str, size: int) -> asyncpg.Pool:
    for attempt in range(1, 31):
        try:
            # Flow handlers share this pool: they must change no session state (see
            # create_pool), which lets releases skip the reset round trip.
            return await create_pool(url, min_size=1, max_size=size, light_reset=True)
        except DB_ERRORS as exc:
            log.warning("database not reachable (%s), retrying", exc)
            await asyncio.sleep(min(5.0, 0.2 * attempt))
    raise RuntimeError("database not reachable")


def run_worker_process(flows: list[Flow], settings: Settings) -> None:
    """Entry point of a forked worker process: uvloop, signal handlers, run until stopped."""
    run_process(settings, lambda: WorkerRuntime(settings, flows))
