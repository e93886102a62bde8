"""Where a long task got to (a cursor, a count), kept on its row so that the next attempt —
after a worker was killed, a timeout or a retry — resumes there instead of starting over.

A handler reads `ctx.checkpoint.state` (None on a fresh start) and calls
`await ctx.checkpoint.save(state)` after each unit of work is stored and before the next is
fetched: then at most the unit in flight is done twice. The write is fenced on the claim's
lease token like every other write of a running task.
"""

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from core.errors import LeaseLost

log = logging.getLogger(__name__)

State = dict[str, Any]
Write = Callable[[State], Awaitable[bool]]


class Checkpoint:
    """A task's saved state; without `write` (a handler run outside a worker) it is kept in
    memory only."""

    def __init__(self, state: State | None = None, write: Write | None = None) -> None:
        self.state = state
        self._write = write

    async def save(self, state: State) -> None:
        """Keep `state` for the next attempt, now (not throttled: a cursor saved late means
        pages fetched twice). LeaseLost when the task is no longer this run's."""
        self.state = state
        if self._write is not None and not await self._write(state):
            raise LeaseLost("the task was taken back from this run: stopping")


def task_checkpoint(pool: asyncpg.Pool, query: str, task_id: int, lease_token: int,
                    state: State | None) -> Checkpoint:
    """The checkpoint of task `task_id` as claimed (`state` from the claim), written with
    `query` (the queue's `set_checkpoint`) fenced on `lease_token`."""

    async def write(new: State) -> bool:
        return await pool.fetchval(query, task_id, new, lease_token) is not None

    if state is not None:
        log.info("task %d resumes from its checkpoint", task_id)
    return Checkpoint(state, write)
