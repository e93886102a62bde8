"""The RapidAPI-style Instagram provider of the sandbox, under /rapidapi/instagram/ (RocketAPI's
shape): JSON POSTs to /instagram/{user|media|hashtag}/..., answered from the shared world in
Instagram's private-API bodies inside the provider's envelope (rapidapi_render.py).

The provider's gate, before Instagram is asked: X-RapidAPI-Key must be a known key (missing:
401, unknown: 403 {"message": "You are not subscribed to this API."}), and each key may make
2 calls a second and 100 per 30 seconds (ProviderLimits); past that, HTTP 429 with the
provider's message and x-ratelimit-requests-limit / -remaining / -reset (seconds until a call
is allowed again). Instagram's own refusals come inside the envelope: an unknown user or media
404 {"message": "User not found", "status": "fail"}, the listings of a private account 400
"Not authorized to view user".

Listings page by stable cursors (sandbox/instagram/fallbacks.py): followers and following
(next_max_id, big_list), likers (next_max_id), comments (next_min_id, has_more_comments), a
user's media and tags (next_max_id, more_available; media cursors are Instagram's
"{pk}_{userpk}" of the page's last item), a hashtag's sections.
"""

import math
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from instagram.settings import SANDBOX_RAPIDAPI_KEYS
from sandbox.instagram import rapidapi_render as render
from sandbox.instagram.fallbacks import count_page, cursor, offset_of, world_of
from sandbox.instagram.world import Account, World
from sandbox.responses import CompactJSON

router = APIRouter(prefix="/rapidapi/instagram/instagram")
RATE_MESSAGE = ("You have exceeded the rate limit per second for your plan, BASIC, by the API "
                "provider")
LIST_PAGE, MAX_LIST = 50, 200
MEDIA_PAGE, MAX_MEDIA = 12, 50
COMMENT_PAGE, LIKERS_PAGE, HASHTAG_PAGE = 15, 100, 9


class ProviderLimits:
    """Calls per key in sliding windows: (limit, window seconds) pairs."""

    def __init__(self, keys: Iterable[str] = SANDBOX_RAPIDAPI_KEYS,
                 windows: tuple[tuple[int, float], ...] = ((2, 1.0), (100, 30.0)),
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.keys, self.windows, self.clock = set(keys), windows, clock
        self.calls: dict[str, deque[float]] = defaultdict(deque)

    def refusal(self, key: str) -> tuple[int, float] | None:
        """(the refusing limit, seconds until a call is allowed); None: the call is counted."""
        now = self.clock()
        calls = self.calls[key]
        longest = max(window for _, window in self.windows)
        while calls and calls[0] <= now - longest:
            calls.popleft()
        for limit, window in self.windows:
            inside = [t for t in calls if t > now - window]
            if len(inside) >= limit:
                return limit, inside[-limit] + window - now
        calls.append(now)
        return None


def limits_of(request: Request) -> ProviderLimits:
    limits: ProviderLimits = request.app.state.instagram_rapidapi
    return limits


def _gate(request: Request) -> Response | None:
    """The provider's answer when it refuses the call itself; None when Instagram is asked."""
    key = request.headers.get("x-rapidapi-key")
    limits = limits_of(request)
    if not key:
        return CompactJSON({"message": "Invalid API key. Go to https://docs.rapidapi.com/docs/"
                                       "keys for more info."}, status_code=401)
    if key not in limits.keys:
        return CompactJSON({"message": "You are not subscribed to this API."}, status_code=403)
    refused = limits.refusal(key)
    if refused is None:
        return None
    limit, wait = refused
    headers = {"x-ratelimit-requests-limit": str(limit), "x-ratelimit-requests-remaining": "0",
               "x-ratelimit-requests-reset": str(max(1, math.ceil(wait)))}
    return CompactJSON({"message": RATE_MESSAGE}, status_code=429, headers=headers)


async def _ask(request: Request, answer: Callable[[World, dict[str, Any]], dict[str, Any]],
               cursor_key: str | None = None) -> Response:
    """Gate, read the JSON payload, count the page, answer."""
    if (refused := _gate(request)) is not None:
        return refused
    try:
        payload = await request.json()
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        return CompactJSON(render.failure("invalid JSON payload", 400))
    if cursor_key is not None:
        count_page(request, f"POST {request.url.path}", _str(payload.get(cursor_key)))
    return CompactJSON(answer(world_of(request), payload))


def _str(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def _user(world: World, payload: dict[str, Any]) -> Account | None:
    return world.account_by_id(str(payload.get("id", "")))


USER_NOT_FOUND = render.failure("User not found", 404)
MEDIA_NOT_FOUND = render.failure("Media not found or unavailable", 404)
NOT_AUTHORIZED = render.failure("Not authorized to view user", 400)


def _size(payload: dict[str, Any], default: int, most: int) -> int:
    try:
        return max(1, min(most, int(payload.get("count") or default)))
    except (TypeError, ValueError):
        return default


@router.post("/user/get_info")
async def get_info(request: Request) -> Response:
    def answer(world: World, payload: dict[str, Any]) -> dict[str, Any]:
        account = world.account_by_handle(str(payload.get("username", "")))
        return render.envelope({"user": render.user(account), "status": "ok"}) if account \
            else USER_NOT_FOUND
    return await _ask(request, answer)


@router.post("/user/get_info_by_id")
async def get_info_by_id(request: Request) -> Response:
    def answer(world: World, payload: dict[str, Any]) -> dict[str, Any]:
        account = _user(world, payload)
        return render.envelope({"user": render.user(account), "status": "ok"}) if account \
            else USER_NOT_FOUND
    return await _ask(request, answer)


def _related(what: str) -> Callable[[World, dict[str, Any]], dict[str, Any]]:
    def answer(world: World, payload: dict[str, Any]) -> dict[str, Any]:
        account = _user(world, payload)
        if account is None:
            return USER_NOT_FOUND
        if account.is_private:
            return NOT_AUTHORIZED
        start = offset_of(_str(payload.get("max_id")), what, account.pk)
        if start is None:
            return render.failure("invalid max_id", 400)
        size = _size(payload, LIST_PAGE, MAX_LIST)
        listing = world.followers_of if what == "followers" else world.following_of
        total = account.followers if what == "followers" else account.following
        users = [render.short_user(a) for a in listing(account, start, size)]
        more = start + size < total
        return render.envelope({"users": users, "big_list": more, "page_size": size,
                                "next_max_id": cursor(what, account.pk, start + size)
                                if more else None, "status": "ok"})
    return answer


@router.post("/user/get_followers")
async def get_followers(request: Request) -> Response:
    return await _ask(request, _related("followers"), "max_id")


@router.post("/user/get_following")
async def get_following(request: Request) -> Response:
    return await _ask(request, _related("following"), "max_id")


@router.post("/user/get_media")
async def get_media(request: Request) -> Response:
    def answer(world: World, payload: dict[str, Any]) -> dict[str, Any]:
        account = _user(world, payload)
        if account is None:
            return USER_NOT_FOUND
        if account.is_private:
            return NOT_AUTHORIZED
        start = _media_offset(world, account, _str(payload.get("max_id")))
        size = _size(payload, MEDIA_PAGE, MAX_MEDIA)
        items = world.media_of(account, start, size)
        more = start + size < account.media_count and bool(items)
        return render.envelope({
            "items": [render.media(x) for x in items], "num_results": len(items),
            "more_available": more, "status": "ok",
            "next_max_id": f"{items[-1].pk}_{account.pk}" if more else None})
    return await _ask(request, answer, "max_id")


def _media_offset(world: World, account: Account, max_id: str | None) -> int:
    """Where the page after the media `max_id` ("{pk}_{userpk}") starts: its position + 1."""
    if not max_id:
        return 0
    last = world.media_by_id(max_id.split("_")[0])
    if last is None or last.owner_index != account.index or last.is_child:
        return account.media_count  # a cursor of another account: nothing after it
    return account.media_count - last.number + 1


@router.post("/user/get_tags")
async def get_tags(request: Request) -> Response:
    def answer(world: World, payload: dict[str, Any]) -> dict[str, Any]:
        account = _user(world, payload)
        if account is None:
            return USER_NOT_FOUND
        if account.is_private:
            return NOT_AUTHORIZED
        start = offset_of(_str(payload.get("max_id")), "tags", account.pk) or 0
        size = _size(payload, MEDIA_PAGE, MAX_MEDIA)
        tagged = world.tagged_media(account)
        items = tagged[start:start + size]
        more = start + size < len(tagged)
        return render.envelope({
            "items": [render.media(x) for x in items], "num_results": len(items),
            "more_available": more, "status": "ok",
            "next_max_id": cursor("tags", account.pk, start + size) if more else None})
    return await _ask(request, answer, "max_id")


@router.post("/user/get_stories")
async def get_stories(request: Request) -> Response:
    def answer(world: World, payload: dict[str, Any]) -> dict[str, Any]:
        asked = payload.get("ids")
        ids: list[Any] = asked if isinstance(asked, list) else []
        reels: dict[str, Any] = {}
        for account in (world.account_by_id(str(i)) for i in ids):
            if account is None or account.is_private:
                continue
            stories = world.stories_of(account)
            if stories:
                reels[account.pk] = {
                    "id": account.pk, "user": render.short_user(account),
                    "items": [render.media(s) for s in stories],
                    "expiring_at": max(int(s.expires_at.timestamp()) for s in stories
                                       if s.expires_at)}
        return render.envelope({"reels": reels, "status": "ok"})
    return await _ask(request, answer)


@router.post("/media/get_info_by_shortcode")
async def get_info_by_shortcode(request: Request) -> Response:
    def answer(world: World, payload: dict[str, Any]) -> dict[str, Any]:
        found = world.media_by_shortcode(str(payload.get("shortcode", "")))
        owner = world.account(found.owner_index) if found else None
        if found is None or owner is None or found.is_child or found.media_type == "story":
            return MEDIA_NOT_FOUND
        if owner.is_private:
            return NOT_AUTHORIZED
        return render.envelope({"items": [render.media(found)], "num_results": 1,
                                "more_available": False, "status": "ok"})
    return await _ask(request, answer)


@router.post("/media/get_comments")
async def get_comments(request: Request) -> Response:
    def answer(world: World, payload: dict[str, Any]) -> dict[str, Any]:
        found = world.media_by_id(str(payload.get("id", "")).split("_")[0])
        if found is None or found.is_child or found.media_type == "story":
            return MEDIA_NOT_FOUND
        start = offset_of(_str(payload.get("min_id")), "comments", found.pk)
        if start is None:
            return render.failure("invalid min_id", 400)
        total = found.comments or 0
        items = world.comments_of(found, start, COMMENT_PAGE)
        more = start + COMMENT_PAGE < total
        return render.envelope({
            "comments": [render.comment(c) for c in items], "comment_count": total,
            "has_more_comments": more, "status": "ok",
            "next_min_id": cursor("comments", found.pk, start + COMMENT_PAGE) if more else None})
    return await _ask(request, answer, "min_id")


@router.post("/media/get_likers")
async def get_likers(request: Request) -> Response:
    def answer(world: World, payload: dict[str, Any]) -> dict[str, Any]:
        found = world.media_by_id(str(payload.get("id", "")).split("_")[0])
        if found is None or found.is_child or found.media_type == "story":
            return MEDIA_NOT_FOUND
        start = offset_of(_str(payload.get("max_id")), "likers", found.pk)
        if start is None:
            return render.failure("invalid max_id", 400)
        total = found.likes or 0
        users = [render.short_user(a) for a in world.likers_of(found, start, LIKERS_PAGE)]
        more = start + LIKERS_PAGE < total
        return render.envelope({
            "users": users, "user_count": total, "big_list": more, "status": "ok",
            "next_max_id": cursor("likers", found.pk, start + LIKERS_PAGE) if more else None})
    return await _ask(request, answer, "max_id")


@router.post("/hashtag/get_media")
async def hashtag_media(request: Request) -> Response:
    def answer(world: World, payload: dict[str, Any]) -> dict[str, Any]:
        name = str(payload.get("name", "")).lower().lstrip("#")
        tab = "top" if payload.get("tab") == "top" else "recent"
        if world.hashtag(name) is None:
            return render.failure("Hashtag not found", 404)
        start = offset_of(_str(payload.get("max_id")), f"hashtag:{tab}", name) or 0
        found = world.hashtag_media(name, top=tab == "top")
        items = found[start:start + HASHTAG_PAGE]
        more = start + HASHTAG_PAGE < len(found)
        return render.envelope({
            "sections": render.sections(items), "more_available": more, "status": "ok",
            "next_max_id": cursor(f"hashtag:{tab}", name, start + HASHTAG_PAGE)
            if more else None})
    return await _ask(request, answer, "max_id")
