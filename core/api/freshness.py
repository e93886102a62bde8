"""Answer from stored data when it is fresh enough; otherwise enqueue a high-priority refresh,
wait a bounded time for it, and answer with the new data, 404 (the platform has no such item)
or 202 with the task to poll."""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from math import ceil
from typing import Any

from fastapi import HTTPException, status
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from core.config import Settings
from core.errors import NotFound
from core.queue import NewTask, Queue, Status, Task
from core.ratelimit import Limit, RateLimiter, RateLimiterUnavailable, parse_limit
from core.validation import RESERVED_KEY_PREFIX

REFRESH_PRIORITY = 100
LIMITER_DOWN = "rate limiter unavailable (failing closed): retry in a few seconds"
log = logging.getLogger(__name__)
POLL_S = 0.05

Lookup = Callable[[], Awaitable[dict[str, Any] | None]]


async def wait_for(queue: Queue, task: Task, seconds: float) -> Task:
    deadline = time.monotonic() + seconds
    while task.status in (Status.PENDING, Status.PROCESSING) and time.monotonic() < deadline:
        await asyncio.sleep(POLL_S)
        task = await queue.get(task.id) or task
    return task


def not_found(task: Task) -> bool:
    """Whether the task failed because the platform has no such item."""
    return task.status == Status.FAILED and task.error_kind == NotFound.kind


def is_fresh(row: dict[str, Any] | None, max_age: float) -> bool:
    refreshed = row.get("refreshed_at") if row else None
    return refreshed is not None and refreshed > datetime.now(UTC) - timedelta(seconds=max_age)


@dataclass(frozen=True)
class LiveLimits:
    """The limits a live refresh must fit in (e.g. 1/s per handle, 60/min, 20,000/day): a
    refusal answers 429 with Retry-After, an unreachable limiter 503."""

    limiter: RateLimiter | None
    limits: tuple[Limit, ...]

    async def admit(self) -> None:
        if self.limiter is None:
            return
        try:
            decision = await self.limiter.acquire(self.limits)
        except RateLimiterUnavailable as exc:  # the reason names the Redis host: logs only
            log.warning("live refresh refused: %s", exc)
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=LIMITER_DOWN) from None
        if not decision.granted:
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                detail=f"live refresh limit {decision.refused_by} reached: retry in "
                       f"{decision.wait_s:.1f}s",
                headers={"Retry-After": str(ceil(decision.wait_s))})


def live_limits(settings: Settings, limiter: RateLimiter | None, target: str) -> LiveLimits:
    """LIVE_REFRESH_LIMITS for all live refreshes plus LIVE_REFRESH_HANDLE_LIMIT per target."""
    specs = [f"live:{spec}" for spec in settings.live_refresh_limits]
    specs.append(f"live:target:{target}:{settings.live_refresh_handle_limit}")
    return LiveLimits(limiter, tuple(parse_limit(spec) for spec in specs))


async def fresh_or_refresh(queue: Queue, lookup: Lookup, refresh: NewTask, max_age: float,
                           wait: float, limits: LiveLimits | None = None
                           ) -> dict[str, Any] | JSONResponse:
    """The stored row when fresh (or once refreshed in time); HTTPException 404 when the
    platform has no such item; else a 202 answer with the task."""
    row = await lookup()
    if is_fresh(row, max_age):
        return row  # type: ignore[return-value]
    if limits is not None:
        await limits.admit()
    task, _ = await queue.enqueue(refresh)
    task = await wait_for(queue, task, wait)
    if task.status == Status.COMPLETE:
        row = await lookup()
        if row is not None:
            return row
    if not_found(task):
        # last_error is "<exception class>: <message>"; the message alone answers the 404
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            detail=(task.last_error or "").partition(": ")[2] or task.last_error)
    return JSONResponse(jsonable_encoder({"task_id": task.id, "status": task.status,
                                          "last_error": task.last_error,
                                          "error_kind": task.error_kind, "stale": row}),
                        status_code=status.HTTP_202_ACCEPTED)


def refresh_task(flow: str, platform: str, params: dict[str, Any], key: str,
                 max_attempts: int = 3) -> NewTask:
    """A high-priority refresh, deduplicated while one for the same item is queued or running
    (under a key in Beat's own namespace, which callers' tasks cannot take)."""
    return NewTask(flow=flow, params=params, platform=platform, priority=REFRESH_PRIORITY,
                   idempotency_key=RESERVED_KEY_PREFIX + key, max_attempts=max_attempts)
