"""Task progress: how far a long task is ({done, total, unit}), written to its row while it runs.

A handler calls `await ctx.progress.update(done, total, unit)` as often as it likes; the reporter
writes at most every `interval` seconds and once more when the handler ends, so progress costs
a few statements per task, not one per item. A write is best effort: when the database is busy
or the task is no longer this attempt's, the task goes on and the write is dropped.
"""

import logging
import time
from collections.abc import Awaitable, Callable

import asyncpg
from pydantic import BaseModel, Field

from core.db import DB_ERRORS

log = logging.getLogger(__name__)

WRITE_INTERVAL = 0.5  # seconds between two progress writes of one task


class Progress(BaseModel):
    """How far a task is: `done` of `total` (None while unknown) `unit`s."""

    done: int = Field(ge=0)
    total: int | None = Field(default=None, ge=0)
    unit: str = "items"

    def line(self) -> str:
        """`12/50 videos (24%)`, or `12 videos` while the total is unknown."""
        if self.total is None:
            return f"{self.done} {self.unit}"
        share = f" ({100 * self.done / self.total:.0f}%)" if self.total else ""
        return f"{self.done}/{self.total} {self.unit}{share}"


Write = Callable[[Progress], Awaitable[None]]


class ProgressReporter:
    """Throttles a task's progress updates into writes; without `write` it only keeps them
    (a handler run outside a worker, e.g. in a test)."""

    def __init__(self, write: Write | None = None, interval: float = WRITE_INTERVAL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._write = write
        self._interval = interval
        self._clock = clock
        self._written_at: float | None = None
        self._written: Progress | None = None
        self.current: Progress | None = None

    async def update(self, done: int, total: int | None = None, unit: str | None = None) -> None:
        """Set the progress; written now if the last write is `interval` old, else later."""
        unit = unit or (self.current.unit if self.current else "items")
        self.current = Progress(done=done, total=total, unit=unit)
        now = self._clock()
        if self._written_at is None or now - self._written_at >= self._interval:
            await self._send(now)

    async def flush(self) -> None:
        """Write the latest progress if it has not been written yet (the final write)."""
        if self.current is not None and self.current != self._written:
            await self._send(self._clock())

    async def _send(self, now: float) -> None:
        self._written_at = now
        self._written = self.current
        if self._write is None or self.current is None:
            return
        try:
            await self._write(self.current)
        except DB_ERRORS as exc:
            log.debug("progress write dropped (%s): %s", type(exc).__name__, exc)


def task_progress(pool: asyncpg.Pool, query: str, task_id: int,
                  lease_token: int) -> ProgressReporter:
    """A reporter writing to task `task_id` with `query` (the queue's `set_progress`), fenced on
    this claim's lease token: a task reaped and claimed again is not written to."""

    async def write(progress: Progress) -> None:
        await pool.execute(query, task_id, progress.model_dump(), lease_token)

    return ProgressReporter(write)
