"""The YouTube side of a worker process: its source chain (Data API first, then the keyless
fallback) and a batcher that folds concurrent single-video refreshes into 50-id calls."""

import asyncio
from dataclasses import dataclass, field

from core.config import Settings
from core.sources import Director, Source, Sourced
from youtube.keys import KeyPool
from youtube.models import Video
from youtube.sources.data_api import MAX_IDS, DataApiSource

BATCH_WINDOW_S = 0.02


def build_sources(settings: Settings) -> list[Source]:
    sources: list[Source] = []
    if settings.youtube_api_keys:
        sources.append(DataApiSource(settings.youtube_base_url(),
                                     KeyPool(settings.youtube_api_keys)))
    fallback = settings.invidious_base_url()
    if fallback:
        from youtube.sources.invidious import InvidiousSource

        sources.append(InvidiousSource(fallback))
    return sources


@dataclass
class VideoBatcher:
    """Collects video ids asked for by concurrent tasks for up to BATCH_WINDOW_S (or until 50
    are waiting) and fetches them in one call; each caller gets its video, or None if the
    platform does not know it."""

    director: Director
    waiting: dict[str, list[asyncio.Future[Sourced[Video | None]]]] = field(default_factory=dict)
    flusher: asyncio.TimerHandle | None = None

    async def get(self, video_id: str) -> Sourced[Video | None]:
        future: asyncio.Future[Sourced[Video | None]] = asyncio.get_running_loop().create_future()
        self.waiting.setdefault(video_id, []).append(future)
        if len(self.waiting) >= MAX_IDS:
            self._flush()
        elif self.flusher is None:
            self.flusher = asyncio.get_running_loop().call_later(BATCH_WINDOW_S, self._flush)
        return await future

    def _flush(self) -> None:
        if self.flusher is not None:
            self.flusher.cancel()
            self.flusher = None
        batch, self.waiting = self.waiting, {}
        if batch:
            asyncio.get_running_loop().create_task(self._fetch(batch))

    async def _fetch(self, batch: dict[str, list[asyncio.Future[Sourced[Video | None]]]]) -> None:
        try:
            got = await self.director.fetch("videos", ids=list(batch))
        except Exception as exc:  # noqa: BLE001 - every waiting task gets the failure
            for futures in batch.values():
                for future in futures:
                    if not future.done():
                        future.set_exception(exc)
            return
        found = {video.video_id: video for video in got.value}
        for video_id, futures in batch.items():
            for future in futures:
                if not future.done():
                    future.set_result(Sourced(found.get(video_id), got.source))


@dataclass
class YoutubeService:
    director: Director
    batcher: VideoBatcher


_services: dict[int, YoutubeService] = {}


def service(settings: Settings) -> YoutubeService:
    """One per process and settings object (sources keep key state and circuit breakers)."""
    key = id(settings)
    if key not in _services:
        director = Director(build_sources(settings))
        _services[key] = YoutubeService(director, VideoBatcher(director))
    return _services[key]
