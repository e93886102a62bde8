"""Events as consumers see them, read from the outbox. An outbox row is one event, except a
`task.finished` row, which the ack of a batch writes for all the tasks it finished: it stands
for one event per task, each with its own stable event_id."""

import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
from pydantic import BaseModel

from core import sqlfile

EXCHANGE = "beat.events"
SCHEMA_VERSION = 1
TASK_BATCH = "task.finished"
SQL = Path(__file__).with_name("sql") / "outbox.sql"


class Event(BaseModel):
    event_id: uuid.UUID
    type: str  # also the routing key: post.youtube.updated, profile.youtube.created, task.failed
    occurred_at: datetime
    platform: str | None = None
    entity_key: str | None = None
    changes: dict[str, Any] = {}
    source: str | None = None
    schema_version: int = SCHEMA_VERSION
    cursor: int  # the outbox id: GET /events?after=cursor resumes after this event

    def body(self) -> bytes:
        return self.model_dump_json(exclude={"cursor"}).encode()


def expand(row: Any) -> list[Event]:
    """The events an outbox row stands for (a mapping with the outbox columns)."""
    if row["type"] != TASK_BATCH:
        return [Event(event_id=row["event_id"], type=row["type"],
                      occurred_at=row["occurred_at"], platform=row["platform"],
                      entity_key=row["entity_key"], changes=row["changes"],
                      source=row["source"], schema_version=row["schema_version"],
                      cursor=row["id"])]
    return [Event(event_id=uuid.uuid5(row["event_id"], str(task["id"])),
                  type=f"task.{task['status'].lower()}", occurred_at=row["occurred_at"],
                  platform=task.get("platform"), entity_key=str(task["id"]), changes=task,
                  schema_version=row["schema_version"], cursor=row["id"])
            for task in row["changes"].get("tasks", [])]


async def read_after(pool: asyncpg.Pool, cursor: int, limit: int) -> tuple[list[Event], int]:
    """Events of the outbox rows after `cursor` (up to `limit` rows), and the next cursor."""
    rows = await pool.fetch(sqlfile.load(SQL)["after"], cursor, limit)
    events = [event for row in rows for event in expand(row)]
    return events, rows[-1]["id"] if rows else cursor
