"""What every platform's lookups share (core/platforms.py Lookups): the common fields of a stored
row as the generic endpoints answer it, and a profile's posts read newest first one keyset page
at a time, with the opaque cursor the API hands out."""

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from core.platforms import InvalidId, Page
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
