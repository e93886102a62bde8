"""Events as consumers see them, read from the outbox. An outbox row is one event, except a
`task.finished` row, which the ack of a batch writes for all the tasks it finished: it stands
for one event per task, each with its own stable event_id.

Readers page by cursor, a position `<txid>-<id>` in (inserting transaction id, outbox id) order,
and are only handed rows of transactions older than every transaction still running (see the
`after` query): a row that commits late is never behind a cursor that has moved on."""

import re
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

import asyncpg
from pydantic import BaseModel

from core import sqlfile

EXCHANGE = "beat.events"
SCHEMA_VERSION = 1
TASK_BATCH = "task.finished"
TASK_FIELDS = ("id", "flow", "platform", "status", "attempt", "account_id", "last_error",
               "error_kind")
LATER_TASK_FIELDS = frozenset({"error_kind"})  # rows written before these lack them
SQL = Path(__file__).with_name("sql") / "outbox.sql"
MAX_BIGINT = 2**63 - 1
CURSOR_FORMAT = re.compile(r"([0-9]{1,19})-([0-9]{1,19})")


class InvalidCursor(ValueError):
    """The cursor is not one this stream handed out."""


class Cursor(NamedTuple):
    """A position in the stream: after the outbox row `id` written by transaction `txid`."""

    txid: int
    id: int

    def __str__(self) -> str:
        return f"{self.txid}-{self.id}"

    @classmethod
    def parse(cls, text: str | None) -> "Cursor":
        """The cursor a page handed out as `next_cursor`; None, "" or "0" is the start."""
        if text is None or text.strip() in ("", "0"):
            return START
        found = CURSOR_FORMAT.fullmatch(text.strip())
        if found is None:
            raise InvalidCursor("a cursor is the next_cursor (or an event's cursor) of an "
                                "earlier page, `<txid>-<id>`, or 0 for the start")
        txid, row_id = int(found[1]), int(found[2])
        if txid > MAX_BIGINT or row_id > MAX_BIGINT:
            raise InvalidCursor(f"a cursor's numbers are at most {MAX_BIGINT}")
        return cls(txid, row_id)


START = Cursor(0, 0)


def events_queue(exchange: str, name: str) -> str:
    """The queue a consumer of the events exchange `exchange` (AMQP_EXCHANGE) binds: `name` on
    the default exchange, `<exchange>.<name>` on another, so that deployments sharing a broker
    under different exchanges never share a queue."""
    return name if exchange == EXCHANGE else f"{exchange}.{name}"


class Event(BaseModel):
    event_id: uuid.UUID
    type: str  # also the routing key: post.youtube.updated, profile.youtube.created, task.failed
    occurred_at: datetime
    platform: str | None = None
    entity_key: str | None = None
    changes: dict[str, Any] = {}
    source: str | None = None
    schema_version: int = SCHEMA_VERSION
    cursor: str  # GET /events?after=cursor resumes after this event's outbox row

    def body(self) -> bytes:
        return self.model_dump_json(exclude={"cursor"}).encode()


def expand(row: Any) -> list[Event]:
    """The events an outbox row stands for (a mapping with the outbox columns; their cursor is
    the row's when it has `cursor_txid`, else empty: the relay's claim does not read it)."""
    cursor = str(Cursor(row["cursor_txid"], row["id"])) if "cursor_txid" in row else ""
    if row["type"] != TASK_BATCH:
        return [Event(event_id=row["event_id"], type=row["type"],
                      occurred_at=row["occurred_at"], platform=row["platform"],
                      entity_key=row["entity_key"], changes=row["changes"],
                      source=row["source"], schema_version=row["schema_version"],
                      cursor=cursor)]
    return [Event(event_id=uuid.uuid5(row["event_id"], str(task["id"])),
                  type=f"task.{task['status'].lower()}", occurred_at=row["occurred_at"],
                  platform=task.get("platform"), entity_key=str(task["id"]), changes=task,
                  schema_version=row["schema_version"], cursor=cursor)
            for task in finished_tasks(row["changes"])]


def finished_tasks(changes: dict[str, Any]) -> list[dict[str, Any]]:
    """The tasks of a `task.finished` row: one array per field, element i of each belongs to
    task i (far cheaper for the ack statement to build than an object per task). A row written
    before a field existed (error_kind) reads it as None; rows written before that layout hold
    a list of objects under "tasks"."""
    if "tasks" in changes:
        return list(changes["tasks"])
    count = len(changes.get("id", []))
    columns = [(field, changes[field] if field in changes or field not in LATER_TASK_FIELDS
                else [None] * count) for field in TASK_FIELDS]
    return [{field: values[i] for field, values in columns} for i in range(count)]


async def read_after(pool: asyncpg.Pool, cursor: Cursor,
                     limit: int) -> tuple[list[Event], Cursor]:
    """Events of the outbox rows after `cursor` (up to `limit` rows), and the next cursor."""
    rows = await pool.fetch(sqlfile.load(SQL)["after"], cursor.txid, cursor.id, limit)
    events = [event for row in rows for event in expand(row)]
    return events, Cursor(rows[-1]["cursor_txid"], rows[-1]["id"]) if rows else cursor
