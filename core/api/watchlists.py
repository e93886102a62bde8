"""Watchlists over HTTP: create, read and delete a watchlist, and add, list and remove its
items (up to 10,000 a request, by pasted URL or by platform, kind and id: videos, posts,
profiles, and the collections a platform keeps fresh, e.g. YouTube playlists and Instagram
hashtags). An item that cannot be one (a URL no platform serves, a kind its platform cannot keep
fresh, a malformed id) is answered in `rejected` with its index and reason; the others are
stored. Watchlists span every account: a key limited to accounts may not use them."""

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response, status
from pydantic import Field

from core.api.deps import QueueDep, SettingsDep
from core.api.errors import invalid
from core.platforms import registry
from core.validation import SafeStr, StrictModel
from core.watchlists import store
from core.watchlists.freshness import freshness
from core.watchlists.items import MAX_ITEMS, ItemIn, resolve_items

router = APIRouter(tags=["watchlists"])

Name = Annotated[str, Path(pattern=f"^{store.NAME.pattern}$", description=store.NAME_RULE)]


class WatchlistIn(StrictModel):
    description: SafeStr | None = Field(default=None, max_length=1000)


class Watchlist(StrictModel):
    name: str
    description: str | None = None
    items: int
    created_at: datetime
    by_platform: dict[str, int] | None = None


class ItemsIn(StrictModel):
    items: list[ItemIn] = Field(min_length=1, max_length=MAX_ITEMS)


class RejectedItem(StrictModel):
    index: int
    input: str
    reason: str


class ItemsAdded(StrictModel):
    added: int
    updated: int = Field(description="already there: importance and max age replaced")
    rejected: list[RejectedItem]


class ItemsRemoved(StrictModel):
    removed: int
    rejected: list[RejectedItem]


class ItemOut(StrictModel):
    platform: str
    kind: str
    id: str
    importance: float
    max_age_s: int
    added_at: datetime
    failures: int = Field(0, description="its refreshes failed in a row (0: the last one "
                                         "went through, or none ran yet)")
    retry_at: datetime | None = Field(None, description="backing off: not refreshed again "
                                                        "before this")
    error_kind: str | None = Field(None, description="the last failure's kind (not_found, …)")
    last_error: str | None = None


class ItemsPage(StrictModel):
    items: list[ItemOut]
    next_cursor: str | None = None


class OldestItem(StrictModel):
    platform: str
    kind: str
    id: str
    importance: float
    max_age_s: int
    refreshed_at: datetime | None = Field(description="null: never refreshed")
    age_s: int | None


class BudgetNeed(StrictModel):
    source: str
    limit: str = Field(description="the budget (a quota summed over usable credentials, or a "
                                    "limit of the source); empty when none applies")
    unit: str = Field(description="units (of a quota) or calls")
    needed_per_day: int = Field(description="to refresh every item once per its target age")
    available_per_day: int | None = Field(description="what it allows a day past the "
                                                      "scheduler's reserve; null: no limit")
    enough: bool | None = Field(description="null: the budget could not be read")
    why: str | None = None


class FailingItem(StrictModel):
    platform: str
    kind: str
    id: str
    failures: int = Field(description="refreshes failed in a row")
    retry_at: datetime | None = Field(description="its next refresh not before this")
    error_kind: str | None
    last_error: str | None


class WatchlistFreshness(StrictModel):
    name: str
    at: datetime
    items: int
    fresh: int = Field(description="items refreshed within their target age")
    fresh_share: float
    fresh_share_weighted: float = Field(description="weighted by importance")
    never_refreshed: int
    oldest: OldestItem | None
    budgets: list[BudgetNeed]
    unbudgeted: int = Field(description="items whose refresh flow names no cost")
    not_tracked: dict[str, str] = Field(description="platforms whose items' freshness is "
                                                    "unknown, with why")
    backing_off: int = Field(description="items whose refreshes keep failing: their next "
                                         "attempt waits (doubling with each failure)")
    backing_off_worst: list[FailingItem] = Field(description="the worst of them (most "
                                                             "failures first), up to 5")


def _missing(exc: store.NoSuchWatchlist) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND,
                         detail=f"{exc}: create it with POST /watchlists/{{name}}")


def _out(summary: store.Summary) -> Watchlist:
    return Watchlist(name=summary.name, description=summary.description, items=summary.items,
                     created_at=summary.created_at, by_platform=summary.by_platform)


@router.get("/watchlists", response_model=list[Watchlist])
async def list_watchlists(queue: QueueDep) -> list[Watchlist]:
    """Every watchlist with its item count, by name."""
    return [_out(s) for s in await store.every(queue.pool)]


@router.post("/watchlists/{name}", response_model=Watchlist,
             responses={201: {"description": "Created"}, 200: {"description": "It existed"}})
async def create_watchlist(name: Name, response: Response, queue: QueueDep,
                           body: WatchlistIn | None = None) -> Watchlist:
    """Create a watchlist (201), or change its description (200)."""
    summary, created = await store.create(queue.pool, name, body.description if body else None)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return _out(summary)


@router.get("/watchlists/{name}", response_model=Watchlist)
async def get_watchlist(name: Name, queue: QueueDep) -> Watchlist:
    """A watchlist with its item count per platform."""
    try:
        return _out(await store.summary(queue.pool, name))
    except store.NoSuchWatchlist as exc:
        raise _missing(exc) from None


@router.delete("/watchlists/{name}", status_code=204, response_class=Response)
async def delete_watchlist(name: Name, queue: QueueDep) -> Response:
    """Delete a watchlist and its items (the stored profiles and posts stay)."""
    try:
        await store.delete(queue.pool, name)
    except store.NoSuchWatchlist as exc:
        raise _missing(exc) from None
    return Response(status_code=204)


async def _resolved(settings: Any, body: ItemsIn) -> tuple[list[Any], list[RejectedItem]]:
    items, rejected = await resolve_items(settings, registry(settings), body.items)
    return items, [RejectedItem(**r.line()) for r in rejected]


@router.post("/watchlists/{name}/items", response_model=ItemsAdded)
async def add_items(name: Name, body: ItemsIn, queue: QueueDep,
                    settings: SettingsDep) -> ItemsAdded:
    """Add items (or give known ones a new importance and max age)."""
    try:
        await store.summary(queue.pool, name)
        items, rejected = await _resolved(settings, body)
        added, updated = await store.add_items(queue.pool, name, items)
    except store.NoSuchWatchlist as exc:
        raise _missing(exc) from None
    return ItemsAdded(added=added, updated=updated, rejected=rejected)


@router.delete("/watchlists/{name}/items", response_model=ItemsRemoved)
async def remove_items(name: Name, body: ItemsIn, queue: QueueDep,
                       settings: SettingsDep) -> ItemsRemoved:
    """Remove items, named as when added (importance and max age are ignored)."""
    try:
        await store.summary(queue.pool, name)
        items, rejected = await _resolved(settings, body)
        removed = await store.remove_items(queue.pool, name, items)
    except store.NoSuchWatchlist as exc:
        raise _missing(exc) from None
    return ItemsRemoved(removed=removed, rejected=rejected)


@router.get("/watchlists/{name}/items", response_model=ItemsPage)
async def list_items(name: Name, queue: QueueDep,
                     limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                     cursor: Annotated[SafeStr | None, Query(max_length=400,
                                                             description="next_cursor")] = None
                     ) -> ItemsPage:
    """One page of items, by platform, kind and id."""
    try:
        page, next_cursor = await store.items_page(queue.pool, name, cursor, limit)
    except store.NoSuchWatchlist as exc:
        raise _missing(exc) from None
    except store.BadCursor as exc:
        raise invalid(["query", "cursor"], str(exc)) from None
    return ItemsPage(items=[ItemOut(**item) for item in page], next_cursor=next_cursor)


@router.get("/watchlists/{name}/freshness", response_model=WatchlistFreshness)
async def watchlist_freshness(name: Name, request: Request, queue: QueueDep,
                              settings: SettingsDep) -> WatchlistFreshness:
    """How fresh the watchlist is: the share of items within their target age (weighted by
    importance and not), the oldest item, and per budget what keeping every item fresh would
    take a day against what it allows."""
    try:
        found = await freshness(queue.pool, settings, request.app.state.limiter, name,
                                datetime.now(UTC))
    except store.NoSuchWatchlist as exc:
        raise _missing(exc) from None
    return WatchlistFreshness(**found.line())
