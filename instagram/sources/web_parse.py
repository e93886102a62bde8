"""Pure functions from Instagram's web JSON (www.instagram.com) to Beat's Instagram models, with
source "instagram_web"; among them web_document for `beat parse`. No I/O, no state.

Shapes read (see ../shared/fixtures/instagram/ig_web_graphql_*):

    profile     {"data": {"user": {username, ..., edge_owner_to_timeline_media: {count,
                 page_info: {has_next_page, end_cursor}, edges: [{node: media}]}}}}
    timeline    the same without the profile's fields (the user holds only the edge)
    media       {"data": {"xdt_shortcode_media": media}}, also "shortcode_media", and the older
                {"graphql": {"shortcode_media": media}}

A media node: likes are edge_media_preview_like.count (else edge_liked_by.count), comments
edge_media_to_comment.count (else edge_media_to_parent_comment / edge_media_preview_comment),
video_view_count and video_play_count are views and plays, the caption is the first
edge_media_to_caption node's text, taken_at_timestamp the publication time. Its type comes from
product_type "clips" (a reel) else __typename: GraphImage, GraphSidecar (carousel), GraphVideo.
Missing stays None, never 0. A body of another shape raises UnknownShape.
"""

from datetime import UTC, datetime
from typing import Any, Literal

from core.normalized import Normalized, to_int
from core.parsing import UnknownShape, shape_errors
from instagram.models import WEB, Page, Post, PostType, Profile, ProfileWithPosts

ProfileType = Literal["personal", "business", "creator"]
WEB_URL = "https://www.instagram.com"
_TYPES: dict[str, PostType] = {"GraphImage": "image", "GraphSidecar": "carousel",
                               "GraphVideo": "video", "XDTGraphImage": "image",
                               "XDTGraphSidecar": "carousel", "XDTGraphVideo": "video"}
_MEDIA_KEYS = ("xdt_shortcode_media", "shortcode_media")


def user_of(body: Any) -> dict[str, Any] | None:
    """data.user of a profile or timeline answer; None when the web names no such user
    ({"data": {"user": null}}); UnknownShape for another body."""
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict) or "user" not in data:
        raise UnknownShape("expected an Instagram web answer with data.user")
    user = data["user"]
    if user is not None and not isinstance(user, dict):
        raise UnknownShape("data.user is not an object")
    return user


def media_of(body: Any) -> dict[str, Any] | None:
    """The shortcode media of a post answer; None when the web names no such post (null)."""
    if not isinstance(body, dict):
        raise UnknownShape("expected an Instagram web answer object")
    holder = body.get("data") if "data" in body else body.get("graphql")
    if isinstance(holder, dict):
        for key in _MEDIA_KEYS:
            if key in holder:
                media = holder[key]
                if media is not None and not isinstance(media, dict):
                    raise UnknownShape(f"{key} is not an object")
                return media
    raise UnknownShape("expected data.xdt_shortcode_media or (graphql|data).shortcode_media")


@shape_errors
def parse_profile(user: dict[str, Any]) -> ProfileWithPosts:
    """data.user of GET /api/v1/users/web_profile_info/?username=H."""
    handle = user["username"]
    timeline = user.get("edge_owner_to_timeline_media") or {}
    page = _timeline(timeline, handle)
    profile = Profile(
        profile_id=_str(user.get("id")) or None,
        handle=handle,
        full_name=user.get("full_name"),
        biography=user.get("biography"),
        website=user.get("external_url"),
        followers=_count(user.get("edge_followed_by")),
        following=_count(user.get("edge_follow")),
        media_count=_count(timeline),
        profile_pic_url=user.get("profile_pic_url_hd") or user.get("profile_pic_url"),
        profile_type=_profile_type(user),
        is_private=user.get("is_private"),
        is_verified=user.get("is_verified"),
        is_business_or_creator=_professional(user),
        category=user.get("category_name") or user.get("business_category_name"),
        fbid=_str(user.get("fbid")) or None,
        source=WEB,
    )
    return ProfileWithPosts(profile=profile, posts=page.items, next_cursor=page.next_cursor)


@shape_errors
def parse_timeline(user: dict[str, Any], handle: str | None = None) -> Page[Post]:
    """data.user.edge_owner_to_timeline_media of a timeline page: its posts, newest first."""
    return _timeline(user["edge_owner_to_timeline_media"], handle)


@shape_errors
def parse_media(media: dict[str, Any]) -> Post:
    """A shortcode media (a post, carousel, video or reel) on its own."""
    return _post(media, None)


def web_document(document: Any) -> list[Normalized] | None:
    """The posts and profiles of a web JSON answer (profile first, then its posts); None when
    the document is not web JSON; UnknownShape when it is but cannot be read."""
    if not isinstance(document, dict):
        return None
    if isinstance(document.get("graphql"), dict) or _has_media(document.get("data")):
        media = media_of(document)
        return [] if media is None else [parse_media(media).normalized()]
    data = document.get("data")
    if not isinstance(data, dict) or "user" not in data:
        return None
    user = user_of(document)
    if user is None:
        return []
    if "username" not in user:
        return [post.normalized() for post in parse_timeline(user).items]
    found = parse_profile(user)
    return [found.profile.normalized(), *(post.normalized() for post in found.posts)]


def _has_media(data: Any) -> bool:
    return isinstance(data, dict) and any(key in data for key in _MEDIA_KEYS)


def _timeline(edge: dict[str, Any], handle: str | None) -> Page[Post]:
    edges = edge.get("edges") or []
    info = edge.get("page_info") or {}
    cursor = info.get("end_cursor") if info.get("has_next_page") else None
    return Page(items=[_post(e["node"], handle) for e in edges], next_cursor=cursor or None,
                total=_count(edge))


def _post(node: dict[str, Any], handle: str | None) -> Post:
    owner = node.get("owner") or {}
    post_type = _post_type(node)
    shortcode = node.get("shortcode") or None
    return Post(
        post_id=_str(node["id"]),
        shortcode=shortcode,
        profile_id=_str(owner.get("id")) or None,
        handle=owner.get("username") or handle,
        post_type=post_type,
        caption=_caption(node),
        permalink=permalink(shortcode, post_type),
        thumbnail_url=node.get("thumbnail_src") or None,
        display_url=node.get("display_url") or None,
        likes=_count(node.get("edge_media_preview_like")) if "edge_media_preview_like" in node
        else _count(node.get("edge_liked_by")),
        comments=_comments(node),
        views=_nonnegative(node.get("video_view_count")),
        plays=_nonnegative(node.get("video_play_count")),
        children=_children(node),
        published_at=_time(node.get("taken_at_timestamp")),
        source=WEB,
    )


def permalink(shortcode: str | None, post_type: PostType | None) -> str | None:
    """https://www.instagram.com/p/{shortcode}/, /reel/ for a reel."""
    if not shortcode:
        return None
    return f"{WEB_URL}/{'reel' if post_type == 'reels' else 'p'}/{shortcode}/"


def _post_type(node: dict[str, Any]) -> PostType | None:
    if node.get("product_type") == "clips":
        return "reels"
    found = _TYPES.get(str(node.get("__typename")))
    if found is None and node.get("is_video") is not None:
        return "video" if node["is_video"] else "image"
    return found


def _caption(node: dict[str, Any]) -> str | None:
    edges = (node.get("edge_media_to_caption") or {}).get("edges") or []
    return str(edges[0]["node"]["text"]) if edges else None


def _comments(node: dict[str, Any]) -> int | None:
    for key in ("edge_media_to_comment", "edge_media_to_parent_comment",
                "edge_media_preview_comment"):
        if key in node:
            return _count(node[key])
    return None


def _children(node: dict[str, Any]) -> int | None:
    sidecar = node.get("edge_sidecar_to_children")
    return len(sidecar.get("edges") or []) if isinstance(sidecar, dict) else None


def _profile_type(user: dict[str, Any]) -> ProfileType | None:
    if user.get("is_business_account"):
        return "business"
    if user.get("is_professional_account"):
        return "creator"
    if user.get("is_professional_account") is False:
        return "personal"
    return None


def _professional(user: dict[str, Any]) -> bool | None:
    flags = [user.get(k) for k in ("is_professional_account", "is_business_account")]
    known = [flag for flag in flags if flag is not None]
    return any(known) if known else None


def _count(edge: Any) -> int | None:
    return _nonnegative(edge.get("count")) if isinstance(edge, dict) else None


def _nonnegative(value: Any) -> int | None:
    """A count; a negative one (the web's "hidden") is unknown."""
    count = to_int(value)
    return None if count is None or count < 0 else count


def _str(value: Any) -> str:
    return "" if value is None else str(value)


def _time(value: Any) -> datetime | None:
    if value is None or isinstance(value, bool):
        return None
    return datetime.fromtimestamp(int(value), UTC)
