"""Pure functions from decoded YouTube Data API v3 bodies to models; no I/O, no state. Among
them normalize_document, YouTube's parser for `beat parse`.

A body that is not the expected shape raises UnknownShape (an error body: ApiErrorBody), never a
KeyError or TypeError; numbers arrive as strings and are read with `to_int`.
"""

import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeVar

from core.normalized import Normalized, parse_time, to_int
from core.parsing import UnknownShape, shape_errors
from youtube.models import DATA_API, ApiError, Channel, Comment, Page, Video

P = ParamSpec("P")
R = TypeVar("R")

VIDEO = "youtube#video"
VIDEO_LIST = "youtube#videoListResponse"
CHANNEL_LIST = "youtube#channelListResponse"
PLAYLIST_ITEM_LIST = "youtube#playlistItemListResponse"
SEARCH_LIST = "youtube#searchListResponse"
COMMENT_THREAD_LIST = "youtube#commentThreadListResponse"

_THUMBNAILS = ("maxres", "standard", "high", "medium", "default")
_DURATION = re.compile(
    r"P(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?(?:T(?=\d)(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+)S)?)?"
)
_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}


class ApiErrorBody(UnknownShape):
    """The body is a Data API error, not data; `error` says which (reason drives classification)."""

    def __init__(self, error: ApiError) -> None:
        super().__init__(f"YouTube API error {error.code} {error.reason}: {error.message}")
        self.error = error


def parse_duration(value: str | None) -> int | None:
    """Seconds in a YouTube ISO-8601 duration (PT1H2M3S, P1DT2H, P0D); ValueError if malformed."""
    if value is None:
        return None
    match = _DURATION.fullmatch(value)
    if match is None or not any(match.groupdict().values()):
        raise ValueError(f"not a YouTube duration: {value!r}")
    return sum(int(n) * _SECONDS[unit] for unit, n in match.groupdict().items() if n)


@shape_errors
def parse_error(body: Any) -> ApiError | None:
    """The error in a Data API error body (reason = errors[0].reason); None for any other body."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, str):  # OAuth token endpoint: {"error": "invalid_grant", ...}
        return ApiError(reason=error, message=body.get("error_description"))
    if not isinstance(error, dict):
        return None
    first = _first_dict(error.get("errors"))
    return ApiError(
        code=to_int(error.get("code")),
        reason=first.get("reason") or _first_dict(error.get("details")).get("reason"),
        message=error.get("message") or first.get("message"),
        domain=first.get("domain"),
        status=error.get("status"),
    )


@shape_errors
def parse_channels(body: Any, source: str = DATA_API) -> list[Channel]:
    """channels.list: a youtube#channelListResponse."""
    items = _items(_envelope(body, CHANNEL_LIST), "youtube#channel")
    return [_channel(item, source) for item in items]


@shape_errors
def parse_videos(body: Any, source: str = DATA_API) -> list[Video]:
    """videos.list: a youtube#videoListResponse, or a bare list of youtube#video items."""
    if isinstance(body, list):
        if not all(isinstance(item, dict) and item.get("kind") == VIDEO for item in body):
            raise UnknownShape("a bare list must hold only youtube#video items")
        items: list[dict[str, Any]] = body
    else:
        items = _items(_envelope(body, VIDEO_LIST), VIDEO)
    return [_video(item, source) for item in items]


@shape_errors
def parse_playlist_items(body: Any, source: str = DATA_API) -> Page[Video]:
    """playlistItems.list: partial videos (no statistics, duration or tags)."""
    envelope = _envelope(body, PLAYLIST_ITEM_LIST)
    items = _items(envelope, "youtube#playlistItem")
    return _page(envelope, [_playlist_video(item, source) for item in items])


@shape_errors
def parse_search(body: Any, source: str = DATA_API) -> Page[Video]:
    """search.list: video results as partial videos; channel and playlist results are skipped."""
    envelope = _envelope(body, SEARCH_LIST)
    found = (_search_video(item, source) for item in _items(envelope, "youtube#searchResult"))
    return _page(envelope, [video for video in found if video is not None])


@shape_errors
def parse_comment_threads(body: Any, source: str = DATA_API) -> Page[Comment]:
    """commentThreads.list: the top-level comment of each thread, with the replies the answer
    shows (`part=replies`: a few per thread) under it."""
    envelope = _envelope(body, COMMENT_THREAD_LIST)
    items = _items(envelope, "youtube#commentThread")
    return _page(envelope, [_comment(item, source) for item in items])


_DOCUMENTS: dict[str, Callable[[Any], Sequence[Channel | Video]]] = {
    VIDEO_LIST: parse_videos,
    CHANNEL_LIST: parse_channels,
    PLAYLIST_ITEM_LIST: lambda body: parse_playlist_items(body).items,
    SEARCH_LIST: lambda body: parse_search(body).items,
}


def normalize_document(document: Any) -> list[Normalized]:
    """Posts/profiles of any known response, by `kind` (a bare list: videos); else UnknownShape.

    Comment threads raise UnknownShape: comments are neither posts nor profiles.
    """
    if isinstance(document, list):
        return [video.normalized() for video in parse_videos(document)]
    kind = _envelope(document, None).get("kind")
    if kind == COMMENT_THREAD_LIST:
        raise UnknownShape(f"{kind} holds comments, not posts or profiles (parse_comment_threads)")
    parse = _DOCUMENTS.get(kind) if isinstance(kind, str) else None
    if parse is None:
        raise UnknownShape(f"not a YouTube response this parser knows: kind {kind!r}")
    return [entity.normalized() for entity in parse(document)]


def _envelope(body: Any, kind: str | None) -> dict[str, Any]:
    """`body` as a response object of `kind` (any kind if None); an error body: ApiErrorBody."""
    error = parse_error(body)
    if error is not None:
        raise ApiErrorBody(error)
    if not isinstance(body, dict):
        raise UnknownShape(f"expected a YouTube response object, got {type(body).__name__}")
    if kind is not None and body.get("kind") != kind:
        raise UnknownShape(f"expected {kind}, got kind {body.get('kind')!r}")
    return body


def _items(envelope: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    """The envelope's items (absent: none), each an object whose kind, if given, is `kind`."""
    items = envelope.get("items")
    if items is None:
        return []
    if not isinstance(items, list) or not all(_is(item, kind) for item in items):
        raise UnknownShape(f"items of {envelope.get('kind')} are not all {kind}")
    return items


def _is(item: Any, kind: str) -> bool:
    return isinstance(item, dict) and item.get("kind", kind) == kind


def _page(envelope: dict[str, Any], items: list[R]) -> Page[R]:
    return Page(
        items=items,
        next_page_token=envelope.get("nextPageToken"),
        total_results=to_int(_dig(envelope, "pageInfo", "totalResults")),
    )


def _dig(data: Any, *path: str) -> Any:
    """data[path[0]][path[1]]...; None where a step is missing or null."""
    for key in path:
        if data is None:
            return None
        data = data.get(key)
    return data


def _first_dict(value: Any) -> dict[str, Any]:
    """The first element of a list if it is an object, else {}."""
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return value[0]
    return {}


def _time(value: Any) -> datetime | None:
    parsed = parse_time(value)
    return parsed.astimezone(UTC) if parsed else None


def _thumbnail(thumbnails: Any) -> str | None:
    """URL of the best thumbnail: maxres > standard > high > medium > default > any other."""
    if not thumbnails:
        return None
    ranked = [name for name in _THUMBNAILS if name in thumbnails]
    ranked += [name for name in thumbnails if name not in _THUMBNAILS]
    urls: list[str] = [thumbnails[name].get("url") for name in ranked]
    return next((url for url in urls if url), None)


def _subscribers(statistics: dict[str, Any]) -> int | None:
    """subscriberCount, or None when the channel hides it (hiddenSubscriberCount true)."""
    if statistics.get("hiddenSubscriberCount") is True:
        return None
    return to_int(statistics.get("subscriberCount"))


def _channel(item: dict[str, Any], source: str) -> Channel:
    snippet = item.get("snippet") or {}
    statistics = item.get("statistics") or {}
    return Channel(
        channel_id=item["id"],
        title=snippet.get("title"),
        handle=snippet.get("customUrl"),
        description=snippet.get("description"),
        published_at=_time(snippet.get("publishedAt")),
        country=snippet.get("country") or _dig(item, "brandingSettings", "channel", "country"),
        thumbnail_url=_thumbnail(snippet.get("thumbnails")),
        subscribers=_subscribers(statistics),
        views=to_int(statistics.get("viewCount")),
        video_count=to_int(statistics.get("videoCount")),
        uploads_playlist_id=_dig(item, "contentDetails", "relatedPlaylists", "uploads") or None,
        source=source,
    )


def _snippet_fields(snippet: dict[str, Any]) -> dict[str, Any]:
    """Video fields every snippet (video, search result, playlist item) carries."""
    return {
        "channel_id": snippet.get("channelId"),
        "channel_title": snippet.get("channelTitle"),
        "title": snippet.get("title"),
        "description": snippet.get("description"),
        "published_at": _time(snippet.get("publishedAt")),
        "thumbnail_url": _thumbnail(snippet.get("thumbnails")),
        "live_broadcast_content": snippet.get("liveBroadcastContent"),
    }


def _video(item: dict[str, Any], source: str) -> Video:
    snippet = item.get("snippet") or {}
    statistics = item.get("statistics") or {}
    return Video(
        video_id=item["id"],
        duration_s=parse_duration(_dig(item, "contentDetails", "duration")),
        views=to_int(statistics.get("viewCount")),
        likes=to_int(statistics.get("likeCount")),
        comments=to_int(statistics.get("commentCount")),
        tags=snippet.get("tags") or [],
        category_id=snippet.get("categoryId"),
        source=source,
        **_snippet_fields(snippet),
    )


def _playlist_video(item: dict[str, Any], source: str) -> Video:
    """The video of a playlist item: owner is videoOwnerChannel* when given, else the snippet's."""
    snippet = item.get("snippet") or {}
    details = item.get("contentDetails") or {}
    video_id = _dig(snippet, "resourceId", "videoId") or details.get("videoId")
    if not video_id:
        raise UnknownShape(f"playlist item {item.get('id')!r} names no video")
    fields = _snippet_fields(snippet)
    fields["channel_id"] = snippet.get("videoOwnerChannelId") or fields["channel_id"]
    fields["channel_title"] = snippet.get("videoOwnerChannelTitle") or fields["channel_title"]
    fields["published_at"] = _time(details.get("videoPublishedAt")) or fields["published_at"]
    return Video(video_id=video_id, source=source, **fields)


def _search_video(item: dict[str, Any], source: str) -> Video | None:
    """A video result as a partial video; None for a channel or playlist result."""
    ident = item["id"]
    if (ident.get("kind") or (VIDEO if "videoId" in ident else None)) != VIDEO:
        return None
    fields = _snippet_fields(item.get("snippet") or {})
    return Video(video_id=ident["videoId"], source=source, **fields)


def _comment(thread: dict[str, Any], source: str) -> Comment:
    top = thread["snippet"]["topLevelComment"]
    comment = _comment_resource(top, thread["snippet"].get("videoId"), source,
                                comment_id=top.get("id") or thread["id"])
    comment.reply_count = to_int(thread["snippet"].get("totalReplyCount"))
    comment.replies = [
        _comment_resource(reply, comment.video_id, source, parent_id=comment.comment_id)
        for reply in (thread.get("replies") or {}).get("comments") or []]
    return comment


def _comment_resource(resource: dict[str, Any], video_id: str | None, source: str,
                      comment_id: str | None = None, parent_id: str | None = None) -> Comment:
    """A `youtube#comment`: a thread's top-level comment or one of its replies."""
    snippet = resource.get("snippet") or {}
    text = snippet.get("textOriginal")
    return Comment(
        comment_id=comment_id or resource["id"],
        video_id=snippet.get("videoId") or video_id,
        parent_id=snippet.get("parentId") or parent_id,
        author=snippet.get("authorDisplayName"),
        author_channel_id=_dig(snippet, "authorChannelId", "value"),
        text=snippet.get("textDisplay") if text is None else text,
        likes=to_int(snippet.get("likeCount")),
        published_at=_time(snippet.get("publishedAt")),
        updated_at=_time(snippet.get("updatedAt")),
        source=source,
    )
