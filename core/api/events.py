"""GET /events: the event stream from the outbox, for consumers without RabbitMQ (long-poll)."""

import asyncio
import time
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from core.api.deps import QueueDep
from core.events import Event, read_after
from core.validation import INT64_MAX

router = APIRouter(tags=["events"])
POLL_S = 0.1


class EventPage(BaseModel):
    events: list[Event]
    next_cursor: int


@router.get("/events", response_model=EventPage)
async def events(queue: QueueDep, after: Annotated[int, Query(ge=0, le=INT64_MAX)] = 0,
                 limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                 wait: Annotated[float, Query(ge=0, le=30)] = 0) -> EventPage:
    """Events after `after` (a cursor from an earlier page, 0 for the start), oldest first.
    With `wait`, an empty answer waits up to that many seconds for the next event."""
    deadline = time.monotonic() + wait
    while True:
        found, cursor = await read_after(queue.pool, after, limit)
        if found or time.monotonic() >= deadline:
            return EventPage(events=found, next_cursor=cursor)
        await asyncio.sleep(POLL_S)
