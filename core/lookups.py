"""What a platform can look up for Beat's generic endpoints (profiles, posts, the links report,
watchlists): the `Lookups` a platform fills in, and the values they answer with."""

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any


class InvalidId(ValueError):
    """A path parameter is not a well-formed identifier for this platform (answered 422)."""


Row = dict[str, Any]
Fetch = Callable[[Any], Awaitable[Row | None]]  # (asyncpg pool) -> stored row or None


@dataclass(frozen=True, slots=True)
class Refresh:
    """The task that refreshes one item: enqueued at high priority, deduplicated by `key`, and
    held to the live limits per `live_target` when that is set."""

    flow: str
    params: dict[str, Any]
    key: str
    live_target: str | None = None


@dataclass(frozen=True, slots=True)
class Lookup:
    """How to read one stored item and how to refresh it (its row has `refreshed_at`)."""

    fetch: Fetch
    refresh: Refresh


Page = tuple[list[Row], str | None]  # items and the next cursor


@dataclass(frozen=True, slots=True)
class RecentPosts:
    """A profile's posts: `freshness` reads the profile's posts-refreshed mark and refreshes
    them; `page(pool, cursor, limit)` reads one page, newest first (InvalidId for a cursor it
    did not give)."""

    freshness: Lookup
    page: Callable[[Any, str | None, int], Awaitable[Page]]


@dataclass(frozen=True, slots=True)
class LinkFigures:
    """The numbers a links report shows for one stored item (core/reports): None where the
    platform does not say (never 0 for unknown). For a post, `author` is its page, channel or
    account name and `followers` that account's count when its row is stored; when it is not,
    `author_refresh` is the cheapest refresh that stores the author's followers."""

    author: str | None = None
    followers: int | None = None
    likes: int | None = None
    comments: int | None = None
    shares: int | None = None
    views: int | None = None
    caption: str | None = None
    published_at: datetime | None = None
    thumbnail_url: str | None = None
    author_refresh: Refresh | None = None
    # True when `thumbnail_url` is Beat's stored copy (the assets worker's), not the
    # platform's own image URL (core/stored.thumbnail).
    thumbnail_stored: bool = False


Freshness = Callable[[Any, str, Sequence[str]], Awaitable[dict[str, datetime]]]

# (asyncpg pool, stored row of a `Lookups.link` lookup) -> its figures. Async because a post's
# followers live on its author's row, a second read.
Figures = Callable[[Any, Row], Awaitable[LinkFigures]]


@dataclass(frozen=True)
class Lookups:
    """What a platform can look up for the generic endpoints; None where it cannot. Each
    callable raises InvalidId for an identifier that cannot be one of the platform's."""

    profile_by_handle: Callable[[str], Lookup] | None = None
    profile_by_profile_id: Callable[[str], Lookup] | None = None
    # Beat's own row id -> the platform's profile id (None: not stored).
    profile_id_of_row: Callable[[Any, int], Awaitable[str | None]] | None = None
    post_by_shortcode: Callable[[str], Lookup] | None = None
    post_by_type: Callable[[str, str], Lookup] | None = None  # (post_type, code)
    recent_posts: Callable[[str, int], RecentPosts] | None = None  # (profile id, limit)
    # A profile's own analytics by handle: its insights (reach, impressions, ...) and its
    # audience (demographics); each row is {profile_id, handle, insights, source, refreshed_at}.
    profile_insights: Callable[[str], Lookup] | None = None
    audience_insights: Callable[[str], Lookup] | None = None
    # The links report: (kind, id) as the URL router gives them -> the Lookup reading and
    # refreshing that item (InvalidId for a kind the platform cannot report, e.g. a playlist),
    # and a stored row of it -> its LinkFigures.
    link: Callable[[str, str], Lookup] | None = None
    figures: Figures | None = None
    # Watchlists and the scheduler: (pool, kind, ids as the URL router gives them) -> when each
    # stored one was last refreshed (ids not stored are left out), in one read per kind.
    freshness: Freshness | None = None
    # Watchlists: kind -> (id -> the Refresh keeping that collection's posts fresh) for the
    # collections the platform can keep fresh as one watched item (a YouTube playlist, an
    # Instagram hashtag); InvalidId for a malformed id. A collection has no stored row of its
    # own: the scheduler records when its refresh last completed (core/scheduler/outcomes.py).
    collections: Mapping[str, Callable[[str], Refresh]] | None = None
    profile_model: type[Any] | None = None  # pydantic models of the answers (OpenAPI)
    post_model: type[Any] | None = None

    def capabilities(self) -> list[str]:
        """The lookups this platform can do, in declaration order."""
        return [name for name in self.__dataclass_fields__
                if not name.endswith("_model") and getattr(self, name) is not None]

    def is_collection(self, kind: str) -> bool:
        return self.collections is not None and kind in self.collections

    def can_refresh(self, kind: str) -> bool:
        """Whether a watched item of this kind has a refresh: a collection's, or `link`'s."""
        return self.is_collection(kind) or self.link is not None

    def can_watch(self, kind: str) -> bool:
        """Whether the scheduler can keep items of this kind fresh: a collection, or an item
        the links report reads (`link`) whose freshness the platform stores (`freshness`)."""
        return self.is_collection(kind) or (self.link is not None
                                            and self.freshness is not None)

    def watch_refresh(self, kind: str, ident: str) -> Refresh:
        """The refresh keeping a watched item fresh: its collection's, else its `link`'s;
        InvalidId when it has none."""
        if self.collections is not None and kind in self.collections:
            return self.collections[kind](ident)
        if self.link is None:
            raise InvalidId(f"no refresh for a {kind}")
        return self.link(kind, ident).refresh
