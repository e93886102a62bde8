"""Pure functions from decoded Instagram Graph API bodies to models; no I/O, no state. Among
them graph_document, the Graph API's share of `beat parse`.

A body that is not the expected shape raises UnknownShape, never a KeyError or TypeError;
counts may arrive as strings and are read with `to_int`; a field not asked for stays None.
"""

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from core.normalized import Normalized, parse_time, to_int
from core.parsing import UnknownShape, shape_errors
from instagram.models import (
    GRAPH_API,
    Comment,
    Insight,
    Page,
    Post,
    PostType,
    Profile,
    ProfileWithPosts,
)

_SHORTCODE = re.compile(r"instagram\.com/(?:p|reel|tv)/([A-Za-z0-9_-]+)")
STORY_LIFETIME = timedelta(hours=24)
_USER_KEYS = ("username", "followers_count", "media_count", "biography", "follows_count")
_MEDIA_KEYS = ("media_type", "like_count", "comments_count", "caption", "permalink",
               "timestamp", "media_url")


@dataclass(frozen=True)
class GraphErrorInfo:
    code: int | None
    subcode: int | None
    message: str
    kind: str | None
    user_title: str | None = None


@shape_errors
def parse_error(body: Any) -> GraphErrorInfo | None:
    """The error of a Graph API error body; None for any other body."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None
    return GraphErrorInfo(code=to_int(error.get("code")),
                          subcode=to_int(error.get("error_subcode")),
                          message=str(error.get("message") or ""), kind=error.get("type"),
                          user_title=error.get("error_user_title"))


@shape_errors
def parse_user(body: Any, source: str = GRAPH_API) -> Profile:
    """An IG user object (/{ig-user-id}?fields=... or business_discovery's)."""
    _require_dict(body, "IG user")
    return Profile(
        # Instagram's own id (ig_id) keys the account whichever source answers; a body
        # without it (a raw document) keeps the Graph id.
        profile_id=_str(body.get("ig_id")) or _str(body.get("id")), graph_id=_str(body.get("id")),
        handle=str(body["username"]),
        full_name=body.get("name"), biography=body.get("biography"),
        website=body.get("website"), followers=to_int(body.get("followers_count")),
        following=to_int(body.get("follows_count")), media_count=to_int(body.get("media_count")),
        profile_pic_url=body.get("profile_picture_url"),
        # Only business and creator accounts are visible to the Graph API, never private ones.
        is_business_or_creator=True, is_private=False, source=source)


@shape_errors
def parse_media(body: Any, source: str = GRAPH_API, handle: str | None = None,
                profile_id: str | None = None) -> Post:
    """An IG media object; `handle`/`profile_id` name its owner when the body does not."""
    _require_dict(body, "IG media")
    post_type = post_type_of(body.get("media_type"), body.get("media_product_type"))
    published = parse_time(body.get("timestamp"))
    permalink = body.get("permalink")
    media_url = body.get("media_url")
    video = body.get("media_type") == "VIDEO"
    children = body.get("children")
    owner: dict[str, Any] = body["owner"] if isinstance(body.get("owner"), dict) else {}
    return Post(
        post_id=_str(body.get("ig_id")) or str(body["id"]), graph_id=_str(body.get("id")),
        shortcode=body.get("shortcode") or _shortcode(permalink),
        profile_id=profile_id or _str(owner.get("id")),
        handle=body.get("username") or handle, post_type=post_type, caption=body.get("caption"),
        permalink=permalink, thumbnail_url=body.get("thumbnail_url") if video else media_url,
        display_url=media_url, likes=to_int(body.get("like_count")),
        comments=to_int(body.get("comments_count")), plays=to_int(body.get("plays")),
        views=to_int(body.get("view_count")),
        children=len(children["data"]) if isinstance(children, dict) else None,
        published_at=published,
        expires_at=published + STORY_LIFETIME if post_type == "story" and published else None,
        source=source)


def post_type_of(media_type: Any, product_type: Any) -> PostType | None:
    if product_type == "STORY":
        return "story"
    if media_type == "CAROUSEL_ALBUM":
        return "carousel"
    if media_type == "VIDEO":
        return "reels" if product_type == "REELS" else "video"
    return "image" if media_type == "IMAGE" else None


@shape_errors
def parse_media_page(body: Any, source: str = GRAPH_API, handle: str | None = None,
                     profile_id: str | None = None) -> Page[Post]:
    """A media connection ({"data": [...], "paging": {...}}), top-level or nested."""
    posts = [parse_media(item, source, handle, profile_id) for item in _data(body)]
    return Page[Post](items=posts, next_cursor=next_cursor(body))


def next_cursor(body: dict[str, Any]) -> str | None:
    """The `after` cursor when more follow: a top-level connection says so with paging.next;
    a nested one (business_discovery) carries cursors only."""
    paging = body.get("paging")
    if not isinstance(paging, dict) or not _data(body):
        return None
    after = (paging.get("cursors") or {}).get("after")
    if "next" in paging or "previous" in paging:
        return str(after) if after and paging.get("next") else None
    return str(after) if after else None


@shape_errors
def parse_business_discovery(body: Any, source: str = GRAPH_API) -> ProfileWithPosts:
    """{"business_discovery": {user fields, "media": {...}}, "id": asking user}."""
    _require_dict(body, "business_discovery answer")
    found = body["business_discovery"]
    profile = parse_user(found, source)
    media = found.get("media")
    page = parse_media_page(media, source, profile.handle, profile.profile_id) \
        if isinstance(media, dict) else Page[Post](items=[])
    return ProfileWithPosts(profile=profile, posts=page.items, next_cursor=page.next_cursor)


@shape_errors
def parse_comments(body: Any, post_id: str | None = None,
                   source: str = GRAPH_API) -> Page[Comment]:
    comments = []
    for item in _data(body):
        author: dict[str, Any] = item["from"] if isinstance(item.get("from"), dict) else {}
        replies = item.get("replies")
        comments.append(Comment(
            comment_id=str(item["id"]), post_id=_str((item.get("media") or {}).get("id"))
            or post_id, text=item.get("text"),
            author_handle=item.get("username") or author.get("username"),
            author_id=_str(author.get("id")), likes=to_int(item.get("like_count")),
            replies=len(replies["data"]) if isinstance(replies, dict) else None,
            published_at=parse_time(item.get("timestamp")), source=source))
    return Page[Comment](items=comments, next_cursor=next_cursor(body))


@shape_errors
def parse_insights(body: Any) -> list[Insight]:
    """Both insights shapes: `values` (the latest value kept) and `total_value` (its value and
    breakdowns, dimension values joined with ","); dict values (audience metrics of older
    versions) become breakdowns."""
    insights = []
    for item in _data(body):
        value: int | float | None = None
        breakdowns: dict[str, int | float] = {}
        total = item.get("total_value")
        values = item.get("values")
        if isinstance(values, list) and values:
            latest = values[-1].get("value")
            if isinstance(latest, dict):
                breakdowns.update({str(k): _number(v) for k, v in latest.items()})
            else:
                value = _number(latest)
        if isinstance(total, dict):
            value = _number(total["value"]) if "value" in total else value
            for split in total.get("breakdowns") or []:
                for result in split.get("results") or []:
                    key = ",".join(str(v) for v in result["dimension_values"])
                    breakdowns[key] = breakdowns.get(key, 0) + _number(result["value"])
        insights.append(Insight(name=str(item["name"]), period=item.get("period"), value=value,
                                breakdowns=breakdowns))
    return insights


def graph_document(doc: Any) -> list[Normalized] | None:
    """`beat parse` for Graph API documents: business_discovery (profile and its media), an IG
    user, a media list, one media (carousels included), a {id: media} batch; None when `doc` is
    no Graph shape."""
    try:
        return _document(doc)
    except UnknownShape:
        return None


def _document(doc: Any) -> list[Normalized] | None:
    if not isinstance(doc, dict):
        return None
    if isinstance(doc.get("business_discovery"), dict):
        found = doc["business_discovery"]
        media = found.get("media")
        posts = parse_media_page(media).items if isinstance(media, dict) else []
        profile = [parse_user(found).normalized()] if "username" in found else []
        return profile + [p.normalized() for p in posts]
    if _is_user(doc):
        return [parse_user(doc).normalized()]
    if _is_media(doc):
        return [parse_media(doc).normalized()]
    if isinstance(doc.get("data"), list) and doc["data"] and all(_is_media(x) for x in doc["data"]):
        return [p.normalized() for p in parse_media_page(doc).items]
    if doc and all(isinstance(v, dict) and _is_media(v) for v in doc.values()):
        return [parse_media(v).normalized() for v in doc.values()]
    return None


def _is_user(doc: dict[str, Any]) -> bool:
    return "id" in doc and "username" in doc and any(k in doc for k in _USER_KEYS[1:])


def _is_media(doc: Any) -> bool:
    return isinstance(doc, dict) and "id" in doc and any(k in doc for k in _MEDIA_KEYS)


def _data(body: Any) -> list[dict[str, Any]]:
    _require_dict(body, "connection")
    data = body["data"]
    if not isinstance(data, list) or not all(isinstance(x, dict) for x in data):
        raise UnknownShape("a Graph API connection's data is not a list of objects")
    return data


def _require_dict(body: Any, what: str) -> None:
    if not isinstance(body, dict):
        raise UnknownShape(f"a Graph API {what} is a JSON object, got {type(body).__name__}")


def _shortcode(permalink: Any) -> str | None:
    match = _SHORTCODE.search(permalink) if isinstance(permalink, str) else None
    return match.group(1) if match else None


def _number(value: Any) -> int | float:
    if isinstance(value, float):
        return value
    count = to_int(value)
    if count is None:
        raise ValueError("an insights value is missing")
    return count


def _str(value: Any) -> str | None:
    return None if value is None else str(value)
