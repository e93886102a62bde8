"""The YouTube side of a worker process: its source chain (Data API first, then the keyless
fallback) and a batcher that folds concurrent single-video refreshes into 50-id calls."""

from dataclasses import dataclass

import asyncpg

from core.batching import MicroBatcher
from core.config import Settings
from core.ratelimit import credential_budget, process_limiter, source_limits
from core.sources import Director, Source, Sourced
from credentials.crypto import Crypto
from youtube.models import DATA_API, Video
from youtube.settings import YoutubeSettings
from youtube.sources.data_api import MAX_IDS, DataApiSource
from youtube.sources.data_api.keys import StoredKeys
from youtube.store import save_videos


def build_sources(settings: Settings, pool: asyncpg.Pool) -> list[Source]:
    """The Data API (keys from the credential table, YOUTUBE_API_KEYS imported into it, each
    within its CREDENTIAL_LIMITS), then the keyless fallback when one is configured."""
    own = YoutubeSettings.of(settings)
    budget = credential_budget(process_limiter(settings),
                               settings.credential_limits.get(DATA_API, []))
    keys = StoredKeys.create(pool, Crypto.from_settings(settings), own.api_keys, budget)
    sources: list[Source] = [DataApiSource(own.data_api_url(settings), keys)]
    fallback = own.invidious_base_url(settings)
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
    """Videos saved by concurrent tasks, written in one statement. The tasks of one 50-id
    answer submit together, so the batch goes out once they have (settle), not after the
    window."""

    async def write(videos: list[Video]) -> list[None]:
        latest = {video.video_id: video for video in videos}  # one row per video per statement
        await save_videos(pool, list(latest.values()))
        return [None] * len(videos)

    return MicroBatcher(write, max_size=500, settle=True)


@dataclass
class YoutubeService:
    director: Director
    videos: MicroBatcher[str, Sourced[Video | None]]
    writer: MicroBatcher[Video, None]


# Keyed by identity; each entry keeps its settings and pool alive, so an id is never reused.
_services: dict[tuple[int, int], tuple[Settings, asyncpg.Pool, YoutubeService]] = {}


def service(settings: Settings, pool: asyncpg.Pool) -> YoutubeService:
    """One per process, settings and pool (sources keep circuit breakers and caches)."""
    key = (id(settings), id(pool))
    if key not in _services:
        director = Director(build_sources(settings, pool), limiter=process_limiter(settings),
                            limits=source_limits(settings),
                            target_limit=settings.target_limit or None)
        _services[key] = (settings, pool, YoutubeService(director, video_fetcher(director),
                                                         video_writer(pool)))
    return _services[key][2]
