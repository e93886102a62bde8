"""YouTube storage: idempotent upserts of channels, videos and comments (current state), and
profile_log / post_log snapshots for the time series, in one transaction per write."""

import json
from pathlib import Path
from typing import Any

import asyncpg

from core import sqlfile
from youtube import PROFILE_METRICS as CHANNEL_METRICS
from youtube.models import Channel, Comment, Video

SQL = Path(__file__).with_name("sql") / "store.sql"
VIDEO_METRICS = ("views", "likes", "comments")


def sql(name: str) -> str:
    return sqlfile.load(SQL)[name]


def _metrics(item: Channel | Video, names: tuple[str, ...]) -> dict[str, int]:
    return {n: v for n in names if (v := getattr(item, n)) is not None}


def _sources(metrics: dict[str, Any], source: str) -> str:
    return json.dumps({name: source for name in metrics})


async def save_channels(conn: asyncpg.Connection, channels: list[Channel]) -> list[dict[str, Any]]:
    """Upsert the channels and append one profile_log snapshot each; returns the stored rows."""
    if not channels:
        return []
    metrics = [_metrics(c, CHANNEL_METRICS) for c in channels]
    async with conn.transaction():
        rows = await conn.fetch(sql("upsert_channels"), *_columns(
            [(c.channel_id, c.handle, c.title, c.description, c.published_at, c.country,
              c.thumbnail_url, c.subscribers, c.views, c.video_count, c.uploads_playlist_id,
              c.source, _sources(m, c.source)) for c, m in zip(channels, metrics)], 13))
        await conn.execute(sql("snapshot_profiles"), *_columns(
            [(c.channel_id, json.dumps(m), json.dumps({"handle": c.handle, "title": c.title}),
              c.source) for c, m in zip(channels, metrics)], 4))
    return [dict(r) for r in rows]


async def save_videos(conn: asyncpg.Connection | asyncpg.Pool, videos: list[Video]) -> int:
    """Upsert the videos; videos that carry metrics get a post_log snapshot. One statement, so
    it is atomic on its own and costs one round trip (a pool works as well as a connection)."""
    if not videos:
        return 0
    metrics = [_metrics(v, VIDEO_METRICS) for v in videos]
    await conn.execute(sql("upsert_videos"), *_columns(
        [(v.video_id, v.channel_id, v.channel_title, v.title, v.description, v.published_at,
          v.duration_s, v.views, v.likes, v.comments, v.comments_disabled, json.dumps(v.tags),
          v.thumbnail_url, v.category_id, v.source, _sources(m, v.source),
          json.dumps(m) if m else None)
         for v, m in zip(videos, metrics)], 17))
    return len(videos)


async def save_comments(conn: asyncpg.Connection, comments: list[Comment]) -> int:
    """Store threads and the replies that came with them; answers the threads stored."""
    every = [c for thread in comments for c in (thread, *thread.replies)]
    if every:
        await conn.execute(sql("upsert_comments"), *_columns(
            [(c.comment_id, c.video_id, c.author, c.author_channel_id, c.text, c.likes,
              c.reply_count, c.published_at, c.updated_at, c.source, c.parent_id)
             for c in every], 11))
    return len(comments)


def _columns(rows: list[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows to the parallel arrays that unnest() takes."""
    return [list(column) for column in zip(*rows)] if rows else [[] for _ in range(width)]


async def fetch_one(conn: asyncpg.Connection | asyncpg.Pool, query: str,
                    *args: Any) -> dict[str, Any] | None:
    row = await conn.fetchrow(sql(query), *args)
    return dict(row) if row else None
