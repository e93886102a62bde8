"""The web JSON bodies of the sandbox's Instagram world, in the shapes www.instagram.com answers
(../shared/fixtures/instagram/ig_web_graphql_user_timeline.json for a profile and its timeline
edges, ig_web_graphql_shortcode_media_reel.json for one media): GraphImage / GraphSidecar /
GraphVideo nodes (product_type "clips" for a reel), counts in edge_*.count, the caption in
edge_media_to_caption, taken_at_timestamp in epoch seconds. Hidden like counts: the like edges
are left out and like_and_view_counts_disabled is true."""

from typing import Any

from sandbox.instagram.media import Comment, Media
from sandbox.instagram.world import PK_BASE, Account, World

_TYPENAMES = {"image": "GraphImage", "carousel": "GraphSidecar", "video": "GraphVideo",
              "reels": "GraphVideo", "story": "GraphImage"}
PREVIEW_COMMENTS = 2


def profile(account: Account, posts: list[Media], next_cursor: str | None) -> dict[str, Any]:
    """data.user of web_profile_info: the account and (unless private) its first posts."""
    return {
        "biography": account.biography,
        "external_url": account.website,
        "edge_followed_by": {"count": account.followers},
        "edge_follow": {"count": account.following},
        "fbid": account.fbid,
        "full_name": account.full_name,
        "id": account.pk,
        "is_business_account": account.kind == "business",
        "is_professional_account": account.kind != "personal",
        "category_name": account.category,
        "is_private": account.is_private,
        "is_verified": account.is_verified,
        "profile_pic_url": account.profile_pic_url,
        "profile_pic_url_hd": account.profile_pic_url,
        "username": account.handle,
        "edge_owner_to_timeline_media": timeline(account, posts, next_cursor),
    }


def timeline(account: Account, posts: list[Media], next_cursor: str | None) -> dict[str, Any]:
    """edge_owner_to_timeline_media: count, page_info, edges."""
    return {
        "count": account.media_count,
        "page_info": {"has_next_page": next_cursor is not None, "end_cursor": next_cursor},
        "edges": [{"node": node(media)} for media in posts],
    }


def node(media: Media) -> dict[str, Any]:
    """A timeline node (as in a profile's edges)."""
    found: dict[str, Any] = {
        "__typename": _TYPENAMES[media.media_type],
        "id": media.pk,
        "shortcode": media.shortcode,
        "dimensions": {"height": 1350 if media.video else 1080, "width": 1080},
        "display_url": media.display_url,
        "owner": {"id": _owner_pk(media), "username": media.owner_handle},
        "is_video": media.video,
        "edge_media_to_caption": {"edges": [{"node": {"text": media.caption}}]
                                  if media.caption else []},
        "edge_media_to_comment": {"count": media.comments or 0},
        "comments_disabled": False,
        "taken_at_timestamp": int(media.taken_at.timestamp()),
        "thumbnail_src": media.display_url,
    }
    if media.likes is None:
        found["like_and_view_counts_disabled"] = True
    else:
        found["edge_liked_by"] = {"count": media.likes}
        found["edge_media_preview_like"] = {"count": media.likes}
    if media.video:
        found.update({"video_url": media.video_url, "video_view_count": media.plays})
    if media.media_type == "reels":
        found["product_type"] = "clips"
    return found


def shortcode_media(world: World, media: Media, owner: Account) -> dict[str, Any]:
    """xdt_shortcode_media: the node with its owner, first comments and carousel children."""
    found = node(media)
    found.pop("edge_media_to_comment")
    comments = world.comments_of(media, 0, PREVIEW_COMMENTS)
    found.update({
        "owner": {"id": owner.pk, "username": owner.handle, "full_name": owner.full_name,
                  "is_verified": owner.is_verified, "is_private": owner.is_private,
                  "profile_pic_url": owner.profile_pic_url,
                  "edge_owner_to_timeline_media": {"count": owner.media_count},
                  "edge_followed_by": {"count": owner.followers}},
        "edge_media_to_parent_comment": {
            "count": media.comments or 0,
            "page_info": {"has_next_page": (media.comments or 0) > len(comments),
                          "end_cursor": None},
            "edges": [{"node": _comment(c)} for c in comments]},
        "edge_media_preview_comment": {"count": media.comments or 0, "edges": []},
        "location": None,
        "is_published": True,
    })
    if media.video:
        found["video_play_count"] = media.plays
    if media.children:
        found["edge_sidecar_to_children"] = {"edges": [{"node": node(child)}
                                                       for child in media.children]}
    return found


def _comment(comment: Comment) -> dict[str, Any]:
    return {"id": comment.comment_id, "text": comment.text,
            "created_at": int(comment.created.timestamp()),
            "owner": {"id": comment.author_pk, "username": comment.author_handle},
            "edge_liked_by": {"count": comment.likes},
            "edge_threaded_comments": {"count": comment.replies}}


def _owner_pk(media: Media) -> str:
    return str(PK_BASE + media.owner_index)
