"""X entities as Beat keeps them, whichever source gave them: tweets and accounts.

Missing stays None, never 0: a count the source did not carry is unknown, not zero (the
syndication answer carries no retweet or view counts; old tweets have no view count at all).
Ids are strings: tweet and user ids are 64-bit snowflakes.
"""

from datetime import datetime

from pydantic import BaseModel

from core.normalized import Normalized

PLATFORM = "x"
# Source names: also the credential table's `source` and the rate-limit keys.
SYNDICATION = "x_syndication"
GRAPHQL = "x_graphql"


class Account(BaseModel):
    """An X account; `user_id` is X's numeric id (rest_id), `handle` its screen name."""

    user_id: str
    handle: str
    name: str | None = None
    description: str | None = None
    location: str | None = None
    followers: int | None = None
    following: int | None = None
    tweets: int | None = None
    listed: int | None = None
    media_count: int | None = None
    favourites: int | None = None  # likes the account GAVE, not received
    verified: bool | None = None
    blue_verified: bool | None = None
    protected: bool | None = None
    profile_image_url: str | None = None
    created_at: datetime | None = None
    source: str

    def normalized(self) -> Normalized:
        """The account as a profile: followers, creation time, handle as author."""
        return Normalized(platform=PLATFORM, kind="profile", id=self.user_id,
                          followers=self.followers, published_at=self.created_at,
                          author=self.handle, source=self.source)


class Tweet(BaseModel):
    """A tweet. `shares` are retweets alone (quotes are counted apart), `comments` replies."""

    tweet_id: str
    user_id: str | None = None
    handle: str | None = None
    text: str | None = None
    likes: int | None = None
    replies: int | None = None
    retweets: int | None = None
    quotes: int | None = None
    bookmarks: int | None = None
    views: int | None = None
    lang: str | None = None
    quoted_tweet_id: str | None = None
    has_video: bool | None = None
    thumbnail_url: str | None = None  # the first photo, or a video's poster frame
    created_at: datetime | None = None
    source: str

    def normalized(self) -> Normalized:
        return Normalized(platform=PLATFORM, kind="post", id=self.tweet_id, likes=self.likes,
                          comments=self.replies, shares=self.retweets, views=self.views,
                          caption=self.text, published_at=self.created_at, author=self.handle,
                          source=self.source)
