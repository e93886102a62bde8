"""What the generic read endpoints (core/api/entities.py) can look up on YouTube: channels by
handle, by channel id and by Beat's row id, videos by id, and a channel's recent videos; each
with the flow that refreshes it; a playlist is a collection a watchlist can keep fresh. The
answers' shapes are the models below (the OpenAPI)."""

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from core.lookups import InvalidId, LinkFigures, Lookup, Lookups, RecentPosts, Refresh
from core.stored import StoredRow, freshness_of, newest_first, thumbnail
from youtube.store import fetch_one, sql

CHANNEL_ID = re.compile(r"UC[0-9A-Za-z_-]{22}")
VIDEO_ID = re.compile(r"[0-9A-Za-z_-]{11}")
HANDLE = re.compile(r"@?[\w.·-]{3,30}")
PLAYLIST_ID = re.compile(r"[A-Za-z0-9_-]{12,64}")
# A watched playlist's refresh: its first videos (4 pages of playlistItems, 4 calls of videos).
WATCHED_PLAYLIST_VIDEOS = 200


class Stored(StoredRow):
    platform: Literal["youtube"] = "youtube"


class YoutubeChannel(Stored):
    """A stored YouTube channel (youtube_account)."""

    channel_id: str
    handle: str | None = None
    title: str | None = None
    description: str | None = None
    published_at: datetime | None = None
    country: str | None = None
    thumbnail_url: str | None = None
    subscribers: int | None = None
    views: int | None = None
    video_count: int | None = None
    uploads_playlist_id: str | None = None
    avg_views: float | None = None
    avg_likes: float | None = None
    avg_comments: float | None = None
    engagement_rate: float | None = None
    uploads_per_week: float | None = None
    insights_videos: int | None = None


class YoutubeVideo(Stored):
    """A stored YouTube video (youtube_post)."""

    video_id: str
    channel_id: str | None = None
    channel_title: str | None = None
    title: str | None = None
    description: str | None = None
    published_at: datetime | None = None
    duration_s: int | None = None
    views: int | None = None
    likes: int | None = None
    comments: int | None = None
    comments_disabled: bool | None = None
    tags: list[str] = Field(default_factory=list)
    thumbnail_url: str | None = None
    category_id: str | None = None


def _valid(value: str, pattern: re.Pattern[str], what: str) -> str:
    if not pattern.fullmatch(value):
        raise InvalidId(f"{value!r} is not a YouTube {what}")
    return value


def _channel(channel_id: str) -> Lookup:
    _valid(channel_id, CHANNEL_ID, "channel id (UC + 22 of A-Z a-z 0-9 _ -)")
    return Lookup(lambda pool: fetch_one(pool, "channel_by_channel_id", channel_id),
                  Refresh("refresh_yt_profiles", {"channel_ids": [channel_id]},
                          f"yt:profile:{channel_id}", live_target=channel_id))


def _handle(handle: str) -> Lookup:
    handle = "@" + _valid(handle, HANDLE, "handle (3-30 letters, digits, _ - . ·)").lstrip("@")
    return Lookup(lambda pool: fetch_one(pool, "channel_by_handle", handle),
                  Refresh("refresh_yt_profiles", {"handles": [handle]},
                          f"yt:profile:{handle.lower()}", live_target=handle.lower()))


async def _channel_of_row(pool: Any, row_id: int) -> str | None:
    row = await fetch_one(pool, "channel_by_id", row_id)
    return str(row["channel_id"]) if row else None


def _video(video_id: str) -> Lookup:
    _valid(video_id, VIDEO_ID, "video id (11 of A-Z a-z 0-9 _ -)")
    return Lookup(lambda pool: fetch_one(pool, "video_by_video_id", video_id),
                  Refresh("refresh_yt_posts", {"video_ids": [video_id]}, f"yt:post:{video_id}"))


def _video_by_type(post_type: str, video_id: str) -> Lookup:
    if post_type not in ("video", "short", "live"):
        raise InvalidId(f"YouTube has no post type {post_type!r} (video, short, live)")
    return _video(video_id)


def _recent(channel_id: str, limit: int) -> RecentPosts:
    _valid(channel_id, CHANNEL_ID, "channel id (UC + 22 of A-Z a-z 0-9 _ -)")

    page = newest_first(sql("recent_videos"), channel_id, "published_at")

    freshness = Lookup(lambda pool: fetch_one(pool, "videos_refreshed_at", channel_id),
                       Refresh("refresh_yt_posts_by_channel_id",
                               {"channel_id": channel_id, "max_videos": limit},
                               f"yt:recent:{channel_id}"))
    return RecentPosts(freshness, page)

def _playlist(playlist_id: str) -> Refresh:
    """A watched playlist: its first WATCHED_PLAYLIST_VIDEOS videos refreshed."""
    _valid(playlist_id, PLAYLIST_ID, "playlist id (12-64 of A-Z a-z 0-9 _ -)")
    return Refresh("refresh_yt_posts_by_playlist_id",
                   {"playlist_id": playlist_id, "max_videos": WATCHED_PLAYLIST_VIDEOS},
                   f"yt:playlist:{playlist_id}")


def _link(kind: str, ident: str) -> Lookup:
    """A video, or a channel by id or @handle; a playlist or a /c/ or /user/ name is no one
    item with numbers of its own."""
    if kind == "video":
        return _video(ident)
    if kind == "profile" and ident.startswith("@"):
        return _handle(ident)
    if kind == "profile" and CHANNEL_ID.fullmatch(ident):
        return _channel(ident)
    what = f"a legacy channel name ({ident})" if kind == "profile" else f"a {kind}"
    raise InvalidId(f"{what} has no figures of its own: paste a video or channel link")


async def _figures(pool: Any, row: dict[str, Any]) -> LinkFigures:
    if "video_id" not in row:  # a channel
        return LinkFigures(author=row.get("title") or row.get("handle"),
                           followers=row.get("subscribers"), views=row.get("views"),
                           caption=row.get("description"), published_at=row.get("published_at"),
                           **thumbnail(row, "thumbnail_url"))
    channel = await fetch_one(pool, "channel_by_channel_id", row["channel_id"]) \
        if row.get("channel_id") else None
    return LinkFigures(
        author=row.get("channel_title") or (channel or {}).get("title"),
        followers=(channel or {}).get("subscribers"), likes=row.get("likes"),
        comments=row.get("comments"), views=row.get("views"), caption=row.get("title"),
        published_at=row.get("published_at"), **thumbnail(row, "thumbnail_url"),
        author_refresh=_channel(row["channel_id"]).refresh
        if channel is None and row.get("channel_id") else None)


def _freshness_key(kind: str, ident: str) -> tuple[str, str]:
    if kind == "video":
        return "refreshed_videos", ident
    if ident.startswith("@"):
        return "refreshed_handles", ident.lower()
    return "refreshed_channels", ident


LOOKUPS = Lookups(profile_by_handle=_handle, profile_by_profile_id=_channel,
                  profile_id_of_row=_channel_of_row, post_by_shortcode=_video,
                  post_by_type=_video_by_type, recent_posts=_recent,
                  link=_link, figures=_figures, freshness=freshness_of(sql, _freshness_key),
                  collections={"playlist": _playlist},
                  profile_model=YoutubeChannel,
                  post_model=YoutubeVideo)
