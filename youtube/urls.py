"""Recognise the YouTube URLs people paste (videos, channels, handles, playlists) as a YoutubeRef.

Look-alike hosts, other schemes, malformed ids and pages that name no single object are rejected
with NotYoutubeUrl, whose message is a one-line reason.
"""

import re
import unicodedata
from collections.abc import Callable, Mapping
from typing import Literal, NamedTuple
from urllib.parse import SplitResult, parse_qs, unquote

from core.links import host_of, split_url
from core.platforms import NotALink

Kind = Literal["video", "channel", "handle", "custom", "user", "playlist"]


class NotYoutubeUrl(NotALink):
    """The text is not a URL of one YouTube video, channel or playlist; str() gives the reason."""


class YoutubeRef(NamedTuple):
    """What a YouTube URL points at; `id` is as found in the URL (a handle without its '@')."""

    kind: Kind
    id: str


Segments = tuple[str, ...]
Query = Mapping[str, list[str]]
Route = Callable[[Segments, Query], YoutubeRef]

VIDEO_ID = re.compile(r"[A-Za-z0-9_-]{11}")
CHANNEL_ID = re.compile(r"UC[A-Za-z0-9_-]{22}")
# PL/UU/OLAK5uy_/RD… ids; the private 2-letter lists (WL watch later, LL liked) are excluded.
PLAYLIST_ID = re.compile(r"[A-Za-z0-9_-]{12,64}")
CHANNEL_TAB = re.compile(r"[a-z]+")  # /videos, /shorts, /streams, /featured, /playlists, …
_NAME_PUNCTUATION = frozenset("_-.·")


def parse_youtube_url(text: str) -> YoutubeRef:
    """Return the video, channel, handle, custom name, user or playlist that `text` links to."""
    if text.strip().startswith("@"):
        # X and Instagram handles look the same: a bare @name does not say which platform.
        raise NotYoutubeUrl("a bare @handle names no platform; paste youtube.com/@handle")
    try:
        url = split_url(text)
    except NotALink as exc:
        raise NotYoutubeUrl(str(exc)) from None
    if host_of(url) not in HOSTS:
        raise NotYoutubeUrl(f"{url.hostname!r} is not a supported YouTube host")
    return _route(url)


def is_youtube_url(text: str) -> bool:
    """True when parse_youtube_url(text) would succeed."""
    try:
        parse_youtube_url(text)
    except NotYoutubeUrl:
        return False
    return True


def resolve(url: SplitResult) -> tuple[str, str]:
    """The URL router's view (core/links.py) of a URL on a YouTube host: ("video", id),
    ("playlist", id) or ("profile", id) where a profile id is the channel id (UC…), "@handle",
    "c/name" or "user/name" as the URL carries it."""
    ref = _route(url)
    if ref.kind == "handle":
        return "profile", "@" + ref.id
    if ref.kind in ("custom", "user"):
        return "profile", f"{'c' if ref.kind == 'custom' else 'user'}/{ref.id}"
    return ("profile" if ref.kind == "channel" else ref.kind), ref.id


def _route(url: SplitResult) -> YoutubeRef:
    segments = tuple(unquote(part) for part in url.path.split("/") if part)
    return _HOSTS[host_of(url)](segments, parse_qs(url.query.replace("&amp;", "&"),
                                                   keep_blank_values=True))


def _youtube(path: Segments, query: Query) -> YoutubeRef:
    if not path:
        raise NotYoutubeUrl("the YouTube homepage is not a video, channel or playlist")
    head, rest = path[0], path[1:]
    if head.startswith("@"):
        return _channel_page("handle", head[1:], rest)
    page = _PAGES.get(head)
    if page is None:
        raise NotYoutubeUrl(f"/{head} is not a YouTube video, channel or playlist page")
    return page(rest, query)


def _music(path: Segments, query: Query) -> YoutubeRef:
    if path[:1] in (("watch",), ("playlist",), ("channel",)):
        return _youtube(path, query)
    raise NotYoutubeUrl("music.youtube.com: only /watch, /playlist and /channel are supported")


def _youtu_be(path: Segments, query: Query) -> YoutubeRef:
    # "youtu.be/ID&feature=share" (a '&' where '?' belongs) is a common mangled share link.
    return _ref("video", _only(path, "youtu.be").split("&", 1)[0])


def _nocookie(path: Segments, query: Query) -> YoutubeRef:
    if path[:1] != ("embed",):
        raise NotYoutubeUrl("youtube-nocookie.com: only /embed/<video id> is supported")
    return _embed(path[1:], query)


def _watch(rest: Segments, query: Query) -> YoutubeRef:
    if rest:  # youtube.com/watch/ID, redirected by YouTube to watch?v=ID
        return _ref("video", _only(rest, "watch"))
    return _ref("video", _param(query, "v", "watch"))


def _embed(rest: Segments, query: Query) -> YoutubeRef:
    target = _only(rest, "embed")
    # Both words are 11 characters long, so they would otherwise pass as video ids.
    if target == "videoseries":
        return _ref("playlist", _param(query, "list", "embed/videoseries"))
    if target == "live_stream":
        return _ref("channel", _param(query, "channel", "embed/live_stream"))
    return _ref("video", target)


def _playlist(rest: Segments, query: Query) -> YoutubeRef:
    if rest:
        raise NotYoutubeUrl("/playlist takes its id from ?list=, not from the path")
    return _ref("playlist", _param(query, "list", "playlist"))


def _video_page(page: str) -> Route:
    return lambda rest, query: _ref("video", _only(rest, page))


def _named_page(kind: Kind, page: str) -> Route:
    return lambda rest, query: _channel_page(kind, _only(rest[:1], page), rest[1:])


def _channel_page(kind: Kind, name: str, tabs: Segments) -> YoutubeRef:
    ref = _ref(kind, name)
    if len(tabs) > 1 or (tabs and not CHANNEL_TAB.fullmatch(tabs[0])):
        raise NotYoutubeUrl(f"unrecognised channel tab /{'/'.join(tabs)}")
    return ref


def _only(rest: Segments, page: str) -> str:
    if len(rest) != 1:
        raise NotYoutubeUrl(f"/{page} must be followed by exactly one id")
    return rest[0]


def _param(query: Query, key: str, page: str) -> str:
    values = query.get(key)
    if not values or not values[0]:
        raise NotYoutubeUrl(f"{page} URL has no {key}= parameter")
    if len(set(values)) > 1:
        raise NotYoutubeUrl(f"{page} URL has conflicting {key}= parameters")
    return values[0]


def _is_name(value: str, shortest: int = 1, longest: int = 100) -> bool:
    """Letters, digits and marks of any script plus _ - . · (YouTube's handle alphabet)."""
    return shortest <= len(value) <= longest and all(
        c in _NAME_PUNCTUATION or unicodedata.category(c)[0] in "LNM" for c in value
    )


def _is_handle(value: str) -> bool:
    return _is_name(value, 3, 30)


_RULES: dict[Kind, tuple[Callable[[str], object], str]] = {
    "video": (VIDEO_ID.fullmatch, "video id (11 of A-Z a-z 0-9 _ -)"),
    "channel": (CHANNEL_ID.fullmatch, "channel id (UC + 22 of A-Z a-z 0-9 _ -)"),
    "handle": (_is_handle, "handle (3-30 letters, digits, _ - . ·)"),
    "custom": (_is_name, "custom channel name"),
    "user": (_is_name, "legacy user name"),
    "playlist": (PLAYLIST_ID.fullmatch, "playlist id (12-64 of A-Z a-z 0-9 _ -)"),
}


def _ref(kind: Kind, value: str) -> YoutubeRef:
    valid, what = _RULES[kind]
    if not valid(value):
        raise NotYoutubeUrl(f"{value!r} is not a valid YouTube {what}")
    return YoutubeRef(kind, value)


_PAGES: dict[str, Route] = {
    "watch": _watch,
    "shorts": _video_page("shorts"),
    "live": _video_page("live"),
    "embed": _embed,
    "v": _video_page("v"),
    "channel": _named_page("channel", "channel"),
    "c": _named_page("custom", "c"),
    "user": _named_page("user", "user"),
    "playlist": _playlist,
}

_HOSTS: dict[str, Route] = {
    "youtube.com": _youtube,
    "www.youtube.com": _youtube,
    "m.youtube.com": _youtube,
    "music.youtube.com": _music,
    "youtu.be": _youtu_be,
    "www.youtu.be": _youtu_be,
    "youtube-nocookie.com": _nocookie,
    "www.youtube-nocookie.com": _nocookie,
}

HOSTS = frozenset(_HOSTS)
