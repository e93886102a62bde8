"""What the generic read endpoints (core/api/entities.py) can look up on X: accounts by handle,
by user id and by Beat's row id, and tweets by id (a tweet's "shortcode" is its id, as its URL
carries it); each with the flow that refreshes it."""

import re
from datetime import datetime
from typing import Any, Literal

from core.lookups import InvalidId, LinkFigures, Lookup, Lookups, Refresh
from core.stored import StoredRow, freshness_of, thumbnail
from x.store import fetch_one, sql

HANDLE = re.compile(r"@?[A-Za-z0-9_]{1,15}")
NUMERIC_ID = re.compile(r"[0-9]{1,20}")


class Stored(StoredRow):
    platform: Literal["x"] = "x"


class XAccount(Stored):
    """A stored X account (x_account)."""

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
    favourites: int | None = None
    verified: bool | None = None
    blue_verified: bool | None = None
    protected: bool | None = None
    profile_image_url: str | None = None
    account_created_at: datetime | None = None


class XPost(Stored):
    """A stored tweet (x_post): replies as comments, retweets as shares, quotes apart."""

    tweet_id: str
    user_id: str | None = None
    handle: str | None = None
    text: str | None = None
    likes: int | None = None
    comments: int | None = None
    shares: int | None = None
    quotes: int | None = None
    bookmarks: int | None = None
    views: int | None = None
    lang: str | None = None
    quoted_tweet_id: str | None = None
    has_video: bool | None = None
    thumbnail_url: str | None = None
    published_at: datetime | None = None


def _valid(value: str, pattern: re.Pattern[str], what: str) -> str:
    if not pattern.fullmatch(value):
        raise InvalidId(f"{value!r} is not an X {what}")
    return value


def _handle(handle: str) -> Lookup:
    handle = _valid(handle, HANDLE, "handle (1-15 letters, digits and _)").lstrip("@").lower()
    return Lookup(lambda pool: fetch_one(pool, "account_by_handle", handle),
                  Refresh("refresh_x_profile", {"handle": handle}, f"x:profile:{handle}",
                          live_target=handle))


def _profile(user_id: str) -> Lookup:
    _valid(user_id, NUMERIC_ID, "user id (digits)")
    return Lookup(lambda pool: fetch_one(pool, "account_by_user_id", user_id),
                  Refresh("refresh_x_profile", {"user_id": user_id},
                          f"x:profile-id:{user_id}", live_target=user_id))


async def _profile_of_row(pool: Any, row_id: int) -> str | None:
    row = await fetch_one(pool, "account_by_id", row_id)
    return str(row["user_id"]) if row else None


def _post(tweet_id: str) -> Lookup:
    _valid(tweet_id, NUMERIC_ID, "tweet id (digits)")
    return Lookup(lambda pool: fetch_one(pool, "post_by_tweet_id", tweet_id),
                  Refresh("refresh_x_post", {"tweet_id": tweet_id}, f"x:post:{tweet_id}"))
def _link(kind: str, ident: str) -> Lookup:
    if kind == "post":
        return _post(ident)
    if kind == "profile":
        return _handle(ident)
    raise InvalidId(f"X has no {kind} links")


async def _figures(pool: Any, row: dict[str, Any]) -> LinkFigures:
    if "tweet_id" not in row:  # an account
        return LinkFigures(author=row.get("name") or row.get("handle"),
                           followers=row.get("followers"), caption=row.get("description"),
                           **thumbnail(row, "profile_image_url"))
    account = await fetch_one(pool, "account_by_user_id", row["user_id"]) \
        if row.get("user_id") else None
    return LinkFigures(
        author=(account or {}).get("name") or row.get("handle"),
        followers=(account or {}).get("followers"), likes=row.get("likes"),
        comments=row.get("comments"), shares=row.get("shares"), views=row.get("views"),
        caption=row.get("text"), published_at=row.get("published_at"),
        **thumbnail(row, "thumbnail_url"),
        author_refresh=_handle(row["handle"]).refresh if account is None and row.get("handle")
        else None)


def _freshness_key(kind: str, ident: str) -> tuple[str, str]:
    if kind == "post":
        return "refreshed_tweets", ident
    return "refreshed_accounts", ident.lstrip("@").lower()


LOOKUPS = Lookups(profile_by_handle=_handle, profile_by_profile_id=_profile,
                  profile_id_of_row=_profile_of_row, post_by_shortcode=_post,
                  link=_link, figures=_figures, freshness=freshness_of(sql, _freshness_key),
                  profile_model=XAccount, post_model=XPost)
