"""Calls to the Instagram Graph API (business and creator accounts; needs a token). A profile
by handle is ONE call: business_discovery with the profile's fields and its recent media.

Errors: an expired or revoked token (190) is taken out of use and another token tried; a
throttled one (codes 4, 17, 32, 613, HTTP 429) rests for the wait its usage headers give, and a
token whose usage passes 80 % rests before the platform throttles it. business_discovery cannot
tell a personal, private or missing account apart ("Cannot find User"): Unsupported, so the
director asks the next source; an unknown id is NotFound.
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
from instagram.models import GRAPH_API, Comment, Insight, Page, Post, Profile, ProfileWithPosts
from instagram.sources.graph_api.parse import (
    GraphErrorInfo,
    parse_business_discovery,
    parse_comments,
    parse_error,
    parse_insights,
    parse_media,
    parse_media_page,
    parse_user,
)
from instagram.sources.graph_api.tokens import GraphToken, StoredTokens, TokenProvider

# ig_id is Instagram's own id of the account or media: the key every source shares.
USER_FIELDS = ("id,ig_id,username,name,biography,website,followers_count,follows_count,media_count,"
               "profile_picture_url")
MEDIA_FIELDS = ("id,ig_id,caption,media_type,media_product_type,media_url,thumbnail_url,permalink,"
                "timestamp,like_count,comments_count,children{id}")
POST_FIELDS = MEDIA_FIELDS + ",shortcode,username,owner"
STORY_FIELDS = "id,ig_id,media_type,media_product_type,media_url,thumbnail_url,permalink,timestamp"
COMMENT_FIELDS = "id,text,timestamp,username,like_count,from"
POST_METRICS = "impressions,reach,saved,shares,total_interactions,likes,comments"
VIDEO_METRICS = POST_METRICS + ",plays"
STORY_METRICS = "impressions,reach,replies,shares,total_interactions,navigation"
PROFILE_METRICS = ("reach,impressions,accounts_engaged,total_interactions,likes,comments,shares,"
                   "saves,replies,profile_views,website_clicks,follows_and_unfollows")
AUDIENCE_BREAKDOWNS = ("age", "gender", "city", "country")
APP_RATE_CODE = 4  # the whole app is throttled: another token does not help
DEFAULT_THROTTLE_S = 300.0
CANNOT_FIND_USER = 2207013
PAGE_SIZE = 25


class GraphApiSource:
    name = GRAPH_API
    capabilities = frozenset({
        "profile_by_handle", "profile_by_id", "posts_of_profile", "post_by_id", "post_insights",
        "profile_insights", "audience_insights", "stories", "story_insights", "comments",
        "hashtag_posts", "tagged_posts"})
    needs_credential = True

    def __init__(self, base_url: str, tokens: TokenProvider, page_size: int = PAGE_SIZE) -> None:
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.page_size = page_size

    @classmethod
    def from_settings(cls, settings: Settings, pool: asyncpg.Pool) -> "GraphApiSource":
        """The Graph API at INSTAGRAM's Graph URL (the sandbox's under SANDBOX_URL), with the
        tokens of the credential table."""
        from instagram.settings import InstagramSettings

        base_url = InstagramSettings.of(settings).graph_api_url(settings)
        return cls(base_url, StoredTokens.create(pool, Crypto.from_settings(settings),
                                                 rate_check(settings, GRAPH_API)))

    async def call(self, capability: str, **params: Any) -> Any:
        if capability not in self.capabilities:
            raise Unsupported(f"{GRAPH_API} cannot {capability}")
        if "graph_id" in params:  # the flows give both ids: Instagram's own and the Graph API's
            graph_id = params.pop("graph_id")
            params.update(_graph_ids(capability, graph_id) if graph_id else _no_graph_ids(params))
        handler = getattr(self, f"_{capability}")
        return await handler(**params)

    async def _profile_by_handle(self, handle: str, posts: int = 12) -> ProfileWithPosts:
        media = f",media.limit({posts}){{{MEDIA_FIELDS}}}" if posts > 0 else ""
        body = await self._discover(handle, f"{USER_FIELDS}{media}")
        found = parse_business_discovery(body)
        if len(found.posts) < posts:
            found.next_cursor = None
        return found

    async def _profile_by_id(self, profile_id: str | None) -> Profile:
        if not profile_id:
            raise Unsupported(f"{GRAPH_API}: the account's Graph id is not known")
        try:
            return parse_user(await self._get(profile_id, {"fields": USER_FIELDS}))
        except NotFound as exc:  # Instagram's own user id is no Graph node: others know it
            raise Unsupported(f"{exc} (the Graph API knows an account by its Graph id only)") \
                from exc

    async def _posts_of_profile(self, handle: str | None = None, profile_id: str | None = None,
                                cursor: str | None = None) -> Page[Post]:
        if handle:
            after = f".after({cursor})" if cursor else ""
            body = await self._discover(
                handle, f"id,username,media.limit({self.page_size}){after}{{{MEDIA_FIELDS}}}")
            found = parse_business_discovery(body)
            more = len(found.posts) >= self.page_size
            return Page[Post](items=found.posts, next_cursor=found.next_cursor if more else None)
        if profile_id:
            return parse_media_page(await self._get(f"{profile_id}/media", self._paged(
                {"fields": MEDIA_FIELDS}, cursor)), profile_id=profile_id)
        raise BadParams("posts_of_profile needs a handle or a profile_id")

    async def _post_by_id(self, post_id: str) -> Post:
        return parse_media(await self._get(post_id, {"fields": POST_FIELDS}))

    async def _post_insights(self, post_id: str, post_type: str | None = None) -> list[Insight]:
        if post_type == "story":
            return await self._story_insights(post_id)
        metrics = VIDEO_METRICS if post_type in ("video", "reels") else POST_METRICS
        return parse_insights(await self._get(f"{post_id}/insights", {"metric": metrics}))

    async def _story_insights(self, story_id: str) -> list[Insight]:
        return parse_insights(await self._get(f"{story_id}/insights",
                                              {"metric": STORY_METRICS}))

    async def _profile_insights(self, profile_id: str) -> list[Insight]:
        return parse_insights(await self._get(f"{profile_id}/insights", {
            "metric": PROFILE_METRICS, "period": "day", "metric_type": "total_value"}))

    async def _audience_insights(self, profile_id: str) -> list[Insight]:
        """Follower demographics, one Insight per breakdown: follower_demographics_age, ..."""
        found: list[Insight] = []
        for breakdown in AUDIENCE_BREAKDOWNS:
            body = await self._get(f"{profile_id}/insights", {
                "metric": "follower_demographics", "period": "lifetime",
                "metric_type": "total_value", "breakdown": breakdown,
                "timeframe": "this_month"})
            found += [i.model_copy(update={"name": f"{i.name}_{breakdown}"})
                      for i in parse_insights(body)]
        return found

    async def _stories(self, profile_id: str | None = None,
                       handle: str | None = None) -> list[Post]:
        if not profile_id:
            raise Unsupported(f"{GRAPH_API}: stories need the account's IG user id")
        body = await self._get(f"{profile_id}/stories", {"fields": STORY_FIELDS})
        return parse_media_page(body, handle=handle, profile_id=profile_id).items

    async def _comments(self, post_id: str | None = None, shortcode: str | None = None,
                        cursor: str | None = None) -> Page[Comment]:
        if not post_id:
            raise Unsupported(f"{GRAPH_API}: comments need the media id")
        body = await self._get(f"{post_id}/comments",
                               self._paged({"fields": COMMENT_FIELDS}, cursor))
        return parse_comments(body, post_id=post_id)

    async def _hashtag_posts(self, hashtag: str, tab: str = "top",
                             cursor: str | None = None) -> Page[Post]:
        """Our cursor is "hashtag_id:after", so later pages skip the hashtag search."""
        hashtag_id, _, after = (cursor or "").partition(":")
        if not hashtag_id:
            hashtag_id = await self._hashtag_id(hashtag.lstrip("#"))
        edge = "recent_media" if tab == "recent" else "top_media"
        body = await self._get(f"{hashtag_id}/{edge}", self._paged(
            {"user_id": "{me}", "fields": MEDIA_FIELDS}, after or None))
        page = parse_media_page(body)
        if page.next_cursor:
            page.next_cursor = f"{hashtag_id}:{page.next_cursor}"
        return page

    async def _hashtag_id(self, hashtag: str) -> str:
        body = await self._get("ig_hashtag_search", {"user_id": "{me}", "q": hashtag})
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list) or not data or not isinstance(data[0], dict):
            raise NotFound(f"{GRAPH_API}: no hashtag #{hashtag}")
        return str(data[0]["id"])

    async def _tagged_posts(self, profile_id: str | None = None, handle: str | None = None,
                            cursor: str | None = None) -> Page[Post]:
        if not profile_id:
            raise Unsupported(f"{GRAPH_API}: tagged media need the account's IG user id")
        body = await self._get(f"{profile_id}/tags",
                               self._paged({"fields": MEDIA_FIELDS + ",username"}, cursor))
        return parse_media_page(body)

    async def _discover(self, handle: str, fields: str) -> Any:
        handle = handle.lstrip("@")
        return await self._get("{me}", {
            "fields": f"business_discovery.username({handle}){{{fields}}}"})

    def _paged(self, params: dict[str, Any], cursor: str | None) -> dict[str, Any]:
        params = {**params, "limit": self.page_size}
        return {**params, "after": cursor} if cursor else params

    async def _get(self, path: str, params: dict[str, Any]) -> Any:
        """GET with a usable token ("{me}" in the path or a param: its IG user id); a token that
        is refused or throttled is put aside and the next one tried."""
        waits: list[float] = []
        while (token := await self.tokens.pick()) is not None:
            mine = {k: v.replace("{me}", token.user_id) if isinstance(v, str) else v
                    for k, v in params.items()}
            url = f"{self.base_url}/{path.replace('{me}', token.user_id)}"
            try:
                response = await get_json(GRAPH_API, url,
                                          params={**mine, "access_token": token.token})
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
        if waits:
            raise RateLimited(min(waits), f"{GRAPH_API}: every token is throttled")
        spent = self.tokens.spent_s()
        if spent is not None:
            raise RateLimited(spent, f"{GRAPH_API}: every token's own call limit is spent")
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
        raise _error_class(error, response.status)(message)


def _error_class(error: GraphErrorInfo, status: int) -> type[Exception]:
    if error.code == 110 and error.subcode == CANNOT_FIND_USER:
        return Unsupported  # personal, private or missing: the Graph API cannot tell which
    if error.code == 10 or 200 <= (error.code or 0) < 300:
        return Unsupported  # this token lacks a permission another source may not need
    if error.code == 100 and (error.subcode == 33 or "does not exist" in error.message):
        return NotFound
    if error.code == 100:
        return BadParams
    if error.code in (1, 2) or status >= 500:
        return SourceUnavailable
    return Permanent


def _no_graph_ids(params: dict[str, Any]) -> dict[str, None]:
    """Without the Graph API's id, Instagram's own ids are dropped (the Graph API does not
    know them): the call goes by handle where it can, else is Unsupported."""
    return {name: None for name in ("profile_id", "post_id") if name in params}


def _graph_ids(capability: str, graph_id: str) -> dict[str, str]:
    """The Graph API id in place of Instagram's own where the call addresses the object by
    id: a media's for comments and likes, the account's otherwise."""
    return {"post_id": graph_id} if capability in ("comments", "post_insights") \
        else {"profile_id": graph_id}
