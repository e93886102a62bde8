"""The keyless web JSON source (www.instagram.com, as its own pages ask it): public profiles
with their latest posts, one post by shortcode, and a profile's older posts page by page.
Bodies are read by web_parse.py; answers are classified here.

    GET /api/v1/users/web_profile_info/?username=H                      profile_by_handle
    GET /graphql/query/?doc_id=8845758582119845&variables={"shortcode": S}   post_by_shortcode
        -> {"data": {"xdt_shortcode_media": media | null}, "status": "ok"}
    GET /graphql/query/?query_hash=e769aa130647d2354c40ea6a439bfc08
        &variables={"id": ID, "first": 12, "after": CURSOR}                  posts_of_profile
        -> {"data": {"user": {"edge_owner_to_timeline_media": {...}}}, "status": "ok"}

Every call carries the web app's X-IG-App-ID, as the site's own requests do. An unknown account
(404, or a null user) is NotFound; a null post is NotVisible (a deleted post and a private
account's post answer alike, so a better source that was resting is waited for); a private
account (is_private and no posts shown, or a timeline that hides its posts) is Private. The web
throttles anonymous callers by sending them to the login page (a 301/302 to /accounts/login/)
or with 401 or 429: all are RateLimited, for the Retry-After when one is given, else
LOGIN_WALL_WAIT_S.
"""

import json
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

from core.config import Settings
from core.errors import NotVisible, RateLimited, SourceUnavailable
from core.http import JsonResponse, request_json
from core.parsing import UnknownShape
from instagram.models import WEB, Page, Post, ProfileWithPosts
from instagram.settings import InstagramSettings
from instagram.sources.errors import NotFound, Private
from instagram.sources.web_parse import (
    media_of,
    parse_media,
    parse_profile,
    parse_timeline,
    user_of,
)

APP_ID = "936619743392459"  # the web app's id, sent by instagram.com's own scripts
SHORTCODE_DOC_ID = "8845758582119845"
TIMELINE_QUERY_HASH = "e769aa130647d2354c40ea6a439bfc08"
TIMELINE_PAGE = 12
LOGIN_WALL_WAIT_S = 300.0
THROTTLED = {401, 429}
T = TypeVar("T")


class WebSource:
    name = WEB
    capabilities = frozenset({"profile_by_handle", "post_by_shortcode", "posts_of_profile"})
    needs_credential = False

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.calls = 0

    async def call(self, capability: str, **params: Any) -> Any:
        params.pop("graph_id", None)  # the Graph API's own id of the target: not ours
        handler = getattr(self, f"_{capability}")
        return await handler(**params)

    async def _profile_by_handle(self, handle: str, posts: int = TIMELINE_PAGE
                                 ) -> ProfileWithPosts:
        handle = handle.lstrip("@")
        body = await self._get("api/v1/users/web_profile_info/", {"username": handle})
        user = _read(user_of, body)
        if user is None:
            raise NotFound(f"{WEB}: no Instagram account @{handle}")
        found = _read(parse_profile, user)
        if found.profile.is_private and not found.posts:
            raise Private(f"{WEB}: @{handle} is private")
        found.posts = found.posts[:posts]
        return found

    async def _post_by_shortcode(self, shortcode: str) -> Post:
        variables = json.dumps({"shortcode": shortcode}, separators=(",", ":"))
        body = await self._get("graphql/query/", {"doc_id": SHORTCODE_DOC_ID,
                                                  "variables": variables})
        media = _read(media_of, body)
        if media is None:  # deleted, or its account is private: the web answers both alike
            raise NotVisible(f"{WEB}: post {shortcode} is not public (deleted, or its "
                             "account is private)")
        return _read(parse_media, media)

    async def _posts_of_profile(self, handle: str | None = None, profile_id: str | None = None,
                                cursor: str | None = None) -> Page[Post]:
        """The first page is the profile answer's posts; later pages need the account's id,
        looked up by handle when not given."""
        if cursor is None and handle:
            first = await self._profile_by_handle(handle)
            return Page(items=first.posts, next_cursor=first.next_cursor,
                        total=first.profile.media_count)
        profile_id = profile_id or await self._id_of(handle)
        variables = {"id": profile_id, "first": TIMELINE_PAGE,
                     **({"after": cursor} if cursor else {})}
        body = await self._get("graphql/query/", {
            "query_hash": TIMELINE_QUERY_HASH,
            "variables": json.dumps(variables, separators=(",", ":"))})
        user = _read(user_of, body)
        if user is None:
            raise NotFound(f"{WEB}: no Instagram account {profile_id}")
        page = _read(parse_timeline, user, handle)
        if not page.items and page.next_cursor is None and (page.total or 0) > 0:
            raise Private(f"{WEB}: account {profile_id} hides its {page.total} posts")
        return page

    async def _id_of(self, handle: str | None) -> str:
        if not handle:
            raise NotFound(f"{WEB}: posts_of_profile needs a handle or a profile id")
        found = await self._profile_by_handle(handle, posts=1)
        owner = found.posts[0].profile_id if found.posts else None
        profile_id = found.profile.profile_id or owner
        if profile_id is None:
            raise SourceUnavailable(f"{WEB}: the profile answer of @{handle} carries no id")
        return profile_id

    async def _get(self, path: str, params: dict[str, str]) -> Any:
        self.calls += 1
        response = await request_json(WEB, "GET", f"{self.base_url}/{path}", params=params,
                                   headers={"X-IG-App-ID": APP_ID})
        if response.status == 200:
            return response.body
        _classify(response)


def web_source(settings: Settings) -> WebSource:
    """The source at the configured (or sandboxed) web URL."""
    return WebSource(InstagramSettings.of(settings).web_base_url(settings))


def _classify(response: JsonResponse) -> NoReturn:
    """Raise for an answer that is not 200."""
    status = response.status
    location = response.headers.get("location", "")
    if status in THROTTLED or (response.body is None and "/accounts/login" in location):
        wait = _retry_after(response) or LOGIN_WALL_WAIT_S
        reason = f"HTTP {status}" + (f" to {location}" if location else "")
        raise RateLimited(wait, f"{WEB}: throttled ({reason})")
    if status == 404:
        raise NotFound(f"{WEB}: HTTP 404")
    message = response.body.get("message") if isinstance(response.body, dict) else None
    raise SourceUnavailable(f"{WEB}: HTTP {status} {message or ''}".rstrip())


def _retry_after(response: JsonResponse) -> float | None:
    try:
        return max(0.0, float(response.headers.get("retry-after", "")))
    except ValueError:
        return None


def _read(parse: Callable[..., T], *args: Any) -> T:
    """A parser's result; an unreadable body is the source failing, with the parser's reason."""
    try:
        return parse(*args)
    except UnknownShape as exc:
        raise UnknownShape(f"{WEB}: {exc}") from None
