"""The YouTube side of a worker process: its source chain (Data API first, then the keyless
fallback) and a batcher that folds concurrent single-video refreshes into 50-id calls."""

from dataclasses import dataclass

import asyncpg

from core.batching import MicroBatcher
from core.config import Settings
from core.sources import Director, Source, Sourced
from youtube.keys import KeyPool
from youtube.models import Video
from youtube.sources.data_api import MAX_IDS, DataApiSource
from youtube.store import save_videos


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


def video_fetcher(director: Director) -> MicroBatcher[str, Sourced[Video | None]]:
    """Single-video lookups by concurrent tasks, folded into 50-id calls; a caller gets None
    when the platform does not know its video."""

    async def fetch(ids: list[str]) -> list[Sourced[Video | None]]:
        got = await director.fetch("videos", ids=list(dict.fromkeys(ids)))
        found = {video.video_id: video for video in got.value}
        return [Sourced(found.get(i), got.source) for i in ids]

    return MicroBatcher(fetch, max_size=MAX_IDS)


def video_writer(pool: asyncpg.Pool) -> MicroBatcher[Video, None]:
    """Videos saved by concurrent tasks, written in one transaction."""

    async def write(videos: list[Video]) -> list[None]:
        latest = {video.video_id: video for video in videos}  # one row per video per statement
        async with pool.acquire() as conn:
            await save_videos(conn, list(latest.values()))
        return [None] * len(videos)

    return MicroBatcher(write, max_size=500)


@dataclass
class YoutubeService:
    director: Director
    videos: MicroBatcher[str, Sourced[Video | None]]
    writer: MicroBatcher[Video, None] | None = None

    def video_writer(self, pool: asyncpg.Pool) -> MicroBatcher[Video, None]:
        if self.writer is None:
            self.writer = video_writer(pool)
        return self.writer


_services: dict[int, YoutubeService] = {}


def service(settings: Settings) -> YoutubeService:
    """One per process and settings object (sources keep key state and circuit breakers)."""
    key = id(settings)
    if key not in _services:
        director = Director(build_sources(settings))
        _services[key] = YoutubeService(director, video_fetcher(director))
    return _services[key]
