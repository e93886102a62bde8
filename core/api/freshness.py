"""Answer from stored data when it is fresh enough; otherwise enqueue a high-priority refresh,
wait a bounded time for it, and answer with the new data, 404 (the platform has no such item)
or 202 with the task to poll."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import HTTPException, status
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from core.queue import NewTask, Queue, Status, Task

REFRESH_PRIORITY = 100
POLL_S = 0.05

Lookup = Callable[[], Awaitable[dict[str, Any] | None]]


async def wait_for(queue: Queue, task: Task, seconds: float) -> Task:
    deadline = time.monotonic() + seconds
    while task.status in (Status.PENDING, Status.PROCESSING) and time.monotonic() < deadline:
        await asyncio.sleep(POLL_S)
        task = await queue.get(task.id) or task
    return task


def is_fresh(row: dict[str, Any] | None, max_age: float) -> bool:
    refreshed = row.get("refreshed_at") if row else None
    return refreshed is not None and refreshed > datetime.now(UTC) - timedelta(seconds=max_age)


async def fresh_or_refresh(queue: Queue, lookup: Lookup, refresh: NewTask, max_age: float,
                           wait: float) -> JSONResponse:
    row = await lookup()
    if is_fresh(row, max_age):
        return JSONResponse(jsonable_encoder(row))
    task, _ = await queue.enqueue(refresh)
    task = await wait_for(queue, task, wait)
    if task.status == Status.COMPLETE:
        row = await lookup()
        if row is not None:
            return JSONResponse(jsonable_encoder(row))
    if task.status == Status.FAILED and (task.last_error or "").startswith("NotFound"):
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            detail=(task.last_error or "").removeprefix("NotFound: "))
    return JSONResponse(jsonable_encoder({"task_id": task.id, "status": task.status,
                                          "last_error": task.last_error, "stale": row}),
                        status_code=status.HTTP_202_ACCEPTED)


def refresh_task(flow: str, platform: str, params: dict[str, Any], key: str,
                 max_attempts: int = 3) -> NewTask:
    """A high-priority refresh, deduplicated while one for the same item is queued or running."""
    return NewTask(flow=flow, params=params, platform=platform, priority=REFRESH_PRIORITY,
                   idempotency_key=key, max_attempts=max_attempts)
