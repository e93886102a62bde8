"""GET /events: the event stream from the outbox, for consumers without RabbitMQ (long-poll)."""

import asyncio
import time
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel

from core.api.deps import QueueDep
from core.events import Cursor, Event, InvalidCursor, read_after

router = APIRouter(tags=["events"])
POLL_S = 0.1
AFTER_HELP = "`next_cursor` of an earlier page (`<txid>-<id>`); absent, empty or 0: the start"


class EventPage(BaseModel):
    events: list[Event]
    next_cursor: str


@router.get("/events", response_model=EventPage)
async def events(queue: QueueDep, after: Annotated[str, Query(description=AFTER_HELP)] = "0",
                 limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                 wait: Annotated[float, Query(ge=0, le=30)] = 0) -> EventPage:
    """Events after `after`, in a stable order that never skips one: an event whose transaction
    is still running holds back the events behind it until it commits. With `wait`, an empty
    answer waits up to that many seconds for the next event."""
    try:
        cursor = Cursor.parse(after)
    except InvalidCursor as exc:  # the usual 422 shape, without echoing the input
        raise RequestValidationError([{"type": "value_error", "loc": ("query", "after"),
                                       "msg": str(exc)}]) from None
    deadline = time.monotonic() + wait
    while True:
        found, next_cursor = await read_after(queue.pool, cursor, limit)
        if found or time.monotonic() >= deadline:
            return EventPage(events=found, next_cursor=str(next_cursor))
        await asyncio.sleep(POLL_S)
