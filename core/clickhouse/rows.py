"""An entity event as a row of `entity_snapshot` (ddl.sql): the entity's full stored state
(`StoredState`: every count of its platform's entity table as `metrics`, its texts as `texts`,
with the time and source of the write that stored them), or, for an entity its platform
declares no table for (or no longer stored), the new values of the event's changed fields only
(`complete` false). Booleans count as 0/1; values that are neither numbers nor texts are left
out, as are numbers beyond Int64 and NULLs (unknown is not 0)."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

ENTITY_KINDS = ("profile", "post", "comment")
ROUTING_KEYS = tuple(f"{kind}.#" for kind in ENTITY_KINDS)
COLUMNS = ("event_id", "occurred_at", "stored_at", "type", "kind", "platform", "entity_key",
           "created", "complete", "changed", "metrics", "texts", "source")
TABLE = "entity_snapshot"
INT64 = 2**63
DDL_FILE = Path(__file__).with_name("ddl.sql")

Row = dict[str, Any]


class NotASnapshot(ValueError):
    """The body is not an entity event the sink can write; str() says why."""


@dataclass(frozen=True, slots=True)
class EntityEvent:
    """What the sink keeps of an event body as the relay publishes it (core/events.py)."""

    event_id: uuid.UUID
    occurred_at: datetime
    type: str
    kind: str
    platform: str
    entity_key: str
    created: bool
    changes: dict[str, Any]
    source: str


@dataclass(frozen=True, slots=True)
class StoredState:
    """An entity as its platform's table holds it: written at `stored_at` by `source`."""

    stored_at: datetime
    source: str
    metrics: dict[str, int]
    texts: dict[str, str]


def ddl(database: str) -> list[str]:
    """The statements of ddl.sql for `database`, comments dropped."""
    text = DDL_FILE.read_text().replace("{database}", database)
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def parse_event(body: dict[str, Any]) -> EntityEvent:
    """The entity event of one body; NotASnapshot for anything else."""
    kind, _, rest = str(body.get("type", "")).partition(".")
    platform, _, change = rest.rpartition(".")
    if kind not in ENTITY_KINDS or not platform or change not in ("created", "updated"):
        raise NotASnapshot(f"not an entity event: {body.get('type')!r}")
    try:
        event_id = uuid.UUID(str(body["event_id"]))
        occurred_at = datetime.fromisoformat(str(body["occurred_at"]))
    except (KeyError, ValueError) as exc:
        raise NotASnapshot(f"event_id or occurred_at: {exc}") from None
    changes = body.get("changes") or {}
    if not isinstance(changes, dict):
        raise NotASnapshot("changes is not an object")
    return EntityEvent(event_id, occurred_at, str(body["type"]), kind, platform,
                       str(body.get("entity_key") or ""), change == "created", changes,
                       str(body.get("source") or ""))


def snapshot_row(event: EntityEvent, state: StoredState | None) -> Row:
    """The row of `event`: the stored state when there is one, else the changed fields."""
    if state is None:
        metrics, texts = changed_values(event.changes)
        state = StoredState(event.occurred_at, event.source, metrics, texts)
        complete = False
    else:
        complete = True
    return {"event_id": event.event_id, "occurred_at": event.occurred_at,
            "stored_at": state.stored_at, "type": event.type, "kind": event.kind,
            "platform": event.platform, "entity_key": event.entity_key,
            "created": event.created, "complete": complete, "changed": sorted(event.changes),
            "metrics": state.metrics, "texts": state.texts, "source": state.source}


def changed_values(changes: dict[str, Any]) -> tuple[dict[str, int], dict[str, str]]:
    """The new value of each changed field ([old, new] pairs, or plain values), split into
    counts and texts."""
    return split_values({field: value[1] if isinstance(value, list) and len(value) == 2
                         else value for field, value in changes.items()})


def split_values(values: dict[str, Any]) -> tuple[dict[str, int], dict[str, str]]:
    """Counts (integers, booleans as 0/1) and texts of `values`; anything else left out."""
    metrics: dict[str, int] = {}
    texts: dict[str, str] = {}
    for field, value in values.items():
        if isinstance(value, bool):
            metrics[field] = int(value)
        elif isinstance(value, int) and -INT64 <= value < INT64:
            metrics[field] = value
        elif isinstance(value, str):
            texts[field] = value
    return metrics, texts


def queries(database: str) -> dict[str, str]:
    """The named queries of queries.sql over `database` (parameters bound by the server)."""
    from core.sqlfile import load

    return {name: text.replace("{database}", database)
            for name, text in load(Path(__file__).with_name("queries.sql")).items()}
