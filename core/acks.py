"""Batched acknowledgements: finished attempts are written back in one statement per flush."""

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import asyncpg

from core.db import DB_ERRORS
from core.errors import UNSTORABLE_RESULT
from core.queue import Status, sql
from core.validation import check_json, storable_text

log = logging.getLogger(__name__)

MAX_RETRY_DELAY_S = 7 * 86400.0  # a retry runs within a week, whatever a Retry-After said


class Claim(NamedTuple):
    """One claim of a task: its id and the lease token claim_batch gave it. The token fences
    every write about the claim (ack, heartbeat, release) against later claims of the task."""

    task_id: int
    lease_token: int


@dataclass(frozen=True, slots=True)
class Ack:
    task_id: int
    lease_token: int  # of the claim that ran the attempt
    status: Status
    data: Any = None
    error: str | None = None
    error_kind: str | None = None  # what `error` is (core/errors.py)
    delay: float = 0.0  # seconds before a retry (status PENDING) may run
    refund: bool = False  # give the attempt back (rate-limited retries)


class AckBuffer:
    """Collects acks and flushes them every `flush_ms` or at `max_rows`, with up to `flushes`
    statements in flight (each claim is acked once, so batches never touch the same row and may
    land in any order), retrying on DB errors.

    Nothing is dropped: a failed flush puts its rows back and they are tried again until they
    are written or the buffer is closed (then the leases run out and the reaper takes the tasks
    back).
    """

    def __init__(self, pool: asyncpg.Pool, worker_id: str, flush_ms: float = 5.0,
                 max_rows: int = 1000, on_flushed: Callable[[], None] | None = None,
                 flushes: int = 3) -> None:
        self.pool = pool
        self.worker_id = worker_id
        self.flush_s = flush_ms / 1000
        self.max_rows = max_rows
        self.pending: list[Ack] = []
        self.in_flight: dict[int, list[Ack]] = {}  # by flush number
        self._slots = asyncio.Semaphore(flushes)
        self._flush_limit = flushes
        self._wake = asyncio.Event()
        self._closed = False
        self._given_up = False
        self._failures = 0
        self._flushes = 0
        self.flushed = 0
        self.refused = 0  # acks the database refused: their claims had lost their leases
        self.on_flushed = on_flushed

    def add(self, ack: Ack) -> None:
        self.pending.append(ack)
        self._wake.set()

    def __len__(self) -> int:
        return len(self.pending) + sum(map(len, self.in_flight.values()))

    @contextlib.asynccontextmanager
    async def paused(self) -> AsyncIterator[None]:
        """No ack statement runs meanwhile: those in flight finish first, new ones wait. The
        heartbeat renews the leases of unacknowledged claims; run beside an ack statement on
        the same rows, each locking them in its own order, the two could deadlock, and the
        loser would wait out deadlock_timeout first."""
        for taken in range(self._flush_limit):
            try:
                await self._slots.acquire()
            except BaseException:
                for _ in range(taken):
                    self._slots.release()
                raise
        try:
            yield
        finally:
            for _ in range(self._flush_limit):
                self._slots.release()

    def unacked_claims(self) -> list[Claim]:
        unacked = [*self.pending, *(a for batch in self.in_flight.values() for a in batch)]
        return [Claim(a.task_id, a.lease_token) for a in unacked]

    def _done(self) -> bool:
        return self._given_up or (self._closed and not self.pending and not self.in_flight)

    async def run(self) -> None:
        """Flush loop; returns once closed and empty (or closed and the database is gone)."""
        running: set[asyncio.Task[None]] = set()
        try:
            while not self._done():
                await self._wake.wait()
                if len(self.pending) < self.max_rows and not self._closed:
                    await asyncio.sleep(self.flush_s)
                self._wake.clear()
                if not self.pending:
                    continue
                await self._slots.acquire()
                if not self.pending or self._given_up:
                    self._slots.release()
                    continue
                self._flushes += 1
                self.in_flight[self._flushes], self.pending = self.pending, []
                task = asyncio.create_task(self._flush(self._flushes))
                running.add(task)
                task.add_done_callback(running.discard)
        finally:
            if running:
                await asyncio.gather(*running, return_exceptions=True)

    async def _flush(self, number: int) -> None:
        batch = self.in_flight[number]
        try:
            statuses, results, errors, kinds, delays = zip(*map(storable, batch), strict=True)
            applied = await self.pool.fetchval(
                sql("ack_batch"), [a.task_id for a in batch], [a.lease_token for a in batch],
                list(statuses), _nullable(results), _nullable(errors), _nullable(kinds),
                list(delays), [1 if a.refund else 0 for a in batch], self.worker_id)
            self._failures = 0
            self.flushed += len(batch)
            self._note_refused(len(batch) - applied)
            if self.on_flushed is not None:
                self.on_flushed()
        except DB_ERRORS as exc:
            self.pending[:0] = batch
            self._failures += 1
            log.warning("ack flush failed (%s), %d rows kept: %s", type(exc).__name__,
                        len(batch), exc)
            if self._closed and self._failures >= 3:
                self._given_up = True
            else:
                await asyncio.sleep(min(5.0, 0.1 * 2 ** self._failures))
        except BaseException:
            self.pending[:0] = batch
            raise
        finally:
            del self.in_flight[number]
            self._slots.release()
            self._wake.set()

    def _note_refused(self, refused: int) -> None:
        """Acks the database refused: their claims' leases were gone (this worker was cut off
        or frozen past its lease, the reaper took the tasks back and another claim holds or
        finished them). Nothing of theirs was written; say so, as it is how a worker that was
        away learns it was fenced off."""
        if refused:
            self.refused += refused
            log.warning("worker %s: %d acks refused, their leases are gone (the tasks were taken "
                        "back; another claim holds or finished them): results dropped",
                        self.worker_id, refused)

    async def close(self) -> None:
        self._closed = True
        self._wake.set()


def _nullable(column: tuple[str | None, ...]) -> list[str | None] | None:
    """The column, or NULL when every value in it is: unnest pads a NULL array with NULLs, and
    the ack statement (the queue's hot path) need not encode and decode a batch's worth of them
    (most batches carry no error, and no-op flows no result)."""
    return list(column) if any(value is not None for value in column) else None


def storable(ack: Ack) -> tuple[str, str | None, str | None, str | None, float]:
    """The status, result (JSON text), error text and kind, and retry delay to write for `ack`,
    as PostgreSQL can store them. Error text keeps NUL and lone surrogates spelled out; a delay
    (say, an upstream's Retry-After) is at most MAX_RETRY_DELAY_S; a result jsonb would refuse
    (NUL, lone surrogates, NaN, keys JSON cannot spell) fails its task saying why, as running
    it again would give the same result. One such ack must not hold up its batch."""
    error = None if ack.error is None else storable_text(ack.error)
    delay = min(ack.delay, MAX_RETRY_DELAY_S) if ack.delay >= 0 else 0.0  # NaN too: at once
    if ack.data is None:
        return ack.status.value, None, error, ack.error_kind, delay
    try:
        result = json.dumps(ack.data, default=str, allow_nan=False)
        if "\\u0000" in result or "\\ud" in result:  # rare: only then the full check
            check_json(json.loads(result), "result")
    except (TypeError, ValueError, RecursionError) as exc:
        return (Status.FAILED.value, None, storable_text(f"the result cannot be stored: {exc}"),
                UNSTORABLE_RESULT, 0.0)
    return ack.status.value, result, error, ack.error_kind, delay
