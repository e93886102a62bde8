"""YouTube refresh operations shared by the flows and the API: fetch through the source chain,
store current state and snapshots, and say which source answered."""

from collections.abc import AsyncIterator
from typing import Any

import asyncpg

from core.errors import NotFound
from core.progress import ProgressReporter
from core.sources import Director
from youtube.models import Channel, Comment, Video
from youtube.sources.data_api import MAX_IDS
from youtube.store import save_channels, save_comments, save_videos


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
