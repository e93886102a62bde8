"""Calls to the Facebook Graph API (page or user tokens): a page by name or id, and posts or
videos by id, up to 50 in one `?ids=` call.

Errors: an expired or revoked token (190, 102) is marked invalid for every worker and the next
token tried; a throttled one (codes 17, 32, 613) rests for the wait its usage headers give and
another is tried, code 4 (the whole app) is RateLimited at once; a token past 80 % of its usage
rests before the platform throttles it. An unknown object (100, "does not exist") is NotFound;
one the token may not read (100 "missing permission", 10, 200-299) is Private. In a batch one
bad id fails the whole call: each id is then asked alone so that only it fails.
"""

from typing import Any

import asyncpg

from core.config import Settings
from core.credential_rates import rate_check
from core.errors import (
    BadParams,
    CredentialInvalid,
    NotFound,
    Permanent,
    RateLimited,
    SourceUnavailable,
    Unsupported,
)
from core.http import JsonResponse, get_json
from credentials.crypto import Crypto
from credentials.graph import GRAPH_RATE_CODES
from credentials.graph_usage import GraphUsage, read_usage
from facebook.models import GRAPH_API, Page, Post
from facebook.sources.errors import Private
from facebook.sources.graph_parse import GraphErrorInfo, parse_batch, parse_error, parse_page
from facebook.sources.tokens import GraphToken, StoredTokens, TokenProvider

PAGE_FIELDS = ("id,name,username,link,category,verification_status,fan_count,followers_count,"
               "talking_about_count,picture")
POST_FIELDS = ("id,message,created_time,permalink_url,status_type,from,shares,full_picture,"
               "reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0)")
VIDEO_FIELDS = ("id,title,description,created_time,permalink_url,length,views,from,picture,"
                "reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0)")
MAX_IDS = 50
APP_RATE_CODE = 4  # the whole app is throttled: another token does not help
DEFAULT_THROTTLE_S = 300.0
Found = dict[str, Page | Post | Exception]


class GraphApiSource:
    name = GRAPH_API
    capabilities = frozenset({"page", "pages", "posts", "videos"})
    needs_credential = True

    def __init__(self, base_url: str, tokens: TokenProvider) -> None:
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens

    @classmethod
    def from_settings(cls, settings: Settings, pool: asyncpg.Pool) -> "GraphApiSource":
        from facebook.settings import FacebookSettings

        base_url = FacebookSettings.of(settings).graph_api_url(settings)
        return cls(base_url, StoredTokens.create(pool, Crypto.from_settings(settings),
                                                 rate_check(settings, GRAPH_API)))

    async def call(self, capability: str, **params: Any) -> Any:
        if capability == "page":
            return await self.page(params["page"])
        if capability in ("posts", "videos"):
            fields = POST_FIELDS if capability == "posts" else VIDEO_FIELDS
            return await self.objects(list(params["ids"]), fields)
        if capability == "pages":
            return await self.objects(list(params["ids"]), PAGE_FIELDS, Page)
        raise Unsupported(f"{GRAPH_API} cannot {capability}")

    async def page(self, page: str) -> Page:
        return parse_page(await self._get(page, {"fields": PAGE_FIELDS}))

    async def objects(self, ids: list[str], fields: str, kind: type[Page | Post] = Post
                      ) -> Found:
        """Each id's post (or page, by id or user name), or the Permanent error that keeps it
        from being read."""
        if len(ids) > MAX_IDS:
            raise BadParams(f"at most {MAX_IDS} ids in one call, not {len(ids)}")
        try:
            body = await self._get("", {"ids": ",".join(ids), "fields": fields})
        except Permanent as exc:
            if len(ids) == 1:
                return {ids[0]: exc}
            return {i: found for one in ids
                    for i, found in (await self.objects([one], fields, kind)).items()}
        parsed = parse_batch(body)
        return {i: _of_kind(parsed.get(i), i, kind) for i in ids}

    async def _get(self, path: str, params: dict[str, Any]) -> Any:
        """GET with a usable token; a token refused or throttled is put aside and the next one
        tried."""
        waits: list[float] = []
        while (token := await self.tokens.pick()) is not None:
            try:
                response = await get_json(GRAPH_API, f"{self.base_url}/{path}",
                                          params={**params, "access_token": token.token})
            except RateLimited as exc:  # HTTP 429 for this token: rest it, try another
                waits.append(await self._rest(token, exc.retry_after))
                continue
            usage = read_usage(response.headers)
            await self.tokens.observed(token, usage)
            if response.status == 200:
                if usage.slow_down:
                    await self._rest(token, usage.rest_s())
                return response.body
            wait = await self._classify(response, token, usage)
            if wait is not None:
                waits.append(wait)
        resting = await self.tokens.resting_s()
        if waits or resting is not None:
            raise RateLimited(min([*waits, *([resting] if resting is not None else [])]),
                              f"{GRAPH_API}: every token is throttled")
        raise CredentialInvalid(f"{GRAPH_API}: no usable Graph API token")

    async def _rest(self, token: GraphToken, seconds: float) -> float:
        await self.tokens.rate_limited(token, seconds)
        return seconds

    async def _classify(self, response: JsonResponse, token: GraphToken,
                        usage: GraphUsage) -> float | None:
        """Raise for the error in `response`, or return after putting `token` aside: the wait
        of a throttled token, None for a refused one."""
        error = parse_error(response.body)
        if error is None:
            raise SourceUnavailable(f"{GRAPH_API}: HTTP {response.status} without an error")
        message = f"{GRAPH_API}: {error.kind or 'error'} {error.code}: {error.message}"
        if error.code in GRAPH_RATE_CODES:
            wait = await self._rest(token, usage.regain_s or DEFAULT_THROTTLE_S)
            if error.code == APP_RATE_CODE:
                raise RateLimited(wait, message)
            return wait
        if usage.slow_down:
            await self._rest(token, usage.rest_s())
        if error.code in (190, 102):
            await self.tokens.invalid(token, message)
            return None
        raise error_class(error, response.status)(message)


def error_class(error: GraphErrorInfo, status: int) -> type[Exception]:
    """The core.errors class of a Graph API error that is not the token's or a throttle."""
    text = error.message.lower()
    if error.code == 10 or 200 <= (error.code or 0) < 300:
        return Private  # the token may not read it: no retry will
    if error.code == 100 and error.subcode == 33:
        return NotFound  # "Unsupported get request. Object with ID … does not exist"
    if error.code == 100 and "missing permission" in text:
        return Private
    if error.code == 100 and ("does not exist" in text or "do not exist" in text):
        return NotFound  # an id, or a page name ("Some of the aliases you requested do not …")
    if error.code == 100:
        return BadParams
    if error.code in (1, 2) or status >= 500:
        return SourceUnavailable
    return Permanent


def _of_kind(found: Page | Post | None, ident: str, kind: type[Page | Post]
             ) -> Page | Post | Exception:
    if isinstance(found, kind):
        return found
    if found is None:
        return NotFound(f"{GRAPH_API}: no object {ident} in the answer")
    wanted = "a page" if kind is Page else "a post or video"
    return NotFound(f"{GRAPH_API}: {ident} is not {wanted}")
