"""What the generic read endpoints (core/api/entities.py) can look up on Facebook: pages by user
name (the "handle"), by numeric page id and by Beat's row id; posts, videos and reels by id (the
"shortcode": "{page_id}_{story_id}", a pfbid id, or a video's numeric id); a page's recent
stored posts; each with the flow that refreshes it."""

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from core.lookups import InvalidId, LinkFigures, Lookup, Lookups, RecentPosts, Refresh
from core.stored import StoredRow, freshness_of, newest_first, thumbnail
from facebook.store import fetch_one, sql

PAGE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-]{0,79}")
NUMERIC_ID = re.compile(r"[0-9]{1,25}")
POST_ID = re.compile(r"[0-9]{1,25}_[0-9]{1,25}|pfbid0[A-Za-z0-9]{20,80}")
POST_TYPES = ("post", "video", "reel", "watch")


class Stored(StoredRow):
    platform: Literal["facebook"] = "facebook"


class FacebookPage(Stored):
    """A stored Facebook page (facebook_page)."""

    page_id: str
    username: str | None = None
    name: str | None = None
    link: str | None = None
    category: str | None = None
    verification_status: str | None = None
    fan_count: int | None = None
    followers: int | None = None
    talking_about: int | None = None
    picture_url: str | None = None


class FacebookPost(Stored):
    """A stored Facebook post, video or reel (facebook_post)."""

    post_id: str
    aliases: list[str] = Field(default_factory=list)
    post_type: str | None = None
    page_id: str | None = None
    author: str | None = None
    message: str | None = None
    title: str | None = None
    permalink: str | None = None
    likes: int | None = None
    comments: int | None = None
    shares: int | None = None
    views: int | None = None
    length_s: float | None = None
    thumbnail_url: str | None = None
    publish_time: datetime | None = None


def _handle(handle: str) -> Lookup:
    name = handle.lstrip("@")
    if not PAGE_NAME.fullmatch(name):
        raise InvalidId(f"{handle!r} is not a Facebook page name (letters, digits, . and -)")
    name = name.lower()
    return Lookup(lambda pool: fetch_one(pool, "page_by_username", name),
                  Refresh("refresh_fb_page", {"page": name}, f"fb:page:{name}",
                          live_target=name))


def _profile(page_id: str) -> Lookup:
    if not NUMERIC_ID.fullmatch(page_id):
        raise InvalidId(f"{page_id!r} is not a Facebook page id (digits)")
    return Lookup(lambda pool: fetch_one(pool, "page_by_page_id", page_id),
                  Refresh("refresh_fb_page", {"page": page_id}, f"fb:page:{page_id}",
                          live_target=page_id))


async def _profile_of_row(pool: Any, row_id: int) -> str | None:
    row = await fetch_one(pool, "page_by_id", row_id)
    return str(row["page_id"]) if row else None


def _post(ident: str, video: bool | None = None) -> Lookup:
    """A post by "{page}_{story}" or pfbid id, a video or reel by its numeric id (a bare
    number is a video unless the caller says post)."""
    if POST_ID.fullmatch(ident):
        video = False
    elif not NUMERIC_ID.fullmatch(ident):
        raise InvalidId(f"{ident!r} is not a Facebook post or video id")
    video = True if video is None else video
    flow, param = ("refresh_fb_video", "video_id") if video else ("refresh_fb_post", "post_id")
    return Lookup(lambda pool: fetch_one(pool, "post_by_post_id", ident),
                  Refresh(flow, {param: ident}, f"fb:post:{ident}"))


def _post_by_type(post_type: str, ident: str) -> Lookup:
    kind = post_type.lower()
    if kind not in POST_TYPES:
        raise InvalidId(f"Facebook has no post type {post_type!r} ({', '.join(POST_TYPES)})")
    return _post(ident, video=kind != "post")


def _recent(page_id: str, limit: int) -> RecentPosts:
    if not NUMERIC_ID.fullmatch(page_id):
        raise InvalidId(f"{page_id!r} is not a Facebook page id (digits)")

    page = newest_first(sql("recent_posts"), page_id, "publish_time")

    async def freshness(pool: Any) -> dict[str, Any] | None:
        if await fetch_one(pool, "page_by_page_id", page_id) is None:
            return None
        return await fetch_one(pool, "posts_refreshed_at", page_id)

    return RecentPosts(Lookup(freshness, Refresh("refresh_fb_page", {"page": page_id},
                                                 f"fb:recent:{page_id}")), page)

def _link(kind: str, ident: str) -> Lookup:
    """A post ("{page}_{story}", pfbid, or a bare photo id), a video or reel, or a page."""
    if kind in ("post", "video"):
        return _post(ident, video=kind == "video")
    if kind == "profile":
        return _profile(ident) if NUMERIC_ID.fullmatch(ident) else _handle(ident)
    raise InvalidId(f"Facebook has no {kind} links")


async def _figures(pool: Any, row: dict[str, Any]) -> LinkFigures:
    if "post_id" not in row:  # a page
        followers = row.get("followers")
        return LinkFigures(author=row.get("name") or row.get("username"),
                           followers=followers if followers is not None else row.get("fan_count"),
                           **thumbnail(row, "picture_url"))
    page = await fetch_one(pool, "page_by_page_id", row["page_id"]) \
        if row.get("page_id") else None
    followers = (page or {}).get("followers")
    if followers is None:
        followers = (page or {}).get("fan_count")
    return LinkFigures(
        author=row.get("author") or (page or {}).get("name"), followers=followers,
        likes=row.get("likes"), comments=row.get("comments"), shares=row.get("shares"),
        views=row.get("views"), caption=row.get("message") or row.get("title"),
        published_at=row.get("publish_time"), **thumbnail(row, "thumbnail_url"),
        author_refresh=_profile(row["page_id"]).refresh if page is None and row.get("page_id")
        else None)


def _freshness_key(kind: str, ident: str) -> tuple[str, str]:
    if kind in ("post", "video"):
        return "refreshed_posts", ident
    return "refreshed_pages", ident if NUMERIC_ID.fullmatch(ident) else ident.lstrip("@").lower()


LOOKUPS = Lookups(profile_by_handle=_handle, profile_by_profile_id=_profile,
                  profile_id_of_row=_profile_of_row, post_by_shortcode=_post,
                  post_by_type=_post_by_type, recent_posts=_recent,
                  link=_link, figures=_figures, freshness=freshness_of(sql, _freshness_key),
                  profile_model=FacebookPage, post_model=FacebookPost)
