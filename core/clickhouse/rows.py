"""An entity event as a row of `entity_snapshot` (ddl.sql): the new value of each changed
count (`metrics`) and text (`texts`); booleans count as 0/1, values that are neither are left
out, as are numbers beyond Int64."""

import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

ENTITY_KINDS = ("profile", "post", "comment")
ROUTING_KEYS = tuple(f"{kind}.#" for kind in ENTITY_KINDS)
COLUMNS = ("event_id", "occurred_at", "type", "kind", "platform", "entity_key", "created",
           "metrics", "texts", "source")
TABLE = "entity_snapshot"
INT64 = 2**63
DDL_FILE = Path(__file__).with_name("ddl.sql")

Row = dict[str, Any]


class NotASnapshot(ValueError):
    """The body is not an entity event the sink can write; str() says why."""


def ddl(database: str) -> list[str]:
    """The statements of ddl.sql for `database`, comments dropped."""
    text = DDL_FILE.read_text().replace("{database}", database)
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def snapshot_row(body: dict[str, Any]) -> Row:
    """The row of one event body as the relay publishes it (core/events.py)."""
    kind, _, rest = str(body.get("type", "")).partition(".")
    platform, _, change = rest.rpartition(".")
    if kind not in ENTITY_KINDS or not platform or change not in ("created", "updated"):
        raise NotASnapshot(f"not an entity event: {body.get('type')!r}")
    try:
        event_id = uuid.UUID(str(body["event_id"]))
        occurred_at = datetime.fromisoformat(str(body["occurred_at"]))
    except (KeyError, ValueError) as exc:
        raise NotASnapshot(f"event_id or occurred_at: {exc}") from None
    metrics, texts = _values(body.get("changes") or {})
    return {"event_id": event_id, "occurred_at": occurred_at, "type": body["type"],
            "kind": kind, "platform": platform, "entity_key": str(body.get("entity_key") or ""),
            "created": change == "created", "metrics": metrics, "texts": texts,
            "source": str(body.get("source") or "")}


def _values(changes: dict[str, Any]) -> tuple[dict[str, int], dict[str, str]]:
    metrics: dict[str, int] = {}
    texts: dict[str, str] = {}
    for field, value in changes.items():
        new = value[1] if isinstance(value, list) and len(value) == 2 else value
        if isinstance(new, bool):
            metrics[field] = int(new)
        elif isinstance(new, int) and -INT64 <= new < INT64:
            metrics[field] = new
        elif isinstance(new, str):
            texts[field] = new
    return metrics, texts


def queries(database: str) -> dict[str, str]:
    """The named queries of queries.sql over `database` (parameters bound by the server)."""
    from core.sqlfile import load

    return {name: text.replace("{database}", database)
            for name, text in load(Path(__file__).with_name("queries.sql")).items()}
