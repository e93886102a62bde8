"""The sandbox world's pages, posts and videos as Graph API nodes, in the real answers' shapes
(fields as requested; a field the node type does not have is an error, as on Facebook)."""

import re
from datetime import datetime
from typing import Any

from sandbox.facebook.world import FbPage, FbPost, FbVideo

PAGE_FIELDS = frozenset({"id", "name", "username", "link", "category", "verification_status",
                         "fan_count", "followers_count", "talking_about_count", "picture"})
POST_FIELDS = frozenset({"id", "message", "created_time", "updated_time", "permalink_url",
                         "status_type", "from", "shares", "reactions", "comments",
                         "full_picture", "picture"})
VIDEO_FIELDS = frozenset({"id", "title", "description", "created_time", "updated_time",
                          "permalink_url", "length", "views", "from", "reactions", "comments",
                          "published", "post_type", "picture"})
Node = FbPage | FbPost | FbVideo
CDN = "https://scontent.xx.fbcdn.net/v/sandbox"


class UnknownField(ValueError):
    """A requested field the node type does not have: (field, node type)."""


def requested(fields: str | None, default: frozenset[str]) -> list[str]:
    """Top-level field names of a `fields` parameter ("reactions.summary(...).limit(0)" ->
    "reactions"); the node's default fields when none is given."""
    if not fields:
        return sorted(default)
    names: list[str] = []
    for part in re.split(r",(?![^{(]*[)}])", fields):
        name = re.split(r"[.{(]", part.strip(), maxsplit=1)[0]
        if name and name not in names:
            names.append(name)
    return names


def render(node: Node, fields: str | None) -> dict[str, Any]:
    full, kind = _full(node)
    allowed = PAGE_FIELDS if kind == "Page" else POST_FIELDS if kind == "Post" else VIDEO_FIELDS
    found: dict[str, Any] = {}
    for name in requested(fields, frozenset({"id", "name"} if kind == "Page"
                                            else {"id", "created_time"})):
        if name not in allowed:
            raise UnknownField(name, kind)
        if full.get(name) is not None:
            found[name] = full[name]
    found.setdefault("id", full["id"])
    return found


def _full(node: Node) -> tuple[dict[str, Any], str]:
    if isinstance(node, FbPage):
        return {"id": node.page_id, "name": node.name, "username": node.username,
                "link": f"https://www.facebook.com/{node.username}", "category": node.category,
                "verification_status": "blue_verified" if node.verified else "not_verified",
                "fan_count": node.fan_count, "followers_count": node.followers,
                "talking_about_count": node.talking_about,
                "picture": {"data": {"height": 50, "is_silhouette": False, "width": 50,
                                     "url": f"{CDN}/p50x50/{node.page_id}.png"}}}, "Page"
    owner = {"name": node.page.name, "id": node.page.page_id}
    counts = {"reactions": _edge(node.reactions, {"viewer_reaction": "NONE"}),
              "comments": _edge(node.comments, {"order": "ranked", "can_comment": True})}
    if isinstance(node, FbPost):
        story = node.post_id.partition("_")[2]
        return {"id": node.post_id, "message": node.message, "created_time": _time(node.created),
                "updated_time": _time(node.created), "status_type": node.status_type,
                "permalink_url": f"https://www.facebook.com/{node.page.page_id}/posts/{story}",
                "from": owner, "shares": None if node.shares is None else {"count": node.shares},
                **_pictures(node), **counts}, "Post"
    link = f"/reel/{node.video_id}/" if node.reel \
        else f"/{node.page.username}/videos/{node.video_id}/"
    return {"id": node.video_id, "title": node.title, "description": node.description,
            "created_time": _time(node.created), "updated_time": _time(node.created),
            "permalink_url": link, "length": node.length, "views": node.views, "from": owner,
            "published": True, "post_type": "reel" if node.reel else "video",
            "picture": f"{CDN}/t15.5256-10/{node.video_id}_n.jpg", **counts}, "Video"


def _pictures(post: FbPost) -> dict[str, Any]:
    """A photo or shared link has a picture (full size, and 130 px); a text update has none."""
    if post.status_type == "mobile_status_update":
        return {}
    name = post.post_id.partition("_")[2]
    return {"full_picture": f"{CDN}/p720x720/{name}_n.jpg",
            "picture": f"{CDN}/p130x130/{name}_n.jpg"}


def _edge(total: int, extra: dict[str, Any]) -> dict[str, Any]:
    return {"data": [], "summary": {"total_count": total, **extra}}


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S+0000")
