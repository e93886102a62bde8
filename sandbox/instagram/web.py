"""The keyless web JSON of the sandbox's Instagram, under /instagram-web/ (the stand-in for
https://www.instagram.com), answering from the shared world (sandbox/instagram/world.py):

    GET /api/v1/users/web_profile_info/?username=H      {"data": {"user": ...}, "status": "ok"}
    GET /graphql/query/?doc_id=...&variables={"shortcode": S}
                                       {"data": {"xdt_shortcode_media": ...}, "status": "ok"}
    GET /graphql/query/?query_hash=...&variables={"id": ID, "first": N, "after": CURSOR}
                    {"data": {"user": {"edge_owner_to_timeline_media": ...}}, "status": "ok"}
    GET /share/p/{code}/, /share/reel/{code}/    301 to https://www.instagram.com/p|reel/{sc}/
    GET /share/{code}/                           301 to https://www.instagram.com/p/{sc}/

As the web does: an unknown handle, id or shortcode answers a null user or media; a private
account answers its profile with is_private true and no edges (its timeline: a count and no
edges). Anonymous callers are throttled the web's way: past WebThrottle's calls per window (per
client address) every call is a 302 to /accounts/login/. An unknown share code is a 404.
"""

import json
import time
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from sandbox.instagram import web_render as render
from sandbox.instagram.fallbacks import count_page, cursor, offset_of, shared_media, world_of
from sandbox.responses import CompactJSON

router = APIRouter(prefix="/instagram-web")
WEB_URL = "https://www.instagram.com"
PROFILE_POSTS = 12
MAX_FIRST = 50


class WebThrottle:
    """At most `limit` calls per `window_s` seconds per client address; then the login wall."""

    def __init__(self, limit: int = 200, window_s: float = 3600.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window_s, self.clock = limit, window_s, clock
        self.calls: dict[str, deque[float]] = defaultdict(deque)

    def allow(self, client: str) -> bool:
        now = self.clock()
        calls = self.calls[client]
        while calls and calls[0] <= now - self.window_s:
            calls.popleft()
        if len(calls) >= self.limit:
            return False
        calls.append(now)
        return True


def throttle_of(request: Request) -> WebThrottle:
    throttle: WebThrottle = request.app.state.instagram_web
    return throttle


def _login_wall(request: Request) -> Response | None:
    client = request.client.host if request.client else "-"
    if throttle_of(request).allow(client):
        return None
    target = f"{WEB_URL}/accounts/login/?next={request.url.path}"
    return RedirectResponse(target, status_code=302)


@router.get("/api/v1/users/web_profile_info/")
async def web_profile_info(request: Request, username: str = "") -> Response:
    if (wall := _login_wall(request)) is not None:
        return wall
    world = world_of(request)
    account = world.account_by_handle(username)
    if account is None:
        return CompactJSON({"data": {"user": None}, "status": "ok"})
    posts = [] if account.is_private else world.media_of(account, 0, PROFILE_POSTS)
    more = not account.is_private and account.media_count > PROFILE_POSTS
    end = cursor("timeline", account.pk, PROFILE_POSTS) if more else None
    return CompactJSON({"data": {"user": render.profile(account, posts, end)}, "status": "ok"})


@router.get("/graphql/query/")
async def graphql_query(request: Request, variables: str = "{}") -> Response:
    if (wall := _login_wall(request)) is not None:
        return wall
    try:
        asked = json.loads(variables)
    except ValueError:
        asked = None
    if not isinstance(asked, dict):
        return CompactJSON({"message": "invalid variables", "status": "fail"}, status_code=400)
    if "shortcode" in asked:
        return _shortcode_media(request, str(asked["shortcode"]))
    if "id" in asked:
        return _timeline(request, str(asked["id"]), asked)
    return CompactJSON({"message": "unknown query", "status": "fail"}, status_code=400)


def _shortcode_media(request: Request, shortcode: str) -> Response:
    world = world_of(request)
    media = world.media_by_shortcode(shortcode)
    owner = world.account(media.owner_index) if media else None
    if media is None or owner is None or owner.is_private or media.media_type == "story":
        return CompactJSON({"data": {"xdt_shortcode_media": None}, "status": "ok"})
    body = render.shortcode_media(world, media, owner)
    return CompactJSON({"data": {"xdt_shortcode_media": body}, "status": "ok"})


def _timeline(request: Request, user_id: str, asked: dict[str, Any]) -> Response:
    world = world_of(request)
    account = world.account_by_id(user_id)
    after = asked.get("after") if isinstance(asked.get("after"), str) else None
    count_page(request, "GET /instagram-web/graphql/query/ timeline", after)
    start = offset_of(after, "timeline", account.pk) if account else None
    if account is None or start is None:
        return CompactJSON({"data": {"user": None}, "status": "ok"})
    first = max(1, min(MAX_FIRST, int(asked.get("first") or PROFILE_POSTS)))
    posts = [] if account.is_private else world.media_of(account, start, first)
    more = not account.is_private and start + first < account.media_count
    end = cursor("timeline", account.pk, start + first) if more else None
    edge = render.timeline(account, posts, end)
    return CompactJSON({"data": {"user": {"edge_owner_to_timeline_media": edge}},
                        "status": "ok"})


@router.get("/share/{kind}/{code}/")
async def share(request: Request, kind: str, code: str) -> Response:
    media = shared_media(world_of(request), code) if kind in ("p", "reel") else None
    if media is None:
        return Response("Page Not Found", status_code=404, media_type="text/html")
    return RedirectResponse(f"{WEB_URL}/{kind}/{media.shortcode}/", status_code=301)


@router.get("/share/{code}/")
async def share_any(request: Request, code: str) -> Response:
    """The newer share link without a kind: a post's page (reels redirect onwards there)."""
    return await share(request, "p", code)
