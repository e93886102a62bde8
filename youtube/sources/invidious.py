"""The keyless fallback source: an Invidious instance (API v1, an open YouTube front-end), its
calls and the parsers of its bodies into Beat's YouTube models with source "invidious". One call
per video or channel, so it serves the Data API's capabilities at a higher call count, with no
handle lookups or search.
Shapes: the Invidious API documentation (iv-org/documentation: docs/api.md,
docs/api/channels_endpoint.md, docs/api/common_types.md).

    GET /api/v1/videos/:id              parse_video          -> Video
    GET /api/v1/channels/:ucid          parse_channel        -> Channel
    GET /api/v1/channels/:ucid/videos   parse_channel_videos -> Page[Video] (also /latest)
    GET /api/v1/comments/:id            parse_comments       -> Page[Comment]

Missing stays None, never 0. What Invidious does not carry is None: a video's comment count and
whether comments are disabled, its category id, a channel's handle, country and video count.
Invidious writes 0 where YouTube hides a number, so: likes are None when `allowRatings` is false,
and a channel's `subCount` of 0 is read as unknown (None). A comment without `replies` has none:
Invidious only writes `replies` for a comment that has some, so its reply_count is 0.
An error body (`{"error": "..."}`) raises InvidiousErrorBody; any other unexpected shape raises
UnknownShape, never KeyError or TypeError. From the source, an unreadable body is the source
failing (SourceUnavailable), a 404 is NotFound.
"""

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from core.errors import NotFound, SourceUnavailable, Unsupported
from core.http import get_json
from core.normalized import to_int
from core.parsing import UnknownShape, shape_errors
from youtube.models import Channel, Comment, Page, Video

INVIDIOUS = "invidious"
PARALLEL_CALLS = 10
T = TypeVar("T")
_QUALITIES = ("maxres", "maxresdefault", "sddefault", "high", "medium", "default")


class InvidiousSource:
    name = INVIDIOUS
    capabilities = frozenset({"channels", "videos", "playlist_items", "comments"})
    needs_credential = False

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/") + "/api/v1"
        self.calls = 0
        self._gate = asyncio.Semaphore(PARALLEL_CALLS)

    async def call(self, capability: str, **params: Any) -> Any:
        handler = getattr(self, f"_{capability}")
        return await handler(**params)

    async def _videos(self, ids: list[str]) -> list[Video]:
        found = await asyncio.gather(*(self._one(f"videos/{i}", parse_video) for i in ids))
        return [video for video in found if video is not None]

    async def _channels(self, ids: list[str]) -> list[Channel]:
        found = await asyncio.gather(*(self._one(f"channels/{i}", parse_channel) for i in ids))
        return [channel for channel in found if channel is not None]

    async def _playlist_items(self, playlist_id: str, page_token: str | None = None
                              ) -> Page[Video]:
        if not playlist_id.startswith("UU"):
            raise Unsupported(f"invidious: only uploads playlists, not {playlist_id}")
        params = {"continuation": page_token} if page_token else None
        return await self._page(f"channels/UC{playlist_id[2:]}/videos", params,
                                parse_channel_videos)

    async def _comments(self, video_id: str, page_token: str | None = None) -> Page[Comment]:
        params = {"continuation": page_token} if page_token else None
        return await self._page(f"comments/{video_id}", params, parse_comments)

    async def _one(self, path: str, parse: Callable[[Any], T]) -> T | None:
        """One item; None when Invidious does not know it."""
        try:
            return await self._page(path, None, parse)
        except NotFound:
            return None

    async def _page(self, path: str, params: dict[str, str] | None,
                    parse: Callable[[Any], T]) -> T:
        async with self._gate:
            self.calls += 1
            response = await get_json(INVIDIOUS, f"{self.base_url}/{path}", params=params)
        if response.status == 404:
            raise NotFound(f"invidious: {parse_error(response.body) or 'not found'}")
        if response.status != 200:
            raise SourceUnavailable(f"invidious: HTTP {response.status} "
                                    f"{parse_error(response.body) or ''}".rstrip())
        return _parsed(parse, response.body)


def _parsed(parse: Callable[[Any], T], body: Any) -> T:
    try:
        return parse(body)
    except UnknownShape as exc:
        raise SourceUnavailable(f"invidious: unexpected body: {exc}") from None


class InvidiousErrorBody(UnknownShape):
    """The body is an Invidious error ({"error": message[, "errorBacktrace": ...]})."""

    def __init__(self, message: str) -> None:
        super().__init__(f"Invidious error: {message}")
        self.message = message


def parse_error(body: Any) -> str | None:
    """The message of an Invidious error body; None for any other body."""
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return str(body["error"])
    return None


@shape_errors
def parse_video(body: Any) -> Video:
    """GET /api/v1/videos/:id."""
    video = _object(body, "videoId")
    return Video(
        video_id=video["videoId"],
        likes=None if video.get("allowRatings") is False else to_int(video.get("likeCount")),
        tags=list(video.get("keywords") or []),
        live_broadcast_content=_live(video),
        **_video_fields(video),
    )


@shape_errors
def parse_channel(body: Any) -> Channel:
    """GET /api/v1/channels/:ucid."""
    channel = _object(body, "authorId")
    channel_id = channel["authorId"]
    is_ucid = channel_id.startswith("UC") and len(channel_id) == 24
    uploads = "UU" + channel_id[2:] if is_ucid else None
    return Channel(
        channel_id=channel_id,
        title=channel.get("author"),
        description=channel.get("description"),
        published_at=_unix(channel.get("joined")),
        thumbnail_url=_largest(channel.get("authorThumbnails")),
        subscribers=to_int(channel.get("subCount")) or None,  # 0: hidden or unread
        views=to_int(channel.get("totalViews")),
        uploads_playlist_id=uploads,
        source=INVIDIOUS,
    )


@shape_errors
def parse_channel_videos(body: Any) -> Page[Video]:
    """GET /api/v1/channels/:ucid/videos (or /latest): VideoObjects and a continuation."""
    page = _object(body, "videos")
    items = [_video_object(item) for item in page["videos"]
             if isinstance(item, dict) and item.get("type", "video") == "video"]
    return Page(items=items, next_page_token=page.get("continuation") or None)


@shape_errors
def parse_comments(body: Any) -> Page[Comment]:
    """GET /api/v1/comments/:id; total_results is commentCount (first page only)."""
    page = _object(body, "comments")
    video_id = page.get("videoId")
    items = [_comment(item, video_id) for item in page["comments"]]
    return Page(items=items, next_page_token=page.get("continuation") or None,
                total_results=to_int(page.get("commentCount")))


def _object(body: Any, key: str) -> dict[str, Any]:
    """`body` as an object holding `key`; an error body raises InvidiousErrorBody."""
    message = parse_error(body)
    if message is not None:
        raise InvidiousErrorBody(message)
    if not isinstance(body, dict) or key not in body:
        raise UnknownShape(f"expected an Invidious object with {key!r}")
    return body


def _video_fields(video: dict[str, Any]) -> dict[str, Any]:
    """Fields a full video and a VideoObject share."""
    return {
        "channel_id": video.get("authorId") or None,
        "channel_title": video.get("author"),
        "title": video.get("title"),
        "description": video.get("description"),
        "published_at": _unix(video.get("published")),
        "duration_s": to_int(video.get("lengthSeconds")),
        "views": to_int(video.get("viewCount")),
        "thumbnail_url": _thumbnail(video.get("videoThumbnails")),
        "source": INVIDIOUS,
    }


def _video_object(item: dict[str, Any]) -> Video:
    """A VideoObject: no likes, tags or comment count."""
    return Video(video_id=item["videoId"], live_broadcast_content=_live(item),
                 **_video_fields(item))


def _comment(item: dict[str, Any], video_id: str | None) -> Comment:
    replies = item.get("replies")
    reply_count = replies.get("replyCount") if isinstance(replies, dict) else item.get(
        "replyCount", 0)
    return Comment(
        comment_id=item["commentId"],
        video_id=video_id,
        author=item.get("author"),
        author_channel_id=item.get("authorId") or None,
        text=item.get("content"),
        likes=to_int(item.get("likeCount")),
        reply_count=to_int(reply_count),
        published_at=_unix(item.get("published")),
        source=INVIDIOUS,
    )


def _live(video: dict[str, Any]) -> str:
    if video.get("liveNow"):
        return "live"
    return "upcoming" if video.get("isUpcoming") else "none"


def _unix(value: Any) -> datetime | None:
    if value is None or isinstance(value, bool):
        return None
    return datetime.fromtimestamp(int(value), UTC)


def _thumbnail(thumbnails: Any) -> str | None:
    """The best video thumbnail: maxres > maxresdefault > sddefault > high > medium > default."""
    if not isinstance(thumbnails, list):
        return None
    by_quality = {t.get("quality"): t.get("url") for t in thumbnails if isinstance(t, dict)}
    ranked = [by_quality.get(q) for q in _QUALITIES] + [_largest(thumbnails)]
    return next((url for url in ranked if url), None)


def _largest(images: Any) -> str | None:
    """URL of the widest image of a list of {url, width, height}."""
    if not isinstance(images, list):
        return None
    sized = [i for i in images if isinstance(i, dict) and i.get("url")]
    if not sized:
        return None
    return str(max(sized, key=lambda i: to_int(i.get("width")) or 0)["url"])
