"""Graph API objects of the Instagram world in the real shapes, answering only the fields asked:
IG users, IG media (with children and nested connections), comments, and cursor-paged
connections ({"data": [...], "paging": {"cursors": {"before", "after"}, "next"?}})."""

import base64
import binascii
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sandbox.instagram.graph_fields import FieldSpec
from sandbox.instagram.media import Comment, Media
from sandbox.instagram.world import Account, World

T = TypeVar("T")
DEFAULT_LIMIT = 25
MAX_LIMIT = 100
USER_DEFAULT = [FieldSpec("id")]
MEDIA_DEFAULT = [FieldSpec("id")]
COMMENT_DEFAULT = [FieldSpec("timestamp"), FieldSpec("text"), FieldSpec("id")]


class UnknownField(ValueError):
    """A field the node type does not have: (#100) Tried accessing nonexisting field."""

    def __init__(self, name: str, node_type: str) -> None:
        super().__init__(f"(#100) Tried accessing nonexisting field ({name}) on node type "
                         f"({node_type})")


def cursor(position: int) -> str:
    """An opaque Graph-looking cursor naming a position in a listing."""
    return base64.b64encode(f"QVFI:{position:08d}".encode()).decode().rstrip("=")


def read_cursor(value: str | None) -> int | None:
    if not value:
        return None
    try:
        text = base64.b64decode(value + "=" * (-len(value) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    head, _, position = text.partition(":")
    return int(position) if head == "QVFI" and position.isdigit() else None


def page_bounds(limit: int, after: str | None, before: str | None,
                total: int) -> tuple[int, int]:
    """[start, end) of the page a limit and an after/before cursor name."""
    limit = max(1, min(MAX_LIMIT, limit))
    before_at = read_cursor(before)
    if before_at is not None:
        return max(0, before_at - limit), min(total, before_at)
    after_at = read_cursor(after)
    start = after_at + 1 if after_at is not None else 0
    return start, min(total, start + limit)


def connection(items: Sequence[T], start: int, total: int, render: Callable[[T], dict[str, Any]],
               next_url: Callable[[str], str] | None = None) -> dict[str, Any]:
    """One page of a listing whose first item sits at `start`; `next_url(after)` adds the
    next link when more remain (nested connections carry only cursors)."""
    body: dict[str, Any] = {"data": [render(item) for item in items]}
    if not items:
        return body
    last = start + len(items) - 1
    paging: dict[str, Any] = {"cursors": {"before": cursor(start), "after": cursor(last)}}
    if next_url is not None and last + 1 < total:
        paging["next"] = next_url(cursor(last))
    body["paging"] = paging
    return body


def graph_time(moment: datetime) -> str:
    """2021-08-17T19:00:42+0000, as the Graph API writes timestamps."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S+0000")


def render_user(world: World, account: Account, fields: list[FieldSpec]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for spec in fields or USER_DEFAULT:
        value = _user_field(world, account, spec)
        if value is not None:
            out[spec.name] = value
    return out


def _user_field(world: World, account: Account, spec: FieldSpec) -> Any:
    simple: dict[str, Callable[[], Any]] = {
        "id": lambda: account.graph_id, "ig_id": lambda: int(account.pk),
        "username": lambda: account.handle, "name": lambda: account.full_name,
        "biography": lambda: account.biography, "website": lambda: account.website,
        "followers_count": lambda: account.followers,
        "follows_count": lambda: account.following,
        "media_count": lambda: account.media_count,
        "profile_picture_url": lambda: account.profile_pic_url}
    if spec.name in simple:
        return simple[spec.name]()
    if spec.name == "media":
        limit = spec.arg_int("limit", DEFAULT_LIMIT)
        start, end = page_bounds(limit, spec.args.get("after"), spec.args.get("before"),
                                 account.media_count)
        items = world.media_of(account, start, end - start)
        return connection(items, start, account.media_count,
                          lambda x: render_media(x, spec.children or []))
    raise UnknownField(spec.name, "IGUser")


def render_media(media: Media, fields: list[FieldSpec]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for spec in fields or MEDIA_DEFAULT:
        value = _media_field(media, spec)
        if value is not None:
            out[spec.name] = value
    return out


def media_type(media: Media) -> str:
    if media.media_type == "carousel":
        return "CAROUSEL_ALBUM"
    return "VIDEO" if media.video else "IMAGE"


def product_type(media: Media) -> str:
    return {"reels": "REELS", "story": "STORY"}.get(media.media_type, "FEED")


def _media_field(media: Media, spec: FieldSpec) -> Any:
    story, child = media.media_type == "story", media.is_child
    simple: dict[str, Callable[[], Any]] = {
        "id": lambda: media.graph_id, "ig_id": lambda: media.pk,
        "caption": lambda: media.caption, "media_type": lambda: media_type(media),
        "media_product_type": lambda: product_type(media),
        "media_url": lambda: media.video_url or media.display_url,
        "thumbnail_url": lambda: media.display_url if media.video else None,
        "permalink": lambda: media.permalink, "shortcode": lambda: media.shortcode,
        "timestamp": lambda: graph_time(media.taken_at), "username": lambda: media.owner_handle,
        "owner": lambda: {"id": media.owner_graph_id},
        "like_count": lambda: None if story or child else media.likes,
        "comments_count": lambda: None if story or child else media.comments,
        "is_comment_enabled": lambda: None if story or child else True,
    }
    if spec.name in simple:
        return simple[spec.name]()
    if spec.name == "children":
        if media.media_type != "carousel":
            return None
        return {"data": [render_media(c, spec.children or []) for c in media.children]}
    raise UnknownField(spec.name, "IGMedia")


def render_comment(comment: Comment, fields: list[FieldSpec]) -> dict[str, Any]:
    simple: dict[str, Any] = {
        "id": comment.comment_id, "text": comment.text, "timestamp": graph_time(comment.created),
        "username": comment.author_handle, "like_count": comment.likes,
        "from": {"id": comment.author_pk, "username": comment.author_handle},
        "media": {"id": comment.media_graph_id}, "hidden": False}
    out: dict[str, Any] = {}
    for spec in fields or COMMENT_DEFAULT:
        if spec.name not in simple:
            raise UnknownField(spec.name, "IGComment")
        out[spec.name] = simple[spec.name]
    return out
