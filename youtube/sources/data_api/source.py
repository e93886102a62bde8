"""Calls to the YouTube Data API v3 (needs an API key): channels, videos (50 ids a call), playlist
items, comment threads, search. Quota: 1 unit a list call, 100 a search page; a key whose quota
is spent rests until the reset. Bodies are read by parse.py, errors classified here; check_key
tests a stored key with one call."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from core.config import Settings
from core.errors import (
    BadParams,
    CredentialInvalid,
    NotFound,
    Permanent,
    RateLimited,
    SourceUnavailable,
)
from core.http import JsonResponse, get_json
from credentials.models import Credential, ValidationResult
from youtube.models import DATA_API, Channel, Comment, Page, Video
from youtube.sources.data_api.keys import ApiKey, KeyProvider, next_quota_reset
from youtube.sources.data_api.parse import (
    parse_channels,
    parse_comment_threads,
    parse_error,
    parse_playlist_items,
    parse_search,
    parse_videos,
)

MAX_IDS = 50
RATE_LIMIT_REST_S = 5.0
SEARCH_COST = 100
VIDEO_PARTS = "snippet,statistics,contentDetails"
CHANNEL_PARTS = "snippet,statistics,contentDetails"

QUOTA_REASONS = {"quotaExceeded", "dailyLimitExceeded"}
KEY_REASONS = {"keyInvalid", "keyExpired", "ipRefererBlocked", "accessNotConfigured"}
RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded"}
NOT_FOUND_REASONS = {"notFound", "videoNotFound", "channelNotFound", "playlistNotFound"}
UNAVAILABLE_REASONS = {"backendError", "internalError", "SERVICE_UNAVAILABLE"}


# A public channel (Google for Developers) to ask for: 1 quota unit per check.
PROBE_CHANNEL = "UC_x5XG1OV2P6uZZ5FSM9Ttw"
CHECK_RATE_LIMIT_WAIT_S = 60.0


class CommentsDisabled(Permanent):
    """The video has comments turned off."""


class DataApiSource:
    name = DATA_API
    capabilities = frozenset({"channels", "channel_by_handle", "videos", "playlist_items",
                              "comments", "search"})
    needs_credential = True

    def __init__(self, base_url: str, keys: KeyProvider) -> None:
        self.base_url = base_url.rstrip("/")
        self.keys = keys
        self.units = 0  # quota units this process spent

    async def call(self, capability: str, **params: Any) -> Any:
        handler = getattr(self, f"_{capability}")
        return await handler(**params)

    async def _channels(self, ids: list[str]) -> list[Channel]:
        _check_ids(ids)
        body = await self._get("channels", {"part": CHANNEL_PARTS, "id": ",".join(ids),
                                            "maxResults": MAX_IDS})
        return parse_channels(body, source=DATA_API)

    async def _channel_by_handle(self, handle: str) -> Channel:
        body = await self._get("channels", {"part": CHANNEL_PARTS,
                                            "forHandle": "@" + handle.lstrip("@")})
        channels = parse_channels(body, source=DATA_API)
        if not channels:
            raise NotFound(f"no YouTube channel with handle @{handle.lstrip('@')}")
        return channels[0]

    async def _videos(self, ids: list[str]) -> list[Video]:
        _check_ids(ids)
        body = await self._get("videos", {"part": VIDEO_PARTS, "id": ",".join(ids),
                                          "maxResults": MAX_IDS})
        return parse_videos(body, source=DATA_API)

    async def _playlist_items(self, playlist_id: str, page_token: str | None = None
                              ) -> Page[Video]:
        params = {"part": "snippet,contentDetails", "playlistId": playlist_id,
                  "maxResults": MAX_IDS}
        body = await self._get("playlistItems", _with_token(params, page_token))
        return parse_playlist_items(body, source=DATA_API)

    async def _search(self, keyword: str, page_token: str | None = None) -> Page[Video]:
        """Videos matching `keyword`, newest first (search.list: 100 quota units a page)."""
        params = {"part": "snippet", "q": keyword, "type": "video", "order": "date",
                  "maxResults": MAX_IDS}
        body = await self._get("search", _with_token(params, page_token), cost=SEARCH_COST)
        return parse_search(body, source=DATA_API)

    async def _comments(self, video_id: str, page_token: str | None = None) -> Page[Comment]:
        params = {"part": "snippet,replies", "videoId": video_id, "maxResults": 100,
                  "textFormat": "plainText"}
        body = await self._get("commentThreads", _with_token(params, page_token))
        return parse_comment_threads(body, source=DATA_API)

    async def _get(self, endpoint: str, params: dict[str, Any], cost: int = 1) -> Any:
        """Call with a key that has quota left; move to the next key when one is spent."""
        while (key := await self.keys.pick(cost)) is not None:
            try:
                response = await get_json(DATA_API, f"{self.base_url}/{endpoint}",
                                          params={**params, "key": key.value})
            except RateLimited as exc:  # HTTP 429 for this key: rest it, try another
                await self.keys.rate_limited(key, exc.retry_after)
                continue
            if response.status == 200:
                self.units += cost
                return response.body
            await self._classify(response, key)
        raise CredentialInvalid("youtube_data_api: no API key with quota left")

    async def _classify(self, response: JsonResponse, key: ApiKey) -> None:
        """Raise for the error in `response`, or return after resting `key` to try another."""
        error = parse_error(response.body)
        reason = error.reason if error else None
        message = f"youtube_data_api: HTTP {response.status} {reason or ''}".strip()
        if reason in QUOTA_REASONS:
            await self.keys.quota_spent(key)
        elif reason in KEY_REASONS:
            await self.keys.invalid(key, message)
        elif reason in RATE_REASONS:
            await self.keys.rate_limited(key, RATE_LIMIT_REST_S)
        elif reason == "commentsDisabled":
            raise CommentsDisabled(message)
        elif reason in NOT_FOUND_REASONS or response.status == 404:
            raise NotFound(message)
        elif reason in UNAVAILABLE_REASONS:
            raise SourceUnavailable(message)
        elif response.status == 400:
            raise BadParams(message)
        else:
            raise Permanent(message)


def _check_ids(ids: list[str]) -> None:
    if not ids or len(ids) > MAX_IDS:
        raise BadParams(f"between 1 and {MAX_IDS} ids per call, got {len(ids)}")


def _with_token(params: dict[str, Any], page_token: str | None) -> dict[str, Any]:
    return {**params, "pageToken": page_token} if page_token else params


async def check_key(cred: Credential, settings: Settings,
                    clock: Callable[[], datetime]) -> ValidationResult:
    """A stored Data API key (secret `key` or `api_key`) checked with one channels call: valid,
    valid with its quota spent (resting until the reset), or refused with the API's reason."""
    from youtube.settings import YoutubeSettings

    key = cred.secret("key", "api_key")
    if key is None:
        return ValidationResult(False, reason="no 'key' in the credentials")
    url = YoutubeSettings.of(settings).data_api_url(settings).rstrip("/")
    response = await get_json(DATA_API, f"{url}/channels",
                              params={"part": "id", "id": PROBE_CHANNEL, "key": key})
    if response.status == 200:
        return ValidationResult(True)
    error = parse_error(response.body)
    reason = (error.reason if error else None) or f"HTTP {response.status}"
    if reason in QUOTA_REASONS:
        return ValidationResult(True, exhausted_until=next_quota_reset(clock()))
    if reason in RATE_REASONS:
        raise RateLimited(CHECK_RATE_LIMIT_WAIT_S, f"{DATA_API}: {reason}")
    message = error.message if error and error.message else ""
    return ValidationResult(False, reason=f"{reason}: {message}".rstrip(": "))
