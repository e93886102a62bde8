"""Facebook's Graph API under /facebook/graph/ (and /facebook/graph/vNN.N/), on the sandbox's
Facebook world (its /graph/ belongs to Instagram's sandbox):

    GET /{page-id | page-username}?fields=...      a page
    GET /{post-id | pfbid}?fields=...               a post (reactions, comments, shares)
    GET /{video-id}?fields=...                      a video or reel (views, length)
    GET /?ids=a,b,...&fields=...                    up to 50 nodes at once: {id: node}

`access_token` must be a sandbox token (sandbox/graph/debug_token.py: TOKENS); an expired one
(or one expired through /_sandbox/facebook/graph/tokens/{token}/expire) answers 400
OAuthException 190/463. Every answer carries x-app-usage and x-business-use-case-usage; a spent
budget answers code 4 (app) or 17 (a user token). The world's private post answers 100 "missing
permission", its deleted post and unknown ids 100 "does not exist".
"""

import re
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from sandbox.facebook.render import Node, UnknownField, render
from sandbox.facebook.usage import MESSAGES, UsageBook
from sandbox.facebook.world import DELETED_POST, PRIVATE_POST, World
from sandbox.graph.debug_token import (
    CANNOT_PARSE,
    TOKENS,
    GraphJSON,
    _session_expired,
    expired_tokens,
    fbtrace_id,
    oauth_error,
)
from sandbox.state import state_of

router = APIRouter(prefix="/facebook/graph")
_VERSION = re.compile(r"^v\d+\.\d+$")
MAX_IDS = 50
MISSING_PERMISSION = (
    "(#100) Object does not exist, cannot be loaded due to missing permission or reviewable "
    "feature, or does not support this operation. This endpoint requires the "
    "'pages_read_engagement' permission or the 'Page Public Content Access' feature.")


@dataclass
class FacebookGraph:
    world: World
    usage: UsageBook = field(default_factory=UsageBook)


def graph_state(request: Request) -> FacebookGraph:
    found: FacebookGraph = request.app.state.facebook_graph
    return found


class GraphError(Exception):
    def __init__(self, code: int, message: str, subcode: int | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.subcode = code, message, subcode


@router.get("/{path:path}")
async def graph(request: Request, path: str) -> Response:
    trace = fbtrace_id(str(request.url))
    parts = [p for p in path.split("/") if p]
    if parts and _VERSION.match(parts[0]):
        parts = parts[1:]
    token = request.query_params.get("access_token")
    refused = _refuse(request, token, trace)
    if refused is not None:
        return refused
    now = state_of(request).quota.clock().timestamp()
    code, headers = graph_state(request).usage.charge(str(token), now)
    if code is not None:
        return _error(GraphError(code, MESSAGES[code]), trace, headers)
    try:
        body = _answer(graph_state(request).world, parts, request.query_params)
    except GraphError as exc:
        return _error(exc, trace, headers)
    return GraphJSON(body, headers=headers)


def _answer(world: World, parts: list[str], query: Any) -> dict[str, Any]:
    fields = query.get("fields")
    if not parts:
        ids = [i for i in (query.get("ids") or "").split(",") if i]
        if not ids:
            raise GraphError(100, "(#100) Missing 'ids' parameter or node id")
        if len(ids) > MAX_IDS:
            raise GraphError(100, f"(#100) Too many IDs. Maximum: {MAX_IDS}. Provided: "
                                  f"{len(ids)}.")
        nodes = {i: _node(world, i) for i in ids}
        return {i: _render(node, fields) for i, node in nodes.items()}
    if len(parts) != 1:
        raise GraphError(100, "(#100) Unknown path components: /" + "/".join(parts[1:]))
    return _render(_node(world, parts[0]), fields)


def _node(world: World, key: str) -> Node:
    if key == PRIVATE_POST:
        raise GraphError(100, MISSING_PERMISSION, 10)
    found: Node | None = world.posts.get(key) or world.videos.get(key) or world.page(key)
    if found is None or key == DELETED_POST:
        raise GraphError(100, f"(#100) Some of the aliases you requested do not exist: {key}"
                         if not key.isdigit() and "_" not in key else
                         f"Unsupported get request. Object with ID '{key}' does not exist, "
                         "cannot be loaded due to missing permissions, or does not support "
                         "this operation.", 33 if key.replace("_", "").isdigit() else None)
    return found


def _render(node: Node, fields: str | None) -> dict[str, Any]:
    try:
        return render(node, fields)
    except UnknownField as exc:
        name, kind = exc.args
        raise GraphError(100, f"(#100) Tried accessing nonexisting field ({name}) on node type "
                              f"({kind})") from None


def _refuse(request: Request, token: str | None, trace: str) -> Response | None:
    if not token:
        return oauth_error(104, "An access token is required to request this resource.", trace)
    known = TOKENS.get(token)
    if known is None:
        return oauth_error(190, CANNOT_PARSE, trace)
    now = state_of(request).quota.clock()
    expired_at = expired_tokens(request).get(token)
    if expired_at is not None:
        return oauth_error(190, _session_expired(expired_at, now), trace, subcode=463)
    if not known[4]:
        return oauth_error(190, _session_expired(now + known[2], now), trace, subcode=463)
    return None


def _error(exc: GraphError, trace: str, headers: dict[str, str]) -> Response:
    error: dict[str, Any] = {"message": exc.message, "type": "OAuthException", "code": exc.code}
    if exc.subcode is not None:
        error["error_subcode"] = exc.subcode
    error["fbtrace_id"] = trace
    status = 403 if exc.code in (4, 17, 32) else 400
    return GraphJSON({"error": error}, status_code=status, headers=headers)
