"""One worker process: claims batches for its flows, runs each task as a coroutine, acks in batches.

Wake-up comes from LISTEN/NOTIFY with a polling fallback; running tasks keep their leases alive
with one heartbeat statement per process; SIGTERM stops claiming, lets running tasks finish
within the grace period and hands the rest back to PENDING.
"""

import asyncio
import logging
import os
import socket
import uuid
from typing import Any

import asyncpg
from pydantic import ValidationError

from core import errors
from core.acks import DB_ERRORS, Ack, AckBuffer
from core.config import Settings
from core.console import plural
from core.db import asyncpg_dsn, create_pool
from core.flows import Flow, TaskContext
from core.process import run_process
from core.progress import task_progress
from core.queue import NOTIFY_CHANNEL, Status, sql
from credentials import redact

log = logging.getLogger(__name__)


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class FlowLoop:
    """Claims and runs tasks of one flow within its concurrency budget."""

    def __init__(self, runtime: "WorkerRuntime", flow: Flow) -> None:
        self.runtime = runtime
        self.flow = flow
        self.running: dict[int, asyncio.Task[None]] = {}
        # One watchdog enforces the hard timeout: cheaper than a timer per task.
        self.deadlines: dict[int, float] = {}
        self.timed_out: set[int] = set()
        # When each running task was claimed (loop time at send), to know when its lease ends.
        self.claimed_at: dict[int, float] = {}
        self.lease_lost: set[int] = set()
        self.wake = asyncio.Event()
        self.slot_freed = asyncio.Event()
        self.done = 0

    async def run(self) -> None:
        rt, failures = self.runtime, 0
        while not rt.stopping:
            # Finished but unacknowledged tasks still hold their slot: acks apply backpressure.
            free = self.flow.concurrency - len(self.running) - len(rt.acks)
            if free <= 0:
                self.slot_freed.clear()
                await _wait(self.slot_freed, rt.settings.queue_poll_interval)
                continue
            want = min(free, rt.settings.queue_claim_batch)
            self.wake.clear()
            sent = asyncio.get_running_loop().time()
            rt.claims_in_flight += 1
            try:
                rows = await rt.pool.fetch(sql("claim_batch"), self.flow.name, want,
                                           rt.settings.queue_lease_seconds, rt.worker_id)
                failures = 0
            except DB_ERRORS as exc:
                failures += 1
                log.warning("claim for %s failed (%s): %s", self.flow.name, type(exc).__name__, exc)
                await asyncio.sleep(min(5.0, 0.1 * 2 ** failures))
                continue
            finally:
                rt.claims_in_flight -= 1
            deadline = sent + self.flow.timeout_s
            for row in rows:
                if row["status"] == Status.PROCESSING:
                    self.deadlines[row["id"]] = deadline
                    self.claimed_at[row["id"]] = sent
                    self.running[row["id"]] = asyncio.create_task(self.execute(row))
            # A short batch may only mean another worker held rows: sleep once a claim is empty.
            if not rows and not rt.stopping:
                await _wait(self.wake, rt.poll_interval)

    async def execute(self, row: asyncpg.Record) -> None:
        task_id, attempt = row["id"], row["retry_count"]
        try:
            ack = await self.outcome(row)
        except asyncio.CancelledError:
            if task_id in self.lease_lost:
                return  # another worker may hold it now: neither ack nor hand back
            if task_id not in self.timed_out:
                self.runtime.released.append(task_id)  # shutdown: hand it back
                raise
            asyncio.current_task().uncancel()  # type: ignore[union-attr]
            ack = Ack(task_id, attempt, Status.TIMEOUT,
                      error=f"timed out after {self.flow.timeout_s:g}s")
        finally:
            self.running.pop(task_id, None)
            self.deadlines.pop(task_id, None)
            self.claimed_at.pop(task_id, None)
            self.timed_out.discard(task_id)
            self.lease_lost.discard(task_id)
            self.slot_freed.set()
        self.done += 1
        self.runtime.acks.add(ack)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("task %d %s attempt %d -> %s", task_id, self.flow.name, attempt, ack.status)

    def cancel_unleased(self, now: float, renewed_at: float, lease: float) -> None:
        """Stop tasks whose lease this worker could not renew in time (database unreachable,
        or the reaper took them back): the reaper may hand them to another worker."""
        margin = min(1.0, lease / 10)
        for task_id, claimed in list(self.claimed_at.items()):
            if max(claimed, renewed_at) + lease - margin <= now:
                self.lose_lease(task_id)

    def lose_lease(self, task_id: int) -> None:
        task = self.running.get(task_id)
        if task is None or task_id in self.lease_lost:
            return
        self.lease_lost.add(task_id)
        task.cancel()
        log.warning("task %d (%s) lost its lease: stopped here, the reaper will retry it",
                    task_id, self.flow.name)

    def cancel_overdue(self, now: float) -> None:
        overdue = [task_id for task_id, deadline in self.deadlines.items() if deadline <= now]
        for task_id in overdue:
            self.deadlines.pop(task_id)
            self.timed_out.add(task_id)
            self.running[task_id].cancel()
            log.warning("task %d (%s) hit its %gs timeout: cancelled", task_id, self.flow.name,
                        self.flow.timeout_s)

    async def outcome(self, row: asyncpg.Record) -> Ack:
        task_id, attempt = row["id"], row["retry_count"]
        try:
            params = self.flow.params_model.model_validate(row["params"])
        except ValidationError as exc:
            return Ack(task_id, attempt, Status.FAILED, error=f"invalid params: {exc}")
        rt = self.runtime
        ctx = TaskContext(task_id, self.flow.name, attempt, rt.pool, log, rt.settings,
                          task_progress(rt.pool, sql("set_progress"), task_id, rt.worker_id,
                                        attempt))
        try:
            result = await self.flow.handler(params, ctx)
        except Exception as exc:  # noqa: BLE001 - every failure becomes an outcome
            await ctx.progress.flush()
            return failure_ack(task_id, attempt, row["max_attempts"], exc)
        await ctx.progress.flush()
        return Ack(task_id, attempt, Status.COMPLETE, data=result)


def failure_ack(task_id: int, attempt: int, max_attempts: int, exc: Exception) -> Ack:
    """Retry (PENDING after a backoff) or fail, by the error's class."""
    message = redact.scrub(f"{type(exc).__name__}: {exc}")[:2000]
    if isinstance(exc, errors.Permanent):
        return Ack(task_id, attempt, Status.FAILED, error=message)
    if isinstance(exc, errors.RateLimited):
        return Ack(task_id, attempt, Status.PENDING, error=message, delay=exc.retry_after,
                   refund=True)
    if attempt >= max_attempts:
        return Ack(task_id, attempt, Status.FAILED, error=message)
    return Ack(task_id, attempt, Status.PENDING, error=message,
               delay=errors.backoff_seconds(attempt))


async def _wait(event: asyncio.Event, timeout: float) -> None:
    try:
        await asyncio.wait_for(event.wait(), timeout)
    except TimeoutError:
        pass


class WorkerRuntime:
    """The event-loop side of a worker process for a set of flows."""

    def __init__(self, settings: Settings, flows: list[Flow], pool_size: int = 4) -> None:
        self.settings = settings
        self.loops = {f.name: FlowLoop(self, f) for f in flows}
        self.worker_id = new_worker_id()
        self.pool_size = pool_size
        self.stopping = False
        self.hurry = asyncio.Event()  # stop again: hand running tasks back without waiting
        self.released: list[int] = []
        self.pool: asyncpg.Pool
        self.acks: AckBuffer
        self.listening = False
        self.renewed_at = 0.0
        self.claims_in_flight = 0

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
                         plural(len(self.running_ids()), "running task"))
            self.hurry.set()
            return
        log.info("worker %s stopping: no new claims", self.worker_id)
        self.stopping = True
        for loop in self.loops.values():
            loop.wake.set()
            loop.slot_freed.set()

    def _slots_freed(self) -> None:
        for loop in self.loops.values():
            loop.slot_freed.set()

    def running_ids(self) -> list[int]:
        return [i for loop in self.loops.values() for i in loop.running]

    async def run(self) -> None:
        assert self.settings.database_url
        self.pool = await _connect_with_retry(self.settings.database_url, self.pool_size)
        self.acks = AckBuffer(self.pool, self.worker_id, self.settings.queue_ack_flush_ms,
                              max_rows=self.settings.queue_claim_batch,
                              on_flushed=self._slots_freed)
        helpers = [asyncio.create_task(c) for c in
                   (self.acks.run(), self._heartbeat(), self._listen(), self._report(),
                    self._watchdog())]
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
                            len(self.acks.unacked_ids()))
            for helper in helpers[1:]:
                helper.cancel()
            await self._release()
            await self.pool.close()
        log.info("worker %s stopped", self.worker_id)

    async def _drain(self) -> None:
        """Let running tasks finish within the grace period, then cancel the rest."""
        running = [t for loop in self.loops.values() for t in loop.running.values()]
        if not running:
            return
        if not self.hurry.is_set():
            log.info("worker %s: waiting up to %.0fs for %s to finish (a second Ctrl-C or "
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
            await asyncio.wait(late)

    async def _release(self) -> None:
        if not self.released:
            return
        try:
            await self.pool.execute(sql("release"), self.released, self.worker_id)
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

    async def _heartbeat(self) -> None:
        period = self.settings.queue_lease_seconds / 3
        while True:
            await asyncio.sleep(period)
            await self._release_orphans(min_age=period)
            sent = asyncio.get_running_loop().time()
            ids = self.running_ids() + self.acks.unacked_ids()
            if not ids:
                self.renewed_at = sent
                continue
            try:
                rows = await self.pool.fetch(sql("heartbeat"), ids, self.worker_id,
                                             self.settings.queue_lease_seconds)
            except DB_ERRORS as exc:
                log.warning("heartbeat failed (%s): %s", type(exc).__name__, exc)
                continue
            self.renewed_at = sent
            lost = set(ids) - {row["id"] for row in rows}
            for loop in self.loops.values():
                for task_id in lost.intersection(loop.running):
                    loop.lose_lease(task_id)

    async def _release_orphans(self, min_age: float) -> None:
        """Hand back rows left in this worker's name by a claim whose answer was lost."""
        try:
            async with self.pool.acquire() as conn:
                if self.claims_in_flight:
                    return  # rows of a claim on its way are ours but not registered yet
                known = self.running_ids() + self.acks.unacked_ids()
                rows = await conn.fetch(sql("release_orphans"), self.worker_id, known, min_age)
        except DB_ERRORS as exc:
            log.warning("orphan check failed (%s): %s", type(exc).__name__, exc)
            return
        if rows:
            log.warning("took back %d tasks whose claim answer was lost", len(rows))

    async def _listen(self) -> None:
        """Keep one LISTEN connection; reconnect when it drops."""
        if self.settings.queue_poll_only:
            return
        assert self.settings.database_url
        while True:
            conn: asyncpg.Connection | None = None
            try:
                conn = await _connect_listener(self.settings.database_url, self._on_notify)
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
                         self.worker_id, done - last, period, len(self.running_ids()))
                last = done


async def _connect_listener(url: str, callback: Any) -> asyncpg.Connection:
    conn = await asyncpg.connect(asyncpg_dsn(url), timeout=10)
    await conn.add_listener(NOTIFY_CHANNEL, callback)
    return conn


async def _connect_with_retry(url: str, size: int) -> asyncpg.Pool:
    for attempt in range(1, 31):
        try:
            return await create_pool(url, min_size=1, max_size=size)
        except DB_ERRORS as exc:
            log.warning("database not reachable (%s), retrying", exc)
            await asyncio.sleep(min(5.0, 0.2 * attempt))
    raise RuntimeError("database not reachable")


def run_worker_process(flows: list[Flow], settings: Settings) -> None:
    """Entry point of a forked worker process: uvloop, signal handlers, run until stopped."""
    run_process(settings, lambda: WorkerRuntime(settings, flows))
