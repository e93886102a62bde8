"""Instagram entities as Beat keeps them, whichever source gave them: profiles, posts (feed
posts, carousels, reels, stories), comments, related accounts (followers, following, likers),
insights and pages of a paginated listing.

Missing stays None, never 0: a count the source did not carry is unknown, not zero. Ids are
strings (Graph API media ids and web pks are both 64-bit numbers, shortcodes are base64).
"""

from datetime import datetime
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, Field

from core.normalized import Normalized

PLATFORM = "instagram"
# Source names: also the credential table's `source` and the rate-limit keys.
GRAPH_API = "instagram_graph_api"
RAPIDAPI = "instagram_rapidapi"
WEB = "instagram_web"

PostType = Literal["image", "carousel", "video", "reels", "story"]
T = TypeVar("T")


class Profile(BaseModel):
    """An account. `profile_id` is Instagram's own user id (the web pk, which the Graph API
    calls `ig_id`), the same whichever source answers; `graph_id` is the Graph API's IG user id
    of a business or creator account. A Graph answer without `ig_id` (a raw document) keeps its
    Graph id as profile_id; some web answers omit the id (None)."""

    profile_id: str | None = None
    graph_id: str | None = None
    handle: str
    full_name: str | None = None
    biography: str | None = None
    website: str | None = None
    followers: int | None = None
    following: int | None = None
    media_count: int | None = None
    profile_pic_url: str | None = None
    profile_type: Literal["personal", "business", "creator"] | None = None
    is_private: bool | None = None
    is_verified: bool | None = None
    is_business_or_creator: bool | None = None
    category: str | None = None
    fbid: str | None = None
    source: str

    def normalized(self) -> Normalized:
        return Normalized(platform=PLATFORM, kind="profile", id=self.profile_id,
                          followers=self.followers, author=self.handle, source=self.source)


class Post(BaseModel):
    """A post, carousel, reel, video or story. `post_id` is Instagram's own media id (the web
    pk, the Graph API's `ig_id`), `graph_id` the Graph API's media id; `shortcode` is the code
    of its URL (/p/{shortcode}/), None where the source gives neither shortcode nor permalink
    (stories)."""

    post_id: str
    graph_id: str | None = None
    shortcode: str | None = None
    profile_id: str | None = None
    handle: str | None = None
    post_type: PostType | None = None
    caption: str | None = None
    permalink: str | None = None
    thumbnail_url: str | None = None
    display_url: str | None = None
    likes: int | None = None
    comments: int | None = None
    plays: int | None = None
    views: int | None = None
    reach: int | None = None
    impressions: int | None = None
    shares: int | None = None
    saved: int | None = None
    children: int | None = None  # carousel items
    published_at: datetime | None = None
    expires_at: datetime | None = None  # stories
    source: str

    def normalized(self) -> Normalized:
        return Normalized(platform=PLATFORM, kind="post", id=self.post_id, likes=self.likes,
                          comments=self.comments, shares=self.shares,
                          views=self.views if self.views is not None else self.plays,
                          caption=self.caption, published_at=self.published_at,
                          author=self.handle, source=self.source)


class ProfileWithPosts(BaseModel):
    """A profile with its most recent posts, newest first (business_discovery and the web
    profile answer bring both in one call). `next_cursor` pages further into the posts."""

    profile: Profile
    posts: list[Post] = Field(default_factory=list)
    next_cursor: str | None = None


class Comment(BaseModel):
    comment_id: str
    post_id: str | None = None
    text: str | None = None
    author_handle: str | None = None
    author_id: str | None = None
    likes: int | None = None
    replies: int | None = None
    published_at: datetime | None = None
    source: str


class Account(BaseModel):
    """A related account in a listing: a follower, a followed account, a liker."""

    user_id: str
    handle: str
    full_name: str | None = None
    is_private: bool | None = None
    is_verified: bool | None = None
    profile_pic_url: str | None = None


class Insight(BaseModel):
    """One insights metric, from either Graph API shape: `values[].value` (the latest value
    is kept) or `total_value.value`; `breakdowns` maps a joined dimension value (e.g.
    "REEL,FOLLOWER", "F.25-34", "London, England") to its figure."""

    name: str
    period: str | None = None
    value: int | float | None = None
    breakdowns: dict[str, int | float] = Field(default_factory=dict)


class Page(BaseModel, Generic[T]):
    """One page of a listing; `next_cursor` None means the last page. Cursors belong to the
    source that gave them."""

    items: list[T]
    next_cursor: str | None = None
    total: int | None = None
