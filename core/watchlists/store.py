"""Reading and writing watchlists (core/sql/watchlists.sql). Names are 1-64 letters, digits,
`.`, `_` and `-`, starting with a letter or digit."""

import base64
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core import sqlfile
from core.watchlists.items import Item

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
NAME_RULE = "1-64 letters, digits, '.', '_' and '-', starting with a letter or digit"
BAD_CURSOR = "cursor is not a next_cursor this API gave"
SQL = Path(__file__).parents[1] / "sql" / "watchlists.sql"


def sql(name: str) -> str:
    return sqlfile.load(SQL)[name]


class NoSuchWatchlist(LookupError):
    """No watchlist has this name."""


class BadCursor(ValueError):
    """The cursor was not one this store gave."""


def valid_name(name: str) -> bool:
    return NAME.fullmatch(name) is not None


@dataclass(frozen=True, slots=True)
class Summary:
    name: str
    description: str | None
    items: int
    created_at: Any
    by_platform: dict[str, int] | None = None

    def line(self) -> dict[str, Any]:
        line = {"name": self.name, "description": self.description, "items": self.items,
                "created_at": self.created_at.isoformat()}
        if self.by_platform is not None:
            line["by_platform"] = self.by_platform
        return line


async def create(pool: Any, name: str, description: str | None = None) -> tuple[Summary, bool]:
    """The watchlist (made now, or its description changed when given); True when new."""
    row = await pool.fetchrow(sql("upsert_watchlist"), name, description)
    return (await summary(pool, name)), bool(row["created"])


async def summary(pool: Any, name: str) -> Summary:
    row = await pool.fetchrow(sql("watchlist_by_name"), name)
    if row is None:
        raise NoSuchWatchlist(f"no watchlist {name!r}")
    counts = await pool.fetch(sql("items_by_platform"), row["id"])
    return Summary(row["name"], row["description"], row["items"], row["created_at"],
                   {r["platform"]: r["items"] for r in counts})


async def every(pool: Any) -> list[Summary]:
    return [Summary(r["name"], r["description"], r["items"], r["created_at"])
            for r in await pool.fetch(sql("watchlists"))]


async def delete(pool: Any, name: str) -> None:
    if await pool.fetchval(sql("delete_watchlist"), name) is None:
        raise NoSuchWatchlist(f"no watchlist {name!r}")


async def _id(pool: Any, name: str) -> int:
    found = await pool.fetchval("SELECT id FROM watchlist WHERE name = $1", name)
    if found is None:
        raise NoSuchWatchlist(f"no watchlist {name!r}")
    return int(found)


async def add_items(pool: Any, name: str, items: list[Item]) -> tuple[int, int]:
    """(added, updated): new items added, known ones given the new importance and max age."""
    watchlist = await _id(pool, name)
    if not items:
        return 0, 0
    row = await pool.fetchrow(
        sql("upsert_items"), watchlist, [i.platform for i in items], [i.kind for i in items],
        [i.id for i in items], [i.importance for i in items], [i.max_age_s for i in items])
    return int(row["added"]), int(row["updated"])


async def remove_items(pool: Any, name: str, items: list[Item]) -> int:
    watchlist = await _id(pool, name)
    removed = await pool.fetch(sql("delete_items"), watchlist, [i.platform for i in items],
                               [i.kind for i in items], [i.id for i in items])
    return len(removed)


async def items_page(pool: Any, name: str, cursor: str | None, limit: int
                     ) -> tuple[list[dict[str, Any]], str | None]:
    """One page of items in (platform, kind, id) order, and the cursor of the next (None at
    the end)."""
    watchlist = await _id(pool, name)
    after = _decode(cursor) if cursor else (None, None, None)
    rows = await pool.fetch(sql("items_page"), watchlist, *after, limit + 1)
    page = [{"platform": r["platform"], "kind": r["kind"], "id": r["item_id"],
             "importance": r["importance"], "max_age_s": r["max_age_s"],
             "added_at": r["added_at"], "failures": r["failures"], "retry_at": r["retry_at"],
             "error_kind": r["error_kind"], "last_error": r["last_error"]}
            for r in rows[:limit]]
    last = page[-1] if len(rows) > limit else None
    return page, _encode(last["platform"], last["kind"], last["id"]) if last else None


def _encode(*key: str) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[str, str, str]:
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, UnicodeDecodeError):
        raise BadCursor(BAD_CURSOR) from None
    if not (isinstance(key, list) and len(key) == 3 and all(isinstance(k, str) for k in key)):
        raise BadCursor(BAD_CURSOR)
    return key[0], key[1], key[2]
