"""What the sandbox's keyless web JSON and RapidAPI-style provider share: the Instagram world of
the app's seed, their cursors and page counts, and the share links of media.

Cursors are opaque but stable: a page's cursor is a pure function of (listing, subject, offset),
so asking the page at any cursor is as cheap as the first (a 1M-follower account included) and
the same page always names the same next cursor. Every page asked is counted in the sandbox's
usage as "<route> <cursor or ->" (GET /_sandbox/usage, "pages"), for tests that resume.

Share links (https://www.instagram.com/share/p/{code}/ and /share/reel/{code}/) redirect to the
media's URL; a share code is the media's pk masked with a seed-derived number, in base 62, so
the mapping is deterministic and invertible without a table.
"""

from starlette.requests import Request

from sandbox.instagram.media import Media
from sandbox.instagram.world import World
from sandbox.pages import continuation, read_continuation
from sandbox.rng import digest
from sandbox.state import state_of

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_MASK_BITS = 62


def world_of(request: Request) -> World:
    """The app's Instagram world, the one its Graph API answers from."""
    world: World = request.app.state.instagram_graph.world
    return world


def count_page(request: Request, route: str, cursor: str | None) -> None:
    """Count one page of `route` asked at `cursor` (None: the first page)."""
    state_of(request).usage.pages[f"{route} {cursor or '-'}"] += 1


def cursor(listing: str, subject: str, offset: int) -> str:
    """The cursor of the page of `listing` about `subject` that starts at `offset`."""
    return continuation(listing, subject, offset)


def offset_of(token: str | None, listing: str, subject: str) -> int | None:
    """The offset a cursor names (0 without one); None for a cursor of another listing,
    subject, or one never made."""
    if not token:
        return 0
    parts = read_continuation(token, 3)
    if parts is None or parts[:2] != [listing, subject] or not parts[2].isdigit():
        return None
    return int(parts[2])


def share_code(seed: int, media: Media) -> str:
    """The share code of a media (what follows /share/p/ or /share/reel/)."""
    value = int(media.pk) ^ _mask(seed)
    out = ""
    while value:
        value, digit = divmod(value, 62)
        out = _BASE62[digit] + out
    return out or "0"


def shared_media(world: World, code: str) -> Media | None:
    """The media a share code names; None for a code no media has."""
    if not code or len(code) > 16 or any(c not in _BASE62 for c in code):
        return None
    value = 0
    for c in code:
        value = value * 62 + _BASE62.index(c)
    found = world.media_by_id(value ^ _mask(world.seed))
    if found is None or found.media_type == "story" or found.is_child:
        return None
    return found if share_code(world.seed, found) == code else None


def _mask(seed: int) -> int:
    return int.from_bytes(digest(seed, "share")[:8], "big") >> (64 - _MASK_BITS)
