"""The RapidAPI-style provider (RocketAPI-like: any public account, paginated listings; needs a
key). Every call is a JSON POST with the headers X-RapidAPI-Key and X-RapidAPI-Host:

    /instagram/user/get_info               {"username"}                profile_by_handle
    /instagram/user/get_info_by_id         {"id"}                      profile_by_id
    /instagram/user/get_media              {"id", "count", "max_id"}   posts_of_profile
    /instagram/user/get_followers          {"id", "count", "max_id"}   followers
    /instagram/user/get_following          {"id", "count", "max_id"}   following
    /instagram/user/get_stories            {"ids": [id]}               stories
    /instagram/user/get_tags               {"id", "count", "max_id"}   tagged_posts
    /instagram/media/get_info_by_shortcode {"shortcode"}               post_by_shortcode
    /instagram/media/get_comments          {"id", "min_id"}            comments
    /instagram/media/get_likers            {"id"[, "max_id"]}          likers
    /instagram/hashtag/get_media           {"name", "tab", "max_id"}   hashtag_posts

The answer wraps Instagram's (rapidapi_parse.py reads it). Classification: the provider's own
HTTP 429 rests the key for x-ratelimit-requests-reset (else Retry-After) seconds and the next key
is tried, RateLimited when none is left; its 401/403 ("You are not subscribed to this API.")
retires the key (CredentialInvalid when none is left). Instagram's answer inside: 404 is
NotFound, "Not authorized to view user" (a private account's listings) Private, 429
RateLimited. A private account's profile is answered (is_private true, no posts); its listings
raise Private.
"""

import asyncio
import logging
import random
from collections.abc import Callable
from typing import Any, TypeVar

import asyncpg

from core.config import Settings
from core.credential_rates import rate_check
from core.errors import CredentialInvalid, RateLimited, SourceUnavailable
from core.http import JsonResponse, request_json
from core.parsing import UnknownShape
from credentials import store
from credentials.crypto import Crypto
from credentials.manager import BudgetCheck, CredentialManager, always_budget
from instagram.models import (
    RAPIDAPI,
    Account,
    Comment,
    Page,
    Post,
    Profile,
    ProfileWithPosts,
)
from instagram.settings import SANDBOX_RAPIDAPI_KEYS, InstagramSettings
from instagram.sources.errors import NotFound, Private
from instagram.sources.rapidapi_keys import ApiKey, KeyProvider, StoredKeys
from instagram.sources.rapidapi_parse import (
    parse_accounts,
    parse_comments,
    parse_hashtag_page,
    parse_media_page,
    parse_single_media,
    parse_stories,
    parse_user,
    unwrap,
)

log = logging.getLogger(__name__)

PAGE = 12  # media per page, as Instagram's own feed pages
LIST_PAGE = 50  # accounts per page of followers / following
DEFAULT_WAIT_S = 1.0
# A throttle this short is the limiter's pacing (the provider's own limits) meeting network
# jitter at the window's edge: waited out in place, once, before the key is rested.
SHORT_WAIT_S = 2.0
INSTAGRAM_WAIT_S = 60.0  # Instagram throttled the provider: a minute, as its "wait a few minutes"
NOT_AUTHORIZED = "not authorized to view user"
T = TypeVar("T")


class RapidApiSource:
    name = RAPIDAPI
    capabilities = frozenset({"profile_by_handle", "profile_by_id", "posts_of_profile",
                              "post_by_shortcode", "stories", "followers", "following",
                              "comments", "likers", "hashtag_posts", "tagged_posts"})
    needs_credential = True

    def __init__(self, base_url: str, host: str, keys: KeyProvider) -> None:
        self.base_url = base_url.rstrip("/")
        self.host = host
        self.keys = keys
        self.calls = 0

    async def call(self, capability: str, **params: Any) -> Any:
        params.pop("graph_id", None)  # the Graph API's own id of the target: not ours
        handler = getattr(self, f"_{capability}")
        return await handler(**params)

    async def _profile_by_handle(self, handle: str, posts: int = PAGE) -> ProfileWithPosts:
        profile = await self._user("user/get_info", {"username": handle.lstrip("@")})
        if profile.is_private or posts <= 0 or profile.profile_id is None:
            return ProfileWithPosts(profile=profile)
        page = await self._media_page("user/get_media", profile.profile_id, None, posts)
        return ProfileWithPosts(profile=profile, posts=page.items, next_cursor=page.next_cursor)

    async def _profile_by_id(self, profile_id: str) -> Profile:
        return await self._user("user/get_info_by_id", {"id": profile_id})

    async def _posts_of_profile(self, handle: str | None = None, profile_id: str | None = None,
                                cursor: str | None = None) -> Page[Post]:
        user_id = await self._user_id(profile_id, handle)
        return await self._media_page("user/get_media", user_id, cursor, PAGE)

    async def _tagged_posts(self, profile_id: str | None = None, handle: str | None = None,
                            cursor: str | None = None) -> Page[Post]:
        user_id = await self._user_id(profile_id, handle)
        return await self._media_page("user/get_tags", user_id, cursor, PAGE)

    async def _post_by_shortcode(self, shortcode: str) -> Post:
        body = await self._post("media/get_info_by_shortcode", {"shortcode": shortcode})
        return _read(parse_single_media, body)

    async def _stories(self, profile_id: str | None = None, handle: str | None = None
                       ) -> list[Post]:
        user_id = await self._user_id(profile_id, handle)
        return _read(parse_stories, await self._post("user/get_stories", {"ids": [user_id]}))

    async def _followers(self, profile_id: str | None = None, handle: str | None = None,
                         cursor: str | None = None) -> Page[Account]:
        return await self._accounts("user/get_followers", profile_id, handle, cursor)

    async def _following(self, profile_id: str | None = None, handle: str | None = None,
                         cursor: str | None = None) -> Page[Account]:
        return await self._accounts("user/get_following", profile_id, handle, cursor)

    async def _comments(self, post_id: str | None = None, shortcode: str | None = None,
                        cursor: str | None = None) -> Page[Comment]:
        media_id = await self._media_id(post_id, shortcode)
        body = await self._post("media/get_comments", {"id": media_id, "min_id": cursor})
        return _read(parse_comments, body, media_id)

    async def _likers(self, post_id: str | None = None, shortcode: str | None = None,
                      cursor: str | None = None) -> Page[Account]:
        media_id = await self._media_id(post_id, shortcode)
        payload = {"id": media_id, **({"max_id": cursor} if cursor else {})}
        return _read(parse_accounts, await self._post("media/get_likers", payload))

    async def _hashtag_posts(self, hashtag: str, tab: str = "top", cursor: str | None = None
                             ) -> Page[Post]:
        payload = {"name": hashtag.lstrip("#"), "tab": tab, "max_id": cursor}
        return _read(parse_hashtag_page, await self._post("hashtag/get_media", payload))

    async def _user(self, path: str, payload: dict[str, Any]) -> Profile:
        return _read(parse_user, await self._post(path, payload))

    async def _user_id(self, profile_id: str | None, handle: str | None) -> str:
        if profile_id:
            return profile_id
        if not handle:
            raise NotFound(f"{RAPIDAPI}: neither a profile id nor a handle")
        profile = await self._user("user/get_info", {"username": handle.lstrip("@")})
        if profile.profile_id is None:
            raise UnknownShape(f"{RAPIDAPI}: @{handle} has no pk")
        return profile.profile_id

    async def _media_id(self, post_id: str | None, shortcode: str | None) -> str:
        if post_id:
            return post_id.split("_")[0]  # "pk_userpk" ids name the media by their pk
        if not shortcode:
            raise NotFound(f"{RAPIDAPI}: neither a post id nor a shortcode")
        return (await self._post_by_shortcode(shortcode)).post_id

    async def _media_page(self, path: str, user_id: str, cursor: str | None,
                          count: int) -> Page[Post]:
        body = await self._post(path, {"id": user_id, "count": count, "max_id": cursor})
        return _read(parse_media_page, body)

    async def _accounts(self, path: str, profile_id: str | None, handle: str | None,
                        cursor: str | None) -> Page[Account]:
        user_id = await self._user_id(profile_id, handle)
        body = await self._post(path, {"id": user_id, "count": LIST_PAGE, "max_id": cursor})
        return _read(parse_accounts, body)

    async def _post(self, path: str, payload: dict[str, Any]) -> Any:
        """Instagram's body for this call, asked with a usable key; keys the provider throttles
        or refuses are rested or retired and the next one is tried."""
        waits: list[float] = []
        waited = False
        while (key := await self.keys.pick()) is not None:
            self.calls += 1
            response = await request_json(RAPIDAPI, "POST", f"{self.base_url}/instagram/{path}",
                                       body=payload, headers=self._headers(key))
            if response.status == 200:
                return _instagram_body(response.body)
            if response.status == 429 and not waited and provider_wait(response) <= SHORT_WAIT_S:
                waited = True
                await asyncio.sleep(provider_wait(response) + random.uniform(0.0, 0.1))
                continue
            waits += await self._refused(response, key)
        if waits:
            raise RateLimited(min(waits), f"{RAPIDAPI}: every key is rate limited")
        back = await self.keys.next_free_s()
        if back is not None:
            raise RateLimited(back, f"{RAPIDAPI}: every key is resting")
        raise CredentialInvalid(f"{RAPIDAPI}: no usable key")

    async def _refused(self, response: JsonResponse, key: ApiKey) -> list[float]:
        """Rest or retire `key` for the provider's refusal (the wait, if it is one); raise for
        any other answer."""
        message = f"{RAPIDAPI}: HTTP {response.status} {_message(response.body)}".rstrip()
        if response.status == 429:
            wait = provider_wait(response)
            await self.keys.rate_limited(key, wait)
            return [wait]
        if response.status in (401, 403):
            await self.keys.invalid(key, message)
            return []
        raise SourceUnavailable(message)

    def _headers(self, key: ApiKey) -> dict[str, str]:
        return {"X-RapidAPI-Key": key.value, "X-RapidAPI-Host": self.host}


def _instagram_body(answer: Any) -> Any:
    """The body Instagram gave the provider; its failures classified."""
    status, body = unwrap(answer)
    if status == 200:
        return body
    message = f"{RAPIDAPI}: Instagram answered {status} {_message(body)}".rstrip()
    if status == 404:
        raise NotFound(message)
    if NOT_AUTHORIZED in _message(body).lower():
        raise Private(message)
    if status == 429:
        raise RateLimited(INSTAGRAM_WAIT_S, message)
    raise SourceUnavailable(message)


def provider_wait(response: JsonResponse) -> float:
    """Seconds to rest a key the provider throttled: x-ratelimit-requests-reset, else
    Retry-After, else DEFAULT_WAIT_S."""
    for header in ("x-ratelimit-requests-reset", "retry-after"):
        try:
            return max(0.0, float(response.headers.get(header, "")))
        except ValueError:
            continue
    return DEFAULT_WAIT_S


def _message(body: Any) -> str:
    return str(body.get("message") or "") if isinstance(body, dict) else ""


def _read(parse: Callable[..., T], *args: Any) -> T:
    try:
        return parse(*args)
    except UnknownShape as exc:
        raise UnknownShape(f"{RAPIDAPI}: {exc}") from None


def rapidapi_source(settings: Settings, pool: asyncpg.Pool,
                    has_budget: BudgetCheck | None = None) -> RapidApiSource:
    """The source over the credential table's keys, at the configured (or sandboxed) URL."""
    manager = CredentialManager(pool, Crypto.from_settings(settings), has_budget=has_budget
                                or rate_check(settings, RAPIDAPI) or always_budget)
    instagram = InstagramSettings.of(settings)
    return RapidApiSource(instagram.rapidapi_base_url(settings), instagram.rapidapi_host,
                          StoredKeys(manager))


async def import_configured_keys(settings: Settings, pool: asyncpg.Pool) -> None:
    """`beat worker` start-up: INSTAGRAM_RAPIDAPI_KEYS into the credential table (an existing
    key is left as it is)."""
    keys = InstagramSettings.of(settings).rapidapi_keys
    if not keys:
        return
    crypto = Crypto.from_settings(settings)
    for key in dict.fromkeys(keys):
        await store.upsert(pool, crypto, RAPIDAPI, {"key": key})
    if settings.sandbox_url and set(keys) <= set(SANDBOX_RAPIDAPI_KEYS):
        log.info("sandbox mode: Instagram RapidAPI calls go to the sandbox at %s",
                 settings.sandbox_url)
    else:
        log.info("imported %d Instagram RapidAPI key%s into the credential table", len(keys),
                 "" if len(keys) == 1 else "s")
