"""One flow's share of a worker process: claim batches within the flow's concurrency, run each
task as a coroutine with its progress and checkpoint, enforce the flow's timeout and the lease,
and turn every outcome into an ack (retry, fail or complete, by the error's class)."""

import asyncio
import logging
import random
from typing import TYPE_CHECKING

import asyncpg
from pydantic import ValidationError

from core import errors, metrics
from core.acks import Ack, Claim
from core.checkpoint import task_checkpoint
from core.db import DB_ERRORS
from core.flows import Flow, TaskContext
from core.logcontext import bind_task
from core.progress import task_progress
from core.queue import Status, sql
from core.ratelimit import RateLimiterUnavailable
from credentials import redact

if TYPE_CHECKING:
    from core.worker_runtime import WorkerRuntime

log = logging.getLogger("core.worker_runtime")  # one logger for the whole worker process

LIMITER_RETRY_S = 5.0  # a task stopped by an unreachable rate limiter runs again about then


class FlowLoop:
    """Claims and runs tasks of one flow within its concurrency budget."""

    def __init__(self, runtime: "WorkerRuntime", flow: Flow) -> None:
        self.runtime = runtime
        self.flow = flow
        # Keyed by claim, not task id: a task taken back by the reaper may be claimed again by
        # this very worker while its first run still winds down.
        self.running: dict[Claim, asyncio.Task[None]] = {}
        # One watchdog enforces the hard timeout: cheaper than a timer per task.
        self.deadlines: dict[Claim, float] = {}
        # Timed-out runs, already acked TIMEOUT, and when they were cancelled: their coroutine
        # may still be unwinding (or ignoring the cancellation); whatever it returns is dropped.
        self.abandoned: dict[Claim, tuple[asyncio.Task[None], float]] = {}
        # When each running task was claimed (loop time at send), to know when its lease ends.
        self.claimed_at: dict[Claim, float] = {}
        self.lease_lost: set[Claim] = set()
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
                await wait_event(self.slot_freed, rt.settings.queue_poll_interval)
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
            metrics.tasks_claimed(self.flow.name, len(rows))
            for row in rows:
                if row["status"] == Status.PROCESSING:
                    claim = Claim(row["id"], row["lease_token"])
                    self.deadlines[claim] = deadline
                    self.claimed_at[claim] = sent
                    self.running[claim] = asyncio.create_task(self.execute(claim, row))
            # A short batch may only mean another worker held rows: sleep once a claim is empty.
            if not rows and not rt.stopping:
                await wait_event(self.wake, rt.poll_interval)

    async def execute(self, claim: Claim, row: asyncpg.Record) -> None:
        started = asyncio.get_running_loop().time()
        try:
            with bind_task(claim.task_id, self.flow.name, row["retry_count"]):
                ack = await self.outcome(claim, row)
        except asyncio.CancelledError:
            if claim in self.lease_lost or claim in self.abandoned:
                return  # another worker may hold it now, or its TIMEOUT is already recorded
            self.runtime.released.append(claim)  # shutdown: hand it back
            raise
        finally:
            self.forget(claim)
        if claim in self.abandoned:
            log.warning("task %d (%s) returned after its timeout: result dropped",
                        claim.task_id, self.flow.name)
            self.abandoned.pop(claim)
            return
        self.done += 1
        self.runtime.acks.add(ack)
        metrics.task_finished(self.flow.name, metrics.RETRY if ack.status == Status.PENDING
                              else ack.status.value,
                              asyncio.get_running_loop().time() - started)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("task %d %s attempt %d -> %s", claim.task_id, self.flow.name,
                      row["retry_count"], ack.status)

    def cancel_unleased(self, now: float, renewed_at: float, lease: float) -> None:
        """Stop tasks whose lease this worker could not renew in time (database unreachable,
        or the reaper took them back): the reaper may hand them to another worker."""
        margin = min(1.0, lease / 10)
        for claim, claimed in list(self.claimed_at.items()):
            if max(claimed, renewed_at) + lease - margin <= now:
                self.lose_lease(claim)

    def lose_lease(self, claim: Claim) -> None:
        task = self.running.get(claim)
        if task is None or claim in self.lease_lost:
            return
        self.lease_lost.add(claim)
        task.cancel()
        log.warning("task %d (%s) lost its lease: stopped here, the reaper will retry it",
                    claim.task_id, self.flow.name)

    def forget(self, claim: Claim) -> None:
        """Drop a run from the slot, lease and deadline bookkeeping."""
        self.running.pop(claim, None)
        self.deadlines.pop(claim, None)
        self.claimed_at.pop(claim, None)
        self.lease_lost.discard(claim)
        self.slot_freed.set()

    def cancel_overdue(self, now: float) -> None:
        """Cancel runs past their timeout and record TIMEOUT now, not when (or if) they stop:
        from here on the run holds no slot and no lease, and its own outcome is dropped."""
        overdue = [claim for claim, deadline in self.deadlines.items() if deadline <= now]
        for claim in overdue:
            task = self.running[claim]
            metrics.task_finished(self.flow.name, Status.TIMEOUT.value,
                                  now - self.claimed_at.get(claim, now))
            self.forget(claim)
            self.abandoned[claim] = (task, now)
            task.cancel()
            self.done += 1
            self.runtime.acks.add(Ack(*claim, Status.TIMEOUT,
                                      error=f"timed out after {self.flow.timeout_s:g}s",
                                      error_kind=errors.TIMEOUT))
            log.warning("task %d (%s) hit its %gs timeout: cancelled", claim.task_id,
                        self.flow.name, self.flow.timeout_s)

    def stuck(self, now: float, grace: float) -> list[Claim]:
        """Timed-out runs still going `grace` seconds after their cancellation."""
        for claim, (task, _) in list(self.abandoned.items()):
            if task.done():
                self.abandoned.pop(claim)
        return [claim for claim, (_, since) in self.abandoned.items() if now - since >= grace]

    async def outcome(self, claim: Claim, row: asyncpg.Record) -> Ack:
        attempt = row["retry_count"]
        try:
            params = self.flow.params_model.model_validate(row["params"])
        except ValidationError as exc:
            return Ack(*claim, Status.FAILED, error=f"invalid params: {exc}",
                       error_kind=errors.BadParams.kind)
        rt = self.runtime
        ctx = TaskContext(claim.task_id, self.flow.name, attempt, rt.pool, log, rt.settings,
                          task_progress(rt.pool, sql("set_progress"), claim.task_id,
                                        claim.lease_token),
                          task_checkpoint(rt.pool, sql("set_checkpoint"), claim.task_id,
                                          claim.lease_token, row["checkpoint"]),
                          claim.lease_token)
        try:
            result = await self.flow.handler(params, ctx)
        except Exception as exc:  # noqa: BLE001 - every failure becomes an outcome
            await ctx.progress.flush()
            return failure_ack(claim, attempt, row["max_attempts"], exc)
        await ctx.progress.flush()
        return Ack(*claim, Status.COMPLETE, data=result)


def failure_ack(claim: Claim, attempt: int, max_attempts: int, exc: Exception) -> Ack:
    """Retry (PENDING after a backoff) or fail, by the error's class; the ack records its kind."""
    message = redact.scrub(f"{type(exc).__name__}: {exc}")[:2000]
    kind = errors.kind_of(exc)
    if isinstance(exc, errors.Permanent):
        return Ack(*claim, Status.FAILED, error=message, error_kind=kind)
    if isinstance(exc, errors.RateLimited):
        return Ack(*claim, Status.PENDING, error=message, error_kind=kind,
                   delay=exc.retry_after, refund=True)
    if isinstance(exc, RateLimiterUnavailable):  # raised outside a director: a wait all the same
        return Ack(*claim, Status.PENDING, error=f"{message}: will run again", error_kind=kind,
                   delay=LIMITER_RETRY_S * random.uniform(0.5, 1.5), refund=True)
    if attempt >= max_attempts:
        return Ack(*claim, Status.FAILED, error=message, error_kind=kind)
    return Ack(*claim, Status.PENDING, error=message, error_kind=kind,
               delay=errors.backoff_seconds(attempt))


async def wait_event(event: asyncio.Event, timeout: float) -> None:
    """Wait for `event`, at most `timeout` seconds."""
    try:
        await asyncio.wait_for(event.wait(), timeout)
    except TimeoutError:
        pass
