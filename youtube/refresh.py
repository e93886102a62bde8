"""Refreshing YouTube data: each worker process's source chain (the Data API, then the keyless
fallback) with batchers that fold concurrent single-video refreshes into 50-id calls, and the
refresh operations the flows run through it (fetch, store current state and snapshots, say which
source answered)."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg

from core.batching import MicroBatcher
from core.config import Settings
from core.credential_rates import rate_check
from core.errors import NotFound
from core.progress import ProgressReporter
from core.ratelimit import process_limiter, source_limits
from core.sources import Director, Source, Sourced
from credentials.crypto import Crypto
from youtube.models import DATA_API, Channel, Comment, Video
from youtube.settings import YoutubeSettings
from youtube.sources.analytics import AnalyticsSource, OAuthClient, OwnerTokens
from youtube.sources.data_api import MAX_IDS, DataApiSource
from youtube.sources.data_api.keys import StoredKeys
from youtube.store import save_channels, save_comments, save_videos


def build_sources(settings: Settings, pool: asyncpg.Pool) -> list[Source]:
    """The Data API (keys from the credential table, YOUTUBE_API_KEYS imported into it, each
    within its CREDENTIAL_LIMITS and its daily quota), then the keyless fallback when one is
    configured; YouTube Analytics (channel owners' reports) beside them."""
    own = YoutubeSettings.of(settings)
    crypto = Crypto.from_settings(settings)
    keys = StoredKeys.create(pool, crypto, own.api_keys, rate_check(settings, DATA_API))
    owners = OwnerTokens(pool, crypto, OAuthClient(own.token_url(settings), own.oauth_client_id,
                                                   own.oauth_client_secret))
    sources: list[Source] = [DataApiSource(own.data_api_url(settings), keys),
                             AnalyticsSource(own.analytics_base_url(settings), owners)]
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


def uploads_playlist(channel: Channel) -> str:
    """The channel's uploads playlist: given by the API, else UC… -> UU… as YouTube derives it."""
    if channel.uploads_playlist_id:
        return channel.uploads_playlist_id
    return "UU" + channel.channel_id[2:]


async def refresh_channels(director: Director, pool: asyncpg.Pool, ids: list[str],
                           progress: ProgressReporter | None = None) -> list[dict[str, Any]]:
    stored: list[dict[str, Any]] = []
    for start in range(0, len(ids), MAX_IDS):
        batch = ids[start:start + MAX_IDS]
        got = await director.fetch("channels", target=batch[0] if len(batch) == 1 else None,
                                   ids=batch)
        async with pool.acquire() as conn:
            stored += await save_channels(conn, got.value)
        if progress:
            await progress.update(start + len(batch), len(ids), "channels refreshed")
    return stored


async def refresh_channel(director: Director, pool: asyncpg.Pool, channel_id: str
                          ) -> dict[str, Any]:
    stored = await refresh_channels(director, pool, [channel_id])
    if not stored:
        raise NotFound(f"no YouTube channel {channel_id}")
    return stored[0]


async def refresh_handle(director: Director, pool: asyncpg.Pool, handle: str) -> dict[str, Any]:
    got = await director.fetch("channel_by_handle", target=handle.lower(), handle=handle)
    async with pool.acquire() as conn:
        return (await save_channels(conn, [got.value]))[0]


async def playlist_video_ids(director: Director, playlist_id: str, limit: int | None = None,
                             progress: ProgressReporter | None = None) -> list[str]:
    """Video ids of a playlist, in its order. Page tokens belong to the source that issued them:
    when a later page comes from another source, paging starts over with that source."""
    ids: dict[str, None] = {}
    token: str | None = None
    source: str | None = None
    while limit is None or len(ids) < limit:
        got = await director.fetch("playlist_items", playlist_id=playlist_id, page_token=token)
        if source is not None and got.source != source and token is not None:
            token, source = None, got.source
            continue
        source = got.source
        ids.update((video.video_id, None) for video in got.value.items)
        token = got.value.next_page_token
        if progress:
            await progress.update(min(len(ids), limit or len(ids)), limit, "videos listed")
        if not token:
            break
    return list(ids)[:limit]


async def search_video_ids(director: Director, keyword: str, limit: int,
                           progress: ProgressReporter | None = None) -> list[str]:
    """Ids of the newest videos matching `keyword` (up to `limit`)."""
    ids: dict[str, None] = {}
    token: str | None = None
    while len(ids) < limit:
        got = await director.fetch("search", keyword=keyword, page_token=token)
        ids.update((video.video_id, None) for video in got.value.items)
        token = got.value.next_page_token
        if progress:
            await progress.update(min(len(ids), limit), limit, "videos found")
        if not token or not got.value.items:
            break
    return list(ids)[:limit]


async def refresh_videos(director: Director, pool: asyncpg.Pool, ids: list[str],
                         progress: ProgressReporter | None = None) -> dict[str, int]:
    """Fetch and store videos 50 ids a call; returns how many each source gave."""
    by_source: dict[str, int] = {}
    for start in range(0, len(ids), MAX_IDS):
        got = await director.fetch("videos", ids=ids[start:start + MAX_IDS])
        async with pool.acquire() as conn:
            await save_videos(conn, got.value)
        by_source[got.source] = by_source.get(got.source, 0) + len(got.value)
        if progress:
            await progress.update(min(start + MAX_IDS, len(ids)), len(ids), "videos refreshed")
    return by_source


async def comment_pages(director: Director, video_id: str,
                        limit: int) -> AsyncIterator[list[Comment]]:
    token: str | None = None
    fetched = 0
    while fetched < limit:
        got = await director.fetch("comments", video_id=video_id, page_token=token)
        page = got.value.items[:limit - fetched]
        fetched += len(page)
        yield page
        token = got.value.next_page_token
        if not token:
            return


async def store_comments(pool: asyncpg.Pool, comments: list[Comment]) -> int:
    async with pool.acquire() as conn:
        return await save_comments(conn, comments)


def insights(videos: list[Video]) -> dict[str, float | int | None]:
    """Averages over recent videos: views, likes, comments, engagement rate (likes + comments
    per view, in %), and upload cadence (uploads per week over the span they cover)."""
    def mean(values: list[float]) -> float | None:
        return sum(values) / len(values) if values else None

    rates = [100 * ((v.likes or 0) + (v.comments or 0)) / v.views for v in videos
             if v.views and v.likes is not None and v.comments is not None]
    times = sorted(v.published_at for v in videos if v.published_at)
    span_weeks = (times[-1] - times[0]).total_seconds() / (7 * 86400) if len(times) > 1 else 0
    return {
        "avg_views": mean([v.views for v in videos if v.views is not None]),
        "avg_likes": mean([v.likes for v in videos if v.likes is not None]),
        "avg_comments": mean([v.comments for v in videos if v.comments is not None]),
        "engagement_rate": mean(rates),
        "uploads_per_week": (len(times) - 1) / span_weeks if span_weeks > 0 else None,
        "insights_videos": len(videos),
    }
