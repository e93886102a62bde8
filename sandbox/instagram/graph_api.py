"""The Instagram Graph API under /graph/ (and /graph/vNN.N/), on the sandbox's Instagram world:

    GET /{ig-user-id}?fields=...,business_discovery.username(H){fields,media.limit(n){...}}
    GET /{ig-user-id}/media|stories|tags?fields=&limit=&after=&before=
    GET /{ig-user-id}/insights?metric=&period=&metric_type=total_value&breakdown=
    GET /{media-id}?fields=...,children{...}      GET /{media-id}/children|comments|insights
    GET /ig_hashtag_search?user_id=&q=            GET /{hashtag-id}/top_media|recent_media
                                                  ?user_id=&fields=

`access_token` must be a sandbox token (sandbox/graph/debug_token.py: TOKENS); an expired one
answers 400 OAuthException 190/463. Every answer carries x-app-usage and
x-business-use-case-usage; a spent budget answers codes 4, 17, 32 or 613 (graph_usage.py).
"""

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from sandbox.graph.debug_token import (
    CANNOT_PARSE,
    IG_USER_ID,
    TOKEN_NO_INSIGHTS,
    TOKENS,
    GraphJSON,
    _session_expired,
    expired_tokens,
    fbtrace_id,
)
from sandbox.instagram import graph_insights as insights
from sandbox.instagram.graph_errors import (
    GraphError,
    bad_param,
    cannot_find_user,
    no_permission,
    no_such_object,
    rate_limited,
)
from sandbox.instagram.graph_fields import FieldSpec, FieldSyntax, parse_fields
from sandbox.instagram.graph_render import (
    DEFAULT_LIMIT,
    UnknownField,
    connection,
    page_bounds,
    render_comment,
    render_media,
    render_user,
)
from sandbox.instagram.graph_usage import MESSAGES, GraphUsage, Usage
from sandbox.instagram.media import Media
from sandbox.instagram.world import Account, Hashtag, World
from sandbox.state import state_of

router = APIRouter(prefix="/graph")
_VERSION = re.compile(r"^v\d+\.\d+$")
Node = Account | Media | Hashtag


@dataclass
class GraphState:
    world: World
    usage: GraphUsage = field(default_factory=GraphUsage)


def graph_state(request: Request) -> GraphState:
    found: GraphState = request.app.state.instagram_graph
    return found


@dataclass
class Call:
    """One request: its parameters, caller token and what it may charge."""

    request: Request
    world: World
    token: str
    now: datetime

    def param(self, name: str) -> str | None:
        return self.request.query_params.get(name)

    def fields(self) -> list[FieldSpec]:
        return parse_fields(self.param("fields"))

    def next_url(self, after: str) -> str:
        url = self.request.url.remove_query_params("before")
        return str(url.include_query_params(after=after))


@router.get("/{path:path}")
async def graph(request: Request, path: str) -> Response:
    parts = [p for p in path.split("/") if p]
    if parts and _VERSION.match(parts[0]):
        parts = parts[1:]
    state, now = graph_state(request), state_of(request).quota.clock()
    trace = fbtrace_id(str(request.url))
    usage: tuple[Usage, str] | None = None
    try:
        token = _caller(request.query_params.get("access_token"), expired_tokens(request), now)
        call = Call(request, state.world, token, now)
        node = _node(state.world, parts, call)
        edge = parts[1] if len(parts) > 1 else None
        business = _business_of(node, call)
        charged, refused = state.usage.charge(token, business, edge == "insights",
                                              now.timestamp())
        usage = (charged, business)
        if refused is not None:
            raise rate_limited(refused, MESSAGES[refused])
        body = _answer(call, node, edge)
    except (FieldSyntax, UnknownField) as exc:
        return _error(bad_param(str(exc)), trace, usage)
    except GraphError as exc:
        return _error(exc, trace, usage)
    return GraphJSON(body, headers=_usage_headers(usage))


def _caller(token: str | None, expired: dict[str, datetime], now: datetime) -> str:
    if not token:
        raise GraphError(104, "An access token is required to request this resource.")
    expired_at = expired.get(token)
    known = TOKENS.get(token)
    if known is None:
        raise GraphError(190, CANNOT_PARSE)
    if expired_at is not None or not known[4]:
        moment = expired_at if expired_at is not None else now + known[2]
        raise GraphError(190, _session_expired(moment, now), subcode=463)
    return token


def _node(world: World, parts: list[str], call: Call) -> Node | None:
    """The node a path names (None: the root search ig_hashtag_search)."""
    if parts == ["ig_hashtag_search"]:
        return None
    if not parts or len(parts) > 2:
        raise bad_param("Unknown path components: /" + "/".join(parts))
    node_id = parts[0]
    account = world.account_by_id(node_id) if node_id.isdigit() else None
    if account is not None and account.graph_id == node_id:
        return account
    media = world.media_by_id(node_id) if node_id.isdigit() else None
    if media is not None and media.graph_id == node_id:
        return media
    hashtag = world.hashtag_by_id(node_id)
    if hashtag is not None:
        return hashtag
    raise no_such_object(node_id)


def _business_of(node: Node | None, call: Call) -> str:
    """The IG user a call counts against (x-business-use-case-usage's key)."""
    if isinstance(node, Account) and node.graph_id:
        return node.graph_id
    if isinstance(node, Media) and node.owner_graph_id:
        return node.owner_graph_id
    return call.param("user_id") or IG_USER_ID


def _answer(call: Call, node: Node | None, edge: str | None) -> dict[str, Any]:
    if node is None:
        return _hashtag_search(call)
    if isinstance(node, Account):
        return _user(call, node, edge)
    if isinstance(node, Media):
        return _media(call, node, edge)
    return _hashtag(call, node, edge)


def _user(call: Call, account: Account, edge: str | None) -> dict[str, Any]:
    world = call.world
    if edge is None:
        return _user_node(call, account)
    if edge == "media":
        return _listing(call, account)
    if edge == "stories":
        return _page(call, world.stories_of(account), "media")
    if edge == "tags":
        return _page(call, world.tagged_media(account), "media")
    if edge == "insights":
        return _user_insights(call, account)
    raise bad_param(f"Unknown path components: /{edge}")


def _user_node(call: Call, account: Account) -> dict[str, Any]:
    fields = call.fields()
    discovery = next((f for f in fields if f.name == "business_discovery"), None)
    out = render_user(call.world, account, [f for f in fields if f is not discovery])
    if discovery is not None:
        out = {"business_discovery": _discover(call, discovery), **out}
    return out


def _discover(call: Call, spec: FieldSpec) -> dict[str, Any]:
    username = spec.args.get("username")
    if not username:
        raise bad_param("(#100) Missing username parameter for business_discovery")
    found = call.world.account_by_handle(username)
    if found is None or not found.is_business or found.is_private:
        raise cannot_find_user(username)
    return render_user(call.world, found, spec.children or [])


def _listing(call: Call, account: Account) -> dict[str, Any]:
    """An account's media, paged without generating the whole list (it may be thousands)."""
    total = account.media_count
    limit = _int(call.param("limit"), DEFAULT_LIMIT)
    start, end = page_bounds(limit, call.param("after"), call.param("before"), total)
    page = call.world.media_of(account, start, end - start)
    fields = call.fields()
    return connection(page, start, total, lambda x: render_media(x, fields), call.next_url)


def _page(call: Call, items: list[Any], kind: str) -> dict[str, Any]:
    limit = _int(call.param("limit"), DEFAULT_LIMIT)
    start, end = page_bounds(limit, call.param("after"), call.param("before"), len(items))
    fields = call.fields()
    render = (lambda x: render_media(x, fields)) if kind == "media" else (
        lambda x: render_comment(x, fields))
    return connection(items[start:end], start, len(items), render, call.next_url)


def _media(call: Call, media: Media, edge: str | None) -> dict[str, Any]:
    if edge is None:
        return render_media(media, call.fields())
    if edge == "children":
        return {"data": [render_media(c, call.fields()) for c in media.children]}
    if edge == "comments":
        total = media.comments or 0
        limit = _int(call.param("limit"), DEFAULT_LIMIT)
        start, end = page_bounds(limit, call.param("after"), call.param("before"), total)
        fields = call.fields()
        page = call.world.comments_of(media, start, end - start)
        return connection(page, start, total, lambda c: render_comment(c, fields),
                          call.next_url)
    if edge == "insights":
        _may_read_insights(call)
        metrics = _list(call.param("metric"))
        if not metrics:
            raise bad_param("(#100) The parameter metric is required")
        total_value = call.param("metric_type") == "total_value"
        return insights.media_insights(call.world, media, metrics, total_value)
    raise bad_param(f"Unknown path components: /{edge}")


def _user_insights(call: Call, account: Account) -> dict[str, Any]:
    _may_read_insights(call)
    metrics = _list(call.param("metric"))
    period = call.param("period")
    if not metrics or not period:
        raise bad_param("(#100) The parameters metric and period are required")
    return insights.user_insights(call.world, account, metrics, period,
                                  call.param("metric_type") == "total_value",
                                  _list(call.param("breakdown")))


def _may_read_insights(call: Call) -> None:
    if call.token == TOKEN_NO_INSIGHTS:
        raise no_permission()


def _hashtag_search(call: Call) -> dict[str, Any]:
    if not call.param("user_id"):
        raise bad_param("(#100) The parameter user_id is required")
    query = call.param("q")
    if not query:
        raise bad_param("(#100) The parameter q is required")
    found = call.world.hashtag(query)
    return {"data": [{"id": found.hashtag_id}] if found else []}


def _hashtag(call: Call, hashtag: Hashtag, edge: str | None) -> dict[str, Any]:
    if edge is None:
        names = [f.name for f in call.fields()] or ["id"]
        return {k: v for k, v in (("id", hashtag.hashtag_id), ("name", hashtag.name))
                if k in names}
    if edge not in ("top_media", "recent_media"):
        raise bad_param(f"Unknown path components: /{edge}")
    if not call.param("user_id"):
        raise bad_param("(#100) The parameter user_id is required")
    items = call.world.hashtag_media(hashtag.name, top=edge == "top_media")
    return _page(call, items, "media")


def _list(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _int(value: str | None, default: int) -> int:
    if value is None:
        return default
    if not value.isdigit():
        raise bad_param(f"(#100) Param limit must be a number, got {value}")
    return int(value)


def _usage_headers(usage: tuple[Usage, str] | None) -> dict[str, str]:
    if usage is None:
        return {}
    figures, business = usage
    return {"x-app-usage": figures.app_header(),
            "x-business-use-case-usage": figures.business_header(business)}


def _error(error: GraphError, trace: str, usage: tuple[Usage, str] | None) -> Response:
    headers = _usage_headers(usage)
    if error.code == 190:
        headers["WWW-Authenticate"] = (f'OAuth "Facebook Platform" "invalid_token" '
                                       f'"{error.message}"')
    return GraphJSON(error.body(trace), status_code=error.status, headers=headers)
