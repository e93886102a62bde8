"""What the generic read endpoints (core/api/entities.py) can look up on Instagram: accounts by
handle, by Instagram user id and by Beat's row id, posts by shortcode (any post type), an
account's recent posts, and its insights and audience; each with the flow that refreshes it. A
hashtag is a collection a watchlist can keep fresh (its newest posts listed again)."""

import re
from datetime import datetime
from typing import Any, Literal

from core.lookups import InvalidId, LinkFigures, Lookup, Lookups, RecentPosts, Refresh
from core.stored import StoredRow, freshness_of, newest_first, thumbnail
from instagram.store import fetch_one, sql

HANDLE = re.compile(r"@?[A-Za-z0-9._]{1,30}")
PROFILE_ID = re.compile(r"[0-9]{1,25}")
SHORTCODE = re.compile(r"[A-Za-z0-9_-]{5,64}")
HASHTAG = re.compile(r"\w{1,100}")
# A watched hashtag's refresh: its newest posts, a page of the provider's listing.
WATCHED_HASHTAG_POSTS = 50
POST_TYPES = ("p", "reel", "reels", "tv", "post", "image", "carousel", "video")


class Stored(StoredRow):
    platform: Literal["instagram"] = "instagram"


class InstagramAccount(Stored):
    """A stored Instagram account (instagram_account), with the averages over recent posts."""

    profile_id: str
    handle: str
    full_name: str | None = None
    biography: str | None = None
    website: str | None = None
    followers: int | None = None
    following: int | None = None
    media_count: int | None = None
    avg_likes: float | None = None
    avg_comments: float | None = None
    avg_reach: float | None = None
    avg_engagement: float | None = None
    avg_reels_plays: float | None = None
    averages_posts: int | None = None
    averages_source: str | None = None
    profile_pic_url: str | None = None
    profile_type: str | None = None
    is_private: bool | None = None
    is_verified: bool | None = None
    is_business_or_creator: bool | None = None
    category: str | None = None
    fbid: str | None = None


class InstagramPost(Stored):
    """A stored Instagram post, reel or story (instagram_post)."""

    post_id: str
    shortcode: str | None = None
    profile_id: str | None = None
    handle: str | None = None
    post_type: str | None = None
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
    publish_time: datetime | None = None


def _valid(value: str, pattern: re.Pattern[str], what: str) -> str:
    if not pattern.fullmatch(value):
        raise InvalidId(f"{value!r} is not an Instagram {what}")
    return value


def _handle_of(handle: str) -> str:
    return _valid(handle, HANDLE, "handle (1-30 letters, digits, . and _)").lstrip("@").lower()


def _handle(handle: str) -> Lookup:
    handle = _handle_of(handle)
    return Lookup(lambda pool: fetch_one(pool, "account_by_handle", handle),
                  Refresh("refresh_profile_by_handle", {"handle": handle},
                          f"ig:profile:{handle}", live_target=handle))


def _basic(handle: str) -> Refresh:
    """The account alone (no posts): what a post's author needs for its followers."""
    handle = _handle_of(handle)
    return Refresh("refresh_profile_basic", {"handle": handle}, f"ig:profile-basic:{handle}",
                   live_target=handle)


def _profile(profile_id: str) -> Lookup:
    _valid(profile_id, PROFILE_ID, "user id (digits)")
    return Lookup(lambda pool: fetch_one(pool, "account_by_profile_id", profile_id),
                  Refresh("refresh_profile_by_profile_id", {"profile_id": profile_id},
                          f"ig:profile-id:{profile_id}", live_target=profile_id))


async def _profile_of_row(pool: Any, row_id: int) -> str | None:
    row = await fetch_one(pool, "account_by_id", row_id)
    return str(row["profile_id"]) if row else None


def _post(shortcode: str) -> Lookup:
    _valid(shortcode, SHORTCODE, "shortcode (A-Z a-z 0-9 _ -)")
    return Lookup(lambda pool: fetch_one(pool, "post_by_shortcode", shortcode),
                  Refresh("refresh_post_by_shortcode", {"shortcode": shortcode},
                          f"ig:post:{shortcode}"))


def _post_by_type(post_type: str, shortcode: str) -> Lookup:
    if post_type.lower() not in POST_TYPES:
        raise InvalidId(f"Instagram has no post type {post_type!r} ({', '.join(POST_TYPES)})")
    return _post(shortcode)


def _insights(column: str, flow_key: str) -> Any:
    def lookup(handle: str) -> Lookup:
        handle = _handle_of(handle)

        async def fetch(pool: Any) -> dict[str, Any] | None:
            row = await fetch_one(pool, "account_by_handle", handle)
            if row is None or row[column] is None:
                return None if row is None else {
                    "profile_id": row["profile_id"], "handle": row["handle"], "insights": {},
                    "source": None, "refreshed_at": None}
            return {"profile_id": row["profile_id"], "handle": row["handle"],
                    "insights": row[column], "source": row[f"{column}_source"],
                    "refreshed_at": row[f"{column}_at"]}

        return Lookup(fetch, Refresh("refresh_profile_insights", {"handle": handle},
                                     f"ig:{flow_key}:{handle}", live_target=handle))

    return lookup


def _recent(profile_id: str, limit: int) -> RecentPosts:
    _valid(profile_id, PROFILE_ID, "user id (digits)")

    page = newest_first(sql("recent_posts"), profile_id, "publish_time")

    async def freshness(pool: Any) -> dict[str, Any] | None:
        account = await fetch_one(pool, "account_by_profile_id", profile_id)
        if account is None:
            return None
        return await fetch_one(pool, "posts_refreshed_at", profile_id)

    return RecentPosts(Lookup(freshness, Refresh(
        "refresh_profile_by_profile_id", {"profile_id": profile_id, "posts": min(limit, 50)},
        f"ig:recent:{profile_id}")), page)

def _story(ident: str) -> Lookup:
    """A story by "{user}/{media id}", as the URL router names one: refreshed with its
    account's live stories (a story no longer live fails as not found)."""
    handle, _, story_id = ident.partition("/")
    handle = _handle_of(handle)
    _valid(story_id, PROFILE_ID, "story id (digits)")
    return Lookup(lambda pool: fetch_one(pool, "post_by_post_id", story_id),
                  Refresh("refresh_stories_posts", {"handle": handle, "story_id": story_id},
                          f"ig:story:{story_id}"))


def _link(kind: str, ident: str) -> Lookup:
    if kind == "post":
        return _post(ident)
    if kind == "story":
        return _story(ident)
    if kind == "profile":
        return _handle(ident)
    if kind == "hashtag":
        raise InvalidId("a hashtag has no figures of its own: paste a post or profile link")
    raise InvalidId(f"Instagram has no {kind} links")


def _hashtag(tag: str) -> Refresh:
    """A watched hashtag: its newest posts, listed again (lower case, without #)."""
    if not HASHTAG.fullmatch(tag) or tag != tag.lower():
        raise InvalidId(f"{tag!r} is not an Instagram hashtag as Beat names one (lower-case "
                        "letters, digits and _, without #)")
    return Refresh("fetch_hashtag_posts",
                   {"hashtag": tag, "tab": "recent", "max_items": WATCHED_HASHTAG_POSTS},
                   f"ig:hashtag:{tag}")


async def _figures(pool: Any, row: dict[str, Any]) -> LinkFigures:
    if "post_id" not in row:  # an account
        return LinkFigures(author=row.get("handle"), followers=row.get("followers"),
                           caption=row.get("biography"),
                           **thumbnail(row, "profile_pic_url"))
    account = await fetch_one(pool, "account_by_profile_id", row["profile_id"]) \
        if row.get("profile_id") else None
    views = row.get("views") if row.get("views") is not None else row.get("plays")
    return LinkFigures(
        author=row.get("handle") or (account or {}).get("handle"),
        followers=(account or {}).get("followers"), likes=row.get("likes"),
        comments=row.get("comments"), shares=row.get("shares"), views=views,
        caption=row.get("caption"), published_at=row.get("publish_time"),
        **thumbnail(row, "thumbnail_url", "display_url"),
        author_refresh=_basic(row["handle"]) if account is None and row.get("handle")
        else None)


def _freshness_key(kind: str, ident: str) -> tuple[str, str]:
    if kind == "post":
        return "refreshed_posts", ident
    if kind == "story":
        return "refreshed_media", ident.partition("/")[2]
    return "refreshed_accounts", ident.lstrip("@").lower()


LOOKUPS = Lookups(profile_by_handle=_handle, profile_by_profile_id=_profile,
                  profile_id_of_row=_profile_of_row, post_by_shortcode=_post,
                  post_by_type=_post_by_type, recent_posts=_recent,
                  link=_link, figures=_figures, freshness=freshness_of(sql, _freshness_key),
                  profile_insights=_insights("insights", "insights"),
                  audience_insights=_insights("audience", "audience"),
                  collections={"hashtag": _hashtag},
                  profile_model=InstagramAccount, post_model=InstagramPost)
