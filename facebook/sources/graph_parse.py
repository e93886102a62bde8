"""Reading the Facebook Graph API's answers: a page, a post, a video or reel, a `?ids=` batch
({id: node}), a feed page ({"data": [...]}) and an error body ({"error": {...}}).

A node's kind is read from its fields: a page carries page fields (fan_count, username,
category, …) and no created_time; a video carries video fields (length, views, live_views,
embed_html, …) or a /videos/ or /reel/ permalink; anything else with an id is a post.
"""

from dataclasses import dataclass
from typing import Any

from core.normalized import parse_time, to_int
from core.parsing import UnknownShape, shape_errors
from facebook.models import GRAPH_API, Page, Post

PAGE_FIELDS = frozenset({"fan_count", "followers_count", "username", "category",
                         "verification_status", "talking_about_count", "about", "name"})
VIDEO_FIELDS = frozenset({"length", "views", "live_views", "embed_html", "format", "source",
                          "title", "live_status"})
POST_FIELDS = frozenset({"message", "created_time", "reactions", "comments", "shares",
                         "permalink_url", "status_type", "likes", "attachments"})


@dataclass(frozen=True)
class GraphErrorInfo:
    code: int | None
    subcode: int | None
    kind: str | None
    message: str


def parse_error(body: Any) -> GraphErrorInfo | None:
    """The error of an error body, None for any other body."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None
    return GraphErrorInfo(_code(error.get("code")), _code(error.get("error_subcode")),
                          error.get("type"), str(error.get("message") or "no message"))


def _code(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def is_page(node: dict[str, Any]) -> bool:
    return "created_time" not in node and "creation_time" not in node \
        and bool(PAGE_FIELDS & node.keys()) and not VIDEO_FIELDS - {"title"} & node.keys()


def is_video(node: dict[str, Any]) -> bool:
    link = str(node.get("permalink_url") or "")
    return bool(VIDEO_FIELDS & node.keys()) or "/videos/" in link or "/reel/" in link


def parse_page(node: dict[str, Any], source: str = GRAPH_API) -> Page:
    return Page(page_id=str(node["id"]), username=node.get("username"), name=node.get("name"),
                link=node.get("link"), category=node.get("category"),
                verification_status=node.get("verification_status"),
                fan_count=to_int(node.get("fan_count")),
                followers=to_int(node.get("followers_count")),
                talking_about=to_int(node.get("talking_about_count")),
                picture_url=_picture(node.get("picture")), source=source)


def parse_post(node: dict[str, Any], source: str = GRAPH_API) -> Post:
    """A post, or a video or reel (post_type "video" / "reel")."""
    video = is_video(node)
    owner = node.get("from")
    author: dict[str, Any] = owner if isinstance(owner, dict) else {}
    post_id = str(node["id"])
    return Post(
        post_id=post_id, post_type=_post_type(node, video),
        page_id=_page_id(post_id, author), author=author.get("name"),
        message=node.get("message", node.get("description")), title=node.get("title"),
        permalink=_permalink(node.get("permalink_url")),
        published_at=_time(node.get("created_time") or node.get("creation_time")),
        likes=_likes(node), comments=_comments(node.get("comments")),
        shares=to_int(node["shares"].get("count")) if isinstance(node.get("shares"), dict)
        else None,
        views=to_int(node.get("views")), length_s=_float(node.get("length")),
        thumbnail_url=_thumbnail(node), source=source)


def _picture(value: Any) -> str | None:
    """A page's `picture` edge ({"data": {"url": ...}}), or a plain URL."""
    if isinstance(value, dict):
        data = value.get("data")
        return str(data["url"]) if isinstance(data, dict) and data.get("url") else None
    return str(value) if value else None


def _thumbnail(node: dict[str, Any]) -> str | None:
    """A post's full_picture (its image, or a link's preview), a video's picture (its
    thumbnail), else the first attachment's image."""
    for field in ("full_picture", "picture"):
        if isinstance(node.get(field), str) and node[field]:
            return str(node[field])
    attachments = node.get("attachments")
    data = attachments.get("data") if isinstance(attachments, dict) else None
    first = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}
    image = (first.get("media") or {}).get("image") if isinstance(first.get("media"), dict) \
        else None
    return str(image["src"]) if isinstance(image, dict) and image.get("src") else None


def _post_type(node: dict[str, Any], video: bool) -> Any:
    if video:
        return "reel" if "/reel/" in str(node.get("permalink_url") or "") \
            or node.get("post_type") == "reel" else "video"
    kind = str(node.get("type") or node.get("status_type") or "")
    for name in ("photo", "video", "link", "event", "offer", "album"):
        if name in kind:
            return name
    return "status" if kind else None


def _page_id(post_id: str, author: dict[str, Any]) -> str | None:
    if author.get("id"):
        return str(author["id"])
    owner, sep, _ = post_id.partition("_")
    return owner if sep and owner.isdigit() else None


def _permalink(value: Any) -> str | None:
    if not value:
        return None
    link = str(value)
    return f"https://www.facebook.com{link}" if link.startswith("/") else link


def _time(value: Any) -> Any:
    """Graph times: 2021-07-09T19:09:52+0000."""
    if not value:
        return None
    text = str(value)
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = f"{text[:-2]}:{text[-2:]}"
    return parse_time(text)


def _summary_count(edge: Any) -> int | None:
    summary = edge.get("summary") if isinstance(edge, dict) else None
    return to_int(summary.get("total_count")) if isinstance(summary, dict) else None


def _likes(node: dict[str, Any]) -> int | None:
    """Every reaction type (reactions.summary); a video's likes.summary where only that was
    asked."""
    found = _summary_count(node.get("reactions"))
    return found if found is not None else _summary_count(node.get("likes"))


def _comments(edge: Any) -> int | None:
    found = _summary_count(edge)
    if found is None and isinstance(edge, dict):
        found = to_int(edge.get("count"))
    return found


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def parse_node(node: Any, source: str = GRAPH_API) -> Page | Post:
    if not isinstance(node, dict) or "id" not in node:
        raise UnknownShape("a Graph API node without an id")
    return parse_page(node, source) if is_page(node) else parse_post(node, source)


def parse_batch(body: Any, source: str = GRAPH_API) -> dict[str, Page | Post]:
    """A `?ids=` answer: {asked id: node}; ids the API did not answer are absent."""
    if not isinstance(body, dict):
        raise UnknownShape(f"{source}: an ids batch answer is an object")
    return {str(key): parse_node(node, source) for key, node in body.items()}


def is_batch(body: Any) -> bool:
    return isinstance(body, dict) and bool(body) and "id" not in body and all(
        isinstance(node, dict) and str(node.get("id")) == key for key, node in body.items())


@shape_errors
def graph_document(document: Any) -> list[Page | Post] | None:
    """Every page and post in a Graph API answer; None when it is no Facebook Graph shape;
    UnknownShape with the error's message for an error body."""
    error = parse_error(document)
    if error is not None:
        raise UnknownShape(f"a Graph API error (code {error.code}): {error.message}")
    if not isinstance(document, dict):
        return None
    data = document.get("data")
    if isinstance(data, list):
        return [parse_node(node) for node in data]
    if "id" in document:
        return [parse_node(document)]
    if is_batch(document):
        return list(parse_batch(document).values())
    return None
