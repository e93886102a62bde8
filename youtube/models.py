"""YouTube entities read from the Data API v3: channels, videos, comments, pages and error bodies.

Missing stays None, never 0: a count the response did not carry is unknown, not zero.
"""

from datetime import datetime
from typing import Generic, TypeVar

from pydantic import BaseModel, Field

from core.normalized import Normalized

PLATFORM = "youtube"
DATA_API = "youtube_data_api"
ANALYTICS = "youtube_analytics"  # YouTube Analytics API v2: what a channel's owner sees
OWNER_OAUTH = "youtube_oauth"  # credential source of channel owners' OAuth tokens

T = TypeVar("T")


class Channel(BaseModel):
    channel_id: str
    title: str | None = None
    handle: str | None = None
    description: str | None = None
    published_at: datetime | None = None
    country: str | None = None
    thumbnail_url: str | None = None
    subscribers: int | None = None
    views: int | None = None
    video_count: int | None = None
    uploads_playlist_id: str | None = None
    source: str

    def normalized(self) -> Normalized:
        """The channel as a profile: total views, subscribers, creation time, title as author."""
        return Normalized(
            platform=PLATFORM,
            kind="profile",
            id=self.channel_id,
            views=self.views,
            followers=self.subscribers,
            published_at=self.published_at,
            author=self.title,
            source=self.source,
        )


class Video(BaseModel):
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
    live_broadcast_content: str | None = None
    source: str

    def normalized(self) -> Normalized:
        """The video as a post: its counts, title as caption, channel title as author."""
        return Normalized(
            platform=PLATFORM,
            kind="post",
            id=self.video_id,
            likes=self.likes,
            comments=self.comments,
            views=self.views,
            caption=self.title,
            published_at=self.published_at,
            author=self.channel_title,
            source=self.source,
        )


class Comment(BaseModel):
    comment_id: str
    video_id: str | None = None
    author: str | None = None
    author_channel_id: str | None = None
    text: str | None = None
    likes: int | None = None
    reply_count: int | None = None
    published_at: datetime | None = None
    updated_at: datetime | None = None
    source: str
    # A reply names the top-level comment of its thread (YouTube threads are one level deep: a
    # reply to a reply is filed under the thread's comment too).
    parent_id: str | None = None
    # A thread's replies that came with it (the Data API shows a few per thread).
    replies: list["Comment"] = []


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_page_token: str | None = None
    total_results: int | None = None


class ApiError(BaseModel):
    """A Data API error body: HTTP code, errors[0].reason (quotaExceeded, keyInvalid, ...)."""

    code: int | None = None
    reason: str | None = None
    message: str | None = None
    domain: str | None = None
    status: str | None = None
