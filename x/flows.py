"""X flows: one tweet by id, one account by handle or user id. Each stores the current state
with a snapshot and returns a small JSON result naming the source that answered. A deleted
tweet (kind "deleted") and a protected account's tweet (kind "private") fail at once."""

from typing import Any

from pydantic import Field, model_validator

from core.flows import StrictParams, TaskContext, flow
from x.models import PLATFORM as NAME
from x.refresh import director_of, refresh_account, refresh_tweet

PLATFORM = NAME.upper()  # "X": the spelling of tasks and the API
HANDLE = r"^@?[A-Za-z0-9_]{1,15}$"
TWEET_ID = r"^[0-9]{1,20}$"


class TweetParams(StrictParams):
    tweet_id: str = Field(pattern=TWEET_ID)


class ProfileParams(StrictParams):
    """One account, by handle or by user id."""

    handle: str | None = Field(default=None, pattern=HANDLE)
    user_id: str | None = Field(default=None, pattern=TWEET_ID)

    @model_validator(mode="after")
    def _one(self) -> "ProfileParams":
        if not self.handle and not self.user_id:
            raise ValueError("give handle or user_id")
        return self


@flow("refresh_x_post", TweetParams, platform=PLATFORM, processes=3, concurrency=5)
async def refresh_x_post(params: TweetParams, ctx: TaskContext) -> dict[str, Any]:
    """One tweet by id: likes, replies, retweets, quotes, bookmarks and views."""
    row, got = await refresh_tweet(director_of(ctx), ctx.pool, params.tweet_id)
    return {"tweet_id": row["tweet_id"], "handle": row["handle"], "source": got.source,
            "likes": row["likes"], "views": row["views"]}


@flow("refresh_x_profile", ProfileParams, platform=PLATFORM, processes=3, concurrency=5)
async def refresh_x_profile(params: ProfileParams, ctx: TaskContext) -> dict[str, Any]:
    """One account by handle or user id: followers, following, tweets, listed."""
    handle = params.handle.lstrip("@") if params.handle else None
    row, got = await refresh_account(director_of(ctx), ctx.pool, handle, params.user_id)
    return {"user_id": row["user_id"], "handle": row["handle"], "source": got.source,
            "followers": row["followers"]}
