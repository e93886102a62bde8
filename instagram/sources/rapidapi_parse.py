"""Pure functions from the RapidAPI-style provider's answers to Beat's Instagram models, with
source "instagram_rapidapi"; among them rapidapi_document for `beat parse`. No I/O, no state.

The provider wraps what Instagram's private API (i.instagram.com) answered:

    {"status": "done", "response": {"status_code": 200, "content_type": "application/json",
                                    "body": {...}}}

and the bodies are that API's: a user {pk, username, full_name, biography, follower_count,
following_count, media_count, is_private, is_verified, is_business, account_type (1 personal,
2 business, 3 creator), category, profile_pic_url, external_url}; a media item {pk, id, code,
taken_at, media_type (1 image, 2 video, 8 carousel), product_type (feed, clips,
carousel_container, story), caption {text} | null, like_count, comment_count, play_count,
view_count, user {pk, username}, image_versions2 {candidates}, carousel_media_count}; lists
with next_max_id / next_min_id and more_available / big_list / has_more_comments. Hashtag
pages come as sections ({layout_content: {medias: [{media}]}}) or as items.
Missing stays None, never 0. Another shape raises UnknownShape.
"""

from datetime import UTC, datetime
from typing import Any, Literal

from core.normalized import Normalized, to_int
from core.parsing import UnknownShape, shape_errors
from instagram.models import RAPIDAPI, Account, Comment, Page, Post, PostType, Profile

ProfileType = Literal["personal", "business", "creator"]
WEB_URL = "https://www.instagram.com"
_ACCOUNT_TYPES: dict[int, ProfileType] = {1: "personal", 2: "business", 3: "creator"}
_MEDIA_TYPES: dict[int, PostType] = {1: "image", 2: "video", 8: "carousel"}


def unwrap(answer: Any) -> tuple[int, Any]:
    """(status code, body) of the provider's envelope; UnknownShape for another answer."""
    response = answer.get("response") if isinstance(answer, dict) else None
    if not isinstance(response, dict) or "body" not in response:
        raise UnknownShape("expected the provider's {status, response: {status_code, body}}")
    status = to_int(response.get("status_code"))
    return (200 if status is None else status), response["body"]


@shape_errors
def parse_user(body: Any) -> Profile:
    """{"user": {...}} of get_info / get_info_by_id."""
    return _profile(body["user"])


@shape_errors
def parse_media_page(body: Any) -> Page[Post]:
    """{"items": [...], "more_available", "next_max_id"}: get_media, get_tags."""
    items = [_post(item) for item in body["items"]]
    return Page(items=items, next_cursor=_next(body, "next_max_id", "more_available"),
                total=to_int(body.get("total_count")))


@shape_errors
def parse_single_media(body: Any) -> Post:
    """{"items": [media]} of get_info_by_shortcode; UnknownShape when it holds none."""
    items = body["items"]
    if not items:
        raise UnknownShape("media answer with no items")
    return _post(items[0])


@shape_errors
def parse_accounts(body: Any) -> Page[Account]:
    """{"users": [...], "next_max_id", "big_list"}: get_followers, get_following, get_likers."""
    users = [_account(user) for user in body["users"]]
    has_more = body.get("big_list", body.get("more_available"))
    cursor = body.get("next_max_id")
    return Page(items=users, next_cursor=_str(cursor) if cursor and has_more is not False
                else None, total=to_int(body.get("user_count")))


@shape_errors
def parse_comments(body: Any, post_id: str | None = None) -> Page[Comment]:
    """{"comments": [...], "comment_count", "next_min_id", "has_more_comments"}."""
    comments = [_comment(item, post_id) for item in body["comments"]]
    return Page(items=comments, next_cursor=_next(body, "next_min_id", "has_more_comments"),
                total=to_int(body.get("comment_count")))


@shape_errors
def parse_stories(body: Any) -> list[Post]:
    """{"reels": {user id: {items: [...]}}} of get_stories (reels_media)."""
    reels = body["reels"] or {}
    return [_post(item) for reel in reels.values() for item in (reel.get("items") or [])]


@shape_errors
def parse_hashtag_page(body: Any) -> Page[Post]:
    """A hashtag's media: sections of layout_content.medias, or plain items."""
    if "sections" in body:
        medias = [m["media"] for s in body["sections"]
                  for m in (s.get("layout_content") or {}).get("medias") or []]
    else:
        medias = body["items"]
    return Page(items=[_post(media) for media in medias],
                next_cursor=_next(body, "next_max_id", "more_available"))


def rapidapi_document(document: Any) -> list[Normalized] | None:
    """The posts and profiles of one provider answer; None when the document is not one."""
    if not isinstance(document, dict) or not isinstance(document.get("response"), dict):
        return None
    status, body = unwrap(document)
    if status != 200 or not isinstance(body, dict):
        return []
    if "user" in body:
        return [parse_user(body).normalized()]
    if "sections" in body:
        return [post.normalized() for post in parse_hashtag_page(body).items]
    if "items" in body:
        return [post.normalized() for post in parse_media_page(body).items]
    if "reels" in body:
        return [post.normalized() for post in parse_stories(body)]
    return None


def _profile(user: dict[str, Any]) -> Profile:
    account_type = to_int(user.get("account_type"))
    profile_type = _ACCOUNT_TYPES.get(account_type) if account_type is not None else None
    business = user.get("is_business")
    return Profile(
        profile_id=_str(user["pk"]),
        handle=user["username"],
        full_name=user.get("full_name"),
        biography=user.get("biography"),
        website=user.get("external_url") or None,
        followers=to_int(user.get("follower_count")),
        following=to_int(user.get("following_count")),
        media_count=to_int(user.get("media_count")),
        profile_pic_url=user.get("profile_pic_url"),
        profile_type=profile_type,
        is_private=user.get("is_private"),
        is_verified=user.get("is_verified"),
        is_business_or_creator=(profile_type in ("business", "creator")) if profile_type
        else business,
        category=user.get("category") or None,
        fbid=_str(user.get("fbid_v2")) or None,
        source=RAPIDAPI,
    )


def _post(item: dict[str, Any]) -> Post:
    user = item.get("user") or {}
    post_type = _post_type(item)
    code = item.get("code") or None
    caption = item.get("caption")
    return Post(
        post_id=_str(item["pk"]),
        shortcode=code,
        profile_id=_str(user.get("pk")) or None,
        handle=user.get("username"),
        post_type=post_type,
        caption=caption.get("text") if isinstance(caption, dict) else None,
        permalink=None if post_type == "story" or not code
        else f"{WEB_URL}/{'reel' if post_type == 'reels' else 'p'}/{code}/",
        thumbnail_url=_largest(item.get("image_versions2")),
        likes=to_int(item.get("like_count")),
        comments=to_int(item.get("comment_count")),
        plays=to_int(item.get("play_count")),
        views=to_int(item.get("view_count")),
        children=to_int(item.get("carousel_media_count")),
        published_at=_time(item.get("taken_at")),
        expires_at=_time(item.get("expiring_at")),
        source=RAPIDAPI,
    )


def _post_type(item: dict[str, Any]) -> PostType | None:
    product = item.get("product_type")
    if product == "story":
        return "story"
    if product == "clips":
        return "reels"
    media_type = to_int(item.get("media_type"))
    return _MEDIA_TYPES.get(media_type) if media_type is not None else None


def _account(user: dict[str, Any]) -> Account:
    return Account(user_id=_str(user["pk"]), handle=user["username"],
                   full_name=user.get("full_name"), is_private=user.get("is_private"),
                   is_verified=user.get("is_verified"),
                   profile_pic_url=user.get("profile_pic_url"))


def _comment(item: dict[str, Any], post_id: str | None) -> Comment:
    user = item.get("user") or {}
    return Comment(
        comment_id=_str(item["pk"]),
        post_id=_str(item.get("media_id")) or post_id,
        text=item.get("text"),
        author_handle=user.get("username"),
        author_id=_str(user.get("pk")) or None,
        likes=to_int(item.get("comment_like_count")),
        replies=to_int(item.get("child_comment_count")),
        published_at=_time(item.get("created_at")),
        source=RAPIDAPI,
    )


def _next(body: dict[str, Any], cursor_key: str, more_key: str) -> str | None:
    cursor = body.get(cursor_key)
    if not cursor or body.get(more_key) is False:
        return None
    return _str(cursor)


def _largest(versions: Any) -> str | None:
    candidates = versions.get("candidates") if isinstance(versions, dict) else None
    if not candidates:
        return None
    return str(max(candidates, key=lambda c: to_int(c.get("width")) or 0)["url"])


def _str(value: Any) -> str:
    return "" if value is None else str(value)


def _time(value: Any) -> datetime | None:
    if value is None or isinstance(value, bool):
        return None
    return datetime.fromtimestamp(int(value), UTC)
