"""Instagram private-API (i.instagram.com) bodies of the sandbox's world, as the RapidAPI-style
provider passes them on, and the provider's envelope around them:

    {"status": "done", "response": {"status_code": 200, "content_type": "application/json",
                                    "body": {...}}}

Users {pk, pk_id, username, full_name, biography, follower_count, following_count, media_count,
is_private, is_verified, is_business, account_type (1 personal, 2 business, 3 creator),
category, profile_pic_url, external_url}; media {pk, id "pk_userpk", code, taken_at,
media_type (1 image, 2 video, 8 carousel), product_type (feed, clips, carousel_container,
story), caption {text} | null, like_count, comment_count, play_count, user, image_versions2,
carousel_media_count}. A hidden like count: like_count left out and
like_and_view_counts_disabled true."""

from typing import Any

from sandbox.instagram.media import Comment, Media
from sandbox.instagram.world import PK_BASE, Account

_ACCOUNT_TYPES = {"personal": 1, "business": 2, "creator": 3}
_MEDIA_TYPES = {"image": 1, "video": 2, "reels": 2, "carousel": 8, "story": 1}
_PRODUCTS = {"image": "feed", "video": "feed", "reels": "clips",
             "carousel": "carousel_container", "story": "story"}


def envelope(body: Any, status_code: int = 200) -> dict[str, Any]:
    return {"status": "done", "response": {"status_code": status_code,
                                           "content_type": "application/json", "body": body}}


def failure(message: str, status_code: int) -> dict[str, Any]:
    """Instagram's refusal, wrapped: {"message", "status": "fail"}."""
    return envelope({"message": message, "status": "fail"}, status_code)


def user(account: Account) -> dict[str, Any]:
    return {
        "pk": int(account.pk), "pk_id": account.pk, "username": account.handle,
        "full_name": account.full_name, "biography": account.biography,
        "follower_count": account.followers, "following_count": account.following,
        "media_count": account.media_count, "is_private": account.is_private,
        "is_verified": account.is_verified, "is_business": account.kind == "business",
        "account_type": _ACCOUNT_TYPES[account.kind], "category": account.category or "",
        "profile_pic_url": account.profile_pic_url, "external_url": account.website or "",
        "fbid_v2": account.fbid,
    }


def short_user(account: Account) -> dict[str, Any]:
    """A user in a listing (followers, following, likers)."""
    return {"pk": int(account.pk), "pk_id": account.pk, "username": account.handle,
            "full_name": account.full_name, "is_private": account.is_private,
            "is_verified": account.is_verified, "profile_pic_url": account.profile_pic_url}


def media(item: Media) -> dict[str, Any]:
    owner_pk = PK_BASE + item.owner_index
    found: dict[str, Any] = {
        "pk": int(item.pk), "id": f"{item.pk}_{owner_pk}", "code": item.shortcode,
        "taken_at": int(item.taken_at.timestamp()),
        "media_type": 2 if item.video else _MEDIA_TYPES[item.media_type],
        "product_type": _PRODUCTS[item.media_type],
        "caption": {"pk": str(int(item.pk) + 1), "text": item.caption} if item.caption else None,
        "comment_count": item.comments or 0,
        "user": {"pk": owner_pk, "pk_id": str(owner_pk), "username": item.owner_handle},
        "image_versions2": {"candidates": [
            {"url": item.display_url, "width": 1080, "height": 1350 if item.video else 1080},
            {"url": item.display_url + "&s=640", "width": 640, "height": 800}]},
    }
    if item.likes is None:
        found["like_and_view_counts_disabled"] = True
    else:
        found["like_count"] = item.likes
    if item.video and item.plays is not None:
        found["play_count"] = item.plays
    if item.children:
        found["carousel_media_count"] = len(item.children)
        found["carousel_media"] = [media(child) for child in item.children]
    if item.expires_at is not None:
        found["expiring_at"] = int(item.expires_at.timestamp())
        found.pop("comment_count")
    return found


def comment(item: Comment) -> dict[str, Any]:
    return {"pk": item.comment_id, "media_id": item.media_pk, "text": item.text,
            "created_at": int(item.created.timestamp()), "comment_like_count": item.likes,
            "child_comment_count": item.replies,
            "user": {"pk": int(item.author_pk), "username": item.author_handle}}


def sections(items: list[Media], per_row: int = 3) -> list[dict[str, Any]]:
    """A hashtag page's rows: layout_content.medias of `per_row` media each."""
    return [{"layout_type": "media_grid", "feed_type": "media",
             "layout_content": {"medias": [{"media": media(x)} for x in items[i:i + per_row]]}}
            for i in range(0, len(items), per_row)]
