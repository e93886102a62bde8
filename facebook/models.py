"""Facebook entities as Beat keeps them: pages and posts (status updates, photos, links, videos
and reels: a video is a post with post_type "video" or "reel" and its views).

Missing stays None, never 0: a count the Graph API did not carry (shares on a post nobody
shared, views a video node does not give) is unknown, not zero. Ids are strings: a page's
numeric id, a post's "{page_id}_{story_id}" or pfbid id, a video's numeric id.
"""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from core.normalized import Normalized

PLATFORM = "facebook"
# Source name: also the credential table's `source` (credentials.graph.GRAPH_SOURCES) and the
# rate-limit key.
GRAPH_API = "facebook_graph_api"

PostType = Literal["status", "photo", "link", "video", "reel", "event", "offer", "album"]


class Page(BaseModel):
    """A Facebook page: `page_id` the numeric id, `username` its vanity name."""

    page_id: str
    username: str | None = None
    name: str | None = None
    link: str | None = None
    category: str | None = None
    verification_status: str | None = None
    fan_count: int | None = None  # page likes
    followers: int | None = None  # followers_count
    talking_about: int | None = None
    picture_url: str | None = None  # the page's profile picture
    source: str

    def normalized(self) -> Normalized:
        return Normalized(platform=PLATFORM, kind="profile", id=self.page_id,
                          followers=self.followers, author=self.username or self.name,
                          source=self.source)


class Post(BaseModel):
    """A post, video or reel. likes = reactions.summary.total_count (every reaction type; a
    video's likes.summary where that is what was asked), comments = comments.summary.total_count
    (or comments.count), shares = shares.count, views = a video's views."""

    post_id: str
    post_type: PostType | None = None
    page_id: str | None = None
    author: str | None = None
    message: str | None = None
    title: str | None = None
    permalink: str | None = None
    published_at: datetime | None = None
    likes: int | None = None
    comments: int | None = None
    shares: int | None = None
    views: int | None = None
    length_s: float | None = None
    thumbnail_url: str | None = None  # a post's full picture, a video's thumbnail
    source: str

    @property
    def caption(self) -> str | None:
        return self.message if self.message is not None else self.title

    def normalized(self) -> Normalized:
        return Normalized(platform=PLATFORM, kind="post", id=self.post_id, likes=self.likes,
                          comments=self.comments, shares=self.shares, views=self.views,
                          caption=self.caption, published_at=self.published_at,
                          author=self.author, source=self.source)
