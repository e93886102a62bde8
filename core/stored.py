"""What every platform's lookups share (core/platforms.py Lookups): the common fields of a stored
row as the generic endpoints answer it, and a profile's posts read newest first one keyset page
at a time, with the opaque cursor the API hands out."""

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from core.lookups import Freshness, InvalidId, Page
from core.validation import INT64_MAX, check_timestamp

BAD_CURSOR = "cursor is not a next_cursor this API gave"
PageReader = Callable[[Any, str | None, int], Awaitable[Page]]


class StoredRow(BaseModel):
    """A stored profile or post: each platform's answer model adds its `platform` literal (the
    discriminator of the answers) and its own columns; columns it does not name pass through."""

    model_config = ConfigDict(extra="allow")

    id: int
    source: str | None = None
    metric_sources: dict[str, Any] = {}
    created_at: datetime
    updated_at: datetime
    refreshed_at: datetime | None = None


def newest_first(query: str, owner: str, time_column: str) -> PageReader:
    """The page reader of `owner`'s posts: `query` takes (owner, after time, after row id,
    limit) and orders by (`time_column`, id) descending; the cursor is that pair of the last
    row of the page, "time|id"."""

    async def page(pool: Any, cursor: str | None, size: int) -> Page:
        after_time, after_id = decode_cursor(cursor)
        rows = await pool.fetch(query, owner, after_time, after_id, size + 1)
        items = [dict(r) for r in rows[:size]]
        next_cursor = None
        if len(rows) > size and items[-1][time_column] is not None:
            next_cursor = f"{items[-1][time_column].isoformat()}|{items[-1]['id']}"
        return items, next_cursor

    return page


def decode_cursor(cursor: str | None) -> tuple[datetime | None, int | None]:
    """(time, row id) of a cursor `newest_first` gave; InvalidId for anything else."""
    if cursor is None:
        return None, None
    moment, _, row_id = cursor.rpartition("|")
    try:
        after_time, after_id = check_timestamp(datetime.fromisoformat(moment)), int(row_id)
    except ValueError:
        raise InvalidId(BAD_CURSOR) from None
    if not 1 <= after_id <= INT64_MAX:
        raise InvalidId(BAD_CURSOR)
    return after_time, after_id


def freshness_of(sql: Callable[[str], str], key_of: Callable[[str, str], tuple[str, str]]
                 ) -> Freshness:
    """A platform's `Lookups.freshness`: `key_of(kind, id)` names the query (by name, read with
    `sql`) answering (key, refreshed_at) rows for a text[] of keys, and the id's key in it;
    one read per query."""

    async def freshness(pool: Any, kind: str, ids: Sequence[str]) -> dict[str, datetime]:
        by_query: dict[str, dict[str, str]] = {}  # query -> {given id: key}
        for ident in ids:
            query, key = key_of(kind, ident)
            by_query.setdefault(query, {})[ident] = key
        found: dict[str, datetime] = {}
        for query, keys in by_query.items():
            stored = await refreshed_at(pool, sql(query), sorted(set(keys.values())))
            found.update({ident: stored[key] for ident, key in keys.items() if key in stored})
        return found

    return freshness


async def refreshed_at(pool: Any, query: str, keys: Sequence[str]) -> dict[str, datetime]:
    """{key: refreshed_at} of `query`, which takes a text[] of keys and answers rows of
    (key, refreshed_at), the latest when a key has several rows (keys not stored are absent)."""
    if not keys:
        return {}
    found: dict[str, datetime] = {}
    for row in await pool.fetch(query, list(keys)):
        if row["refreshed_at"] is not None and (row["key"] not in found
                                                or row["refreshed_at"] > found[row["key"]]):
            found[row["key"]] = row["refreshed_at"]
    return found


AttachAsset = Callable[[Any, str, str, str], Awaitable[int]]


def thumbnail(row: Mapping[str, Any], *columns: str) -> dict[str, Any]:
    """A stored row's thumbnail for LinkFigures: the stored copy of its image (`asset_url`, the
    assets worker's) when there is one, else the first of the platform's own image URLs in
    `columns` that is set."""
    if row.get("asset_url"):
        return {"thumbnail_url": row["asset_url"], "thumbnail_stored": True}
    own = next((row[column] for column in columns if row.get(column)), None)
    return {"thumbnail_url": own, "thumbnail_stored": False}


def asset_attacher(queries: Mapping[str, str]) -> AttachAsset:
    """A platform's `attach_asset` hook (the assets worker's): `queries` maps the router's kind
    to an UPDATE setting `asset_url = $2` on the row(s) of item `$1`. The hook answers how many
    rows it updated (0: not stored, or a kind that has no row of its own)."""

    async def attach_asset(conn: Any, kind: str, item_id: str, url: str) -> int:
        query = queries.get(kind)
        if query is None:
            return 0
        status: str = await conn.execute(query, item_id, url)
        return int(status.rpartition(" ")[2] or 0)

    return attach_asset
