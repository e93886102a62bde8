"""Watchlist items as callers give them (a pasted URL, or platform, kind and id) resolved to the
(platform, kind, id) Beat refreshes: URLs through the URL router (share links followed), each
item checked against its platform's lookups (`Lookups.watch_refresh`: a collection such as a
playlist or hashtag, or one item the links report reads) so that every stored item can be
refreshed. An item that cannot be one is rejected with its reason, never dropped silently."""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import Field, model_validator

from core.config import Settings
from core.links import Link, Router
from core.lookups import InvalidId
from core.platforms import LINK_KINDS, NotALink, Platform
from core.validation import SafeStr, StrictModel

MAX_ITEMS = 10_000
DAY_S = 86_400
FOLLOW_CONCURRENCY = 8


class ItemIn(StrictModel):
    """One item: `url`, or `platform`, `kind` and `id` as the URL router names them."""

    url: SafeStr | None = Field(default=None, max_length=2048)
    platform: SafeStr | None = Field(default=None, max_length=64)
    kind: SafeStr | None = Field(default=None, max_length=32)
    id: SafeStr | None = Field(default=None, max_length=256)
    importance: float = Field(default=1.0, gt=0, le=1_000_000,
                              description="how much its freshness matters (weights the order)")
    max_age_s: int = Field(default=DAY_S, ge=60, le=365 * DAY_S,
                           description="its target freshness: refreshed at most this long ago")

    @model_validator(mode="after")
    def _one_way(self) -> "ItemIn":
        named = (self.platform, self.kind, self.id)
        if self.url is None and None in named:
            raise ValueError("give url, or platform, kind and id")
        if self.url is not None and named != (None, None, None):
            raise ValueError("give url, or platform, kind and id, not both")
        return self


@dataclass(frozen=True, slots=True)
class Item:
    platform: str
    kind: str
    id: str
    importance: float = 1.0
    max_age_s: int = DAY_S


@dataclass(frozen=True, slots=True)
class Rejected:
    index: int
    input: str
    reason: str

    def line(self) -> dict[str, Any]:
        return {"index": self.index, "input": self.input, "reason": self.reason}


async def resolve_items(settings: Settings, platforms: dict[str, Platform],
                        given: Sequence[ItemIn]) -> tuple[list[Item], list[Rejected]]:
    """The items in order (the last of repeats wins), and the ones refused with why."""
    router = Router(platforms)
    gate = asyncio.Semaphore(FOLLOW_CONCURRENCY)

    async def one(index: int, item: ItemIn) -> Item | Rejected:
        async with gate:
            try:
                link = await _link(router, settings, platforms, item)
                _check(platforms[link.platform], link)
            except (NotALink, InvalidId) as exc:
                return Rejected(index, item.url or f"{item.platform}/{item.kind}/{item.id}",
                                str(exc))
        return Item(link.platform, link.kind, link.id, item.importance, item.max_age_s)

    done = await asyncio.gather(*(one(n, item) for n, item in enumerate(given)))
    items = {(i.platform, i.kind, i.id): i for i in done if isinstance(i, Item)}
    return list(items.values()), [r for r in done if isinstance(r, Rejected)]


async def _link(router: Router, settings: Settings, platforms: dict[str, Platform],
                item: ItemIn) -> Link:
    if item.url is not None:
        return await router.resolve_following(item.url, settings)
    assert item.platform is not None and item.kind is not None and item.id is not None
    platform = item.platform.lower()
    if platform not in platforms:
        raise NotALink(f"unknown platform {item.platform!r} (known: "
                       f"{', '.join(sorted(platforms))})")
    if item.kind not in LINK_KINDS:
        raise NotALink(f"unknown kind {item.kind!r} (one of {', '.join(LINK_KINDS)})")
    return Link("", platform, item.kind, item.id)


def _check(platform: Platform, link: Link) -> None:
    """InvalidId unless the platform can keep this item fresh: a collection it names
    (`Lookups.collections`: a playlist, a hashtag), or one item it reads and refreshes."""
    lookups = platform.load_lookups()
    if lookups is None or not lookups.can_refresh(link.kind):
        raise InvalidId(f"{platform.name} cannot refresh a {link.kind}")
    lookups.watch_refresh(link.kind, link.id)
