"""A platform for the scheduler's tests, defined in the test suite: its posts are refreshed one
by one (stored nowhere: never fresh) and its playlists as collections (their freshness is what
the scheduler records). Registered through BEAT_PLATFORMS or `core.platforms.register`."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from core.lookups import InvalidId, Lookup, Lookups, Refresh
from core.platforms import Platform


async def _nothing(pool: Any) -> None:
    return None


def _link(kind: str, ident: str) -> Lookup:
    if kind != "post":
        raise InvalidId(f"flaky has no {kind} links")
    return Lookup(_nothing, Refresh("flaky_post", {"id": ident}, f"flaky:post:{ident}"))


def _playlist(ident: str) -> Refresh:
    if not ident.isalnum():
        raise InvalidId(f"{ident!r} is not a flaky playlist id")
    return Refresh("flaky_playlist", {"id": ident}, f"flaky:playlist:{ident}")


async def _freshness(pool: Any, kind: str, ids: Sequence[str]) -> dict[str, datetime]:
    return {}


LOOKUPS = Lookups(link=_link, freshness=_freshness, collections={"playlist": _playlist})
PLATFORM = Platform(name="flaky", lookups="tests.scheduler.flaky:LOOKUPS")
