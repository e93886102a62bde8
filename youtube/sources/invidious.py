"""The keyless fallback: an Invidious instance (API v1). One call per video or channel, so it
serves the same capabilities as the Data API at a higher call count, and no handle lookups."""

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from core.errors import NotFound, SourceUnavailable, Unsupported
from core.http import get_json
from core.parsing import UnknownShape
from youtube.invidious import (
    INVIDIOUS,
    parse_channel,
    parse_channel_videos,
    parse_comments,
    parse_error,
    parse_video,
)
from youtube.models import Channel, Comment, Page, Video

T = TypeVar("T")
PARALLEL_CALLS = 10


class InvidiousSource:
    name = INVIDIOUS
    capabilities = frozenset({"channels", "videos", "playlist_items", "comments"})
    needs_credential = False

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/") + "/api/v1"
        self.calls = 0
        self._gate = asyncio.Semaphore(PARALLEL_CALLS)

    async def call(self, capability: str, **params: Any) -> Any:
        handler = getattr(self, f"_{capability}")
        return await handler(**params)

    async def _videos(self, ids: list[str]) -> list[Video]:
        found = await asyncio.gather(*(self._one(f"videos/{i}", parse_video) for i in ids))
        return [video for video in found if video is not None]

    async def _channels(self, ids: list[str]) -> list[Channel]:
        found = await asyncio.gather(*(self._one(f"channels/{i}", parse_channel) for i in ids))
        return [channel for channel in found if channel is not None]

    async def _playlist_items(self, playlist_id: str, page_token: str | None = None
                              ) -> Page[Video]:
        if not playlist_id.startswith("UU"):
            raise Unsupported(f"invidious: only uploads playlists, not {playlist_id}")
        params = {"continuation": page_token} if page_token else None
        return await self._page(f"channels/UC{playlist_id[2:]}/videos", params,
                                parse_channel_videos)

    async def _comments(self, video_id: str, page_token: str | None = None) -> Page[Comment]:
        params = {"continuation": page_token} if page_token else None
        return await self._page(f"comments/{video_id}", params, parse_comments)

    async def _one(self, path: str, parse: Callable[[Any], T]) -> T | None:
        """One item; None when Invidious does not know it."""
        try:
            return await self._page(path, None, parse)
        except NotFound:
            return None

    async def _page(self, path: str, params: dict[str, str] | None,
                    parse: Callable[[Any], T]) -> T:
        async with self._gate:
            self.calls += 1
            response = await get_json(INVIDIOUS, f"{self.base_url}/{path}", params=params)
        if response.status == 404:
            raise NotFound(f"invidious: {parse_error(response.body) or 'not found'}")
        if response.status != 200:
            raise SourceUnavailable(f"invidious: HTTP {response.status} "
                                    f"{parse_error(response.body) or ''}".rstrip())
        return _parsed(parse, response.body)


def _parsed(parse: Callable[[Any], T], body: Any) -> T:
    try:
        return parse(body)
    except UnknownShape as exc:
        raise SourceUnavailable(f"invidious: unexpected body: {exc}") from None


