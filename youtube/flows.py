"""YouTube flows (names from the seed): profiles, videos by id / channel / playlist, comments,
profile insights and CSV exports (under BEAT_HOME/exports), among them the channel owner's
analytics (daily figures, demographics). Each returns a small JSON result stored with the
task."""

import asyncio
import csv
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator

from core.errors import NotFound
from core.flows import StrictParams, TaskContext, flow
from core.sources import Director
from youtube import PLATFORM as YOUTUBE
from youtube import analytics
from youtube.models import DATA_API, Channel, Video
from youtube.refresh import (
    comment_pages,
    insights,
    playlist_video_ids,
    refresh_channel,
    refresh_channels,
    refresh_handle,
    refresh_videos,
    search_video_ids,
    service,
    store_comments,
    uploads_playlist,
)
from youtube.sources.data_api import CommentsDisabled
from youtube.store import sql

PLATFORM = YOUTUBE.api_name  # "YOUTUBE": the spelling of tasks and the API
Ids = list[str]
CHANNEL_COLUMNS = ("channel_id", "handle", "title", "subscribers", "views", "video_count",
                   "published_at", "country", "avg_views", "engagement_rate", "source")
VIDEO_COLUMNS = ("video_id", "channel_id", "title", "published_at", "duration_s", "views",
                 "likes", "comments", "source")
ENGAGEMENT_COLUMNS = ("video_id", "title", "published_at", "views", "likes", "comments",
                      "engagement_rate")


class ProfilesParams(StrictParams):
    channel_ids: Ids = Field(default_factory=list, max_length=50)
    handles: Ids = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _some(self) -> "ProfilesParams":
        if not self.channel_ids and not self.handles:
            raise ValueError("give channel_ids and/or handles")
        return self


class VideosParams(StrictParams):
    video_ids: Ids = Field(min_length=1, max_length=50)


class ChannelVideosParams(StrictParams):
    channel_id: str = Field(pattern=r"^UC[0-9A-Za-z_-]{22}$")
    max_videos: int | None = Field(default=None, ge=1, le=20_000)


class PlaylistParams(StrictParams):
    playlist_id: str = Field(min_length=2, max_length=64)
    max_videos: int | None = Field(default=None, ge=1, le=20_000)


class KeywordParams(StrictParams):
    keyword: str = Field(min_length=1, max_length=200)
    max_videos: int = Field(default=50, ge=1, le=500)


class CommentsParams(StrictParams):
    video_id: str = Field(pattern=r"^[0-9A-Za-z_-]{11}$")
    max_comments: int = Field(default=500, ge=1, le=20_000)


class InsightsParams(StrictParams):
    channel_id: str = Field(pattern=r"^UC[0-9A-Za-z_-]{22}$")
    recent: int = Field(default=30, ge=2, le=500)


class ChannelsCsvParams(StrictParams):
    channel_ids: Ids = Field(min_length=1, max_length=500)


MAX_PERIOD_DAYS = 3 * 366


class PeriodParams(StrictParams):
    """A channel and a period of days, both ends included."""

    channel_id: str = Field(pattern=r"^UC[0-9A-Za-z_-]{22}$")
    start_date: date
    end_date: date

    @model_validator(mode="after")
    def _ordered(self) -> "PeriodParams":
        if self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        if self.end_date - self.start_date > timedelta(days=MAX_PERIOD_DAYS):
            raise ValueError(f"a period of at most {MAX_PERIOD_DAYS} days")
        return self


class DemographicParams(StrictParams):
    """Without dates: the last 28 days with final figures (up to two days ago)."""

    channel_id: str = Field(pattern=r"^UC[0-9A-Za-z_-]{22}$")
    start_date: date | None = None
    end_date: date | None = None

    @model_validator(mode="after")
    def _both_or_neither(self) -> "DemographicParams":
        if (self.start_date is None) != (self.end_date is None):
            raise ValueError("give both start_date and end_date, or neither")
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        return self


def _director(ctx: TaskContext) -> Director:
    return service(ctx.settings, ctx.pool).director


@flow("refresh_yt_profiles", ProfilesParams, platform=PLATFORM, processes=10, concurrency=5)
async def refresh_yt_profiles(params: ProfilesParams, ctx: TaskContext) -> dict[str, Any]:
    """Refresh channels by id and/or handle."""
    director = _director(ctx)
    rows = await refresh_channels(director, ctx.pool, params.channel_ids)
    for handle in params.handles:
        rows.append(await refresh_handle(director, ctx.pool, handle))
    found = {row["channel_id"] for row in rows}
    missing = [i for i in params.channel_ids if i not in found]
    if not rows:
        raise NotFound(f"no such YouTube channel: {', '.join(params.channel_ids)}")
    return {"channels": sorted(found), "missing": missing,
            "sources": sorted({row["source"] for row in rows})}


@flow("refresh_yt_posts", VideosParams, platform=PLATFORM, processes=5, concurrency=50)
async def refresh_yt_posts(params: VideosParams, ctx: TaskContext) -> dict[str, Any]:
    """Refresh videos by id; concurrent tasks share 50-id calls and multi-row writes."""
    yt = service(ctx.settings, ctx.pool)
    found = await asyncio.gather(*(yt.videos.submit(i) for i in params.video_ids))
    videos = [got.value for got in found if got.value is not None]
    if not videos:
        raise NotFound(f"no such YouTube video: {', '.join(params.video_ids)}")
    await asyncio.gather(*(yt.writer.submit(video) for video in videos))
    return {"videos": len(videos),
            "missing": sorted(set(params.video_ids) - {v.video_id for v in videos}),
            "sources": sorted({got.source for got in found})}


async def _refresh_playlist(ctx: TaskContext, playlist_id: str,
                            limit: int | None) -> dict[str, Any]:
    director = _director(ctx)
    ids = await playlist_video_ids(director, playlist_id, limit, ctx.progress)
    by_source = await refresh_videos(director, ctx.pool, ids, ctx.progress)
    return {"playlist_id": playlist_id, "videos": len(ids), "sources": by_source}


@flow("refresh_yt_posts_by_channel_id", ChannelVideosParams, platform=PLATFORM, processes=3,
      concurrency=5, timeout_s=1800)
async def refresh_yt_posts_by_channel_id(params: ChannelVideosParams,
                                         ctx: TaskContext) -> dict[str, Any]:
    """Refresh a channel and its uploads (via the uploads playlist, not search)."""
    row = await refresh_channel(_director(ctx), ctx.pool, params.channel_id)
    result = await _refresh_playlist(ctx, uploads_playlist(Channel.model_validate(row)),
                                     params.max_videos)
    return {"channel_id": params.channel_id, **result}


@flow("refresh_yt_posts_by_playlist_id", PlaylistParams, platform=PLATFORM, processes=2,
      concurrency=3, timeout_s=1800)
async def refresh_yt_posts_by_playlist_id(params: PlaylistParams,
                                          ctx: TaskContext) -> dict[str, Any]:
    """Refresh the videos of a playlist."""
    return await _refresh_playlist(ctx, params.playlist_id, params.max_videos)


@flow("refresh_yt_posts_by_keyword", KeywordParams, platform=PLATFORM, processes=1,
      concurrency=3)
async def refresh_yt_posts_by_keyword(params: KeywordParams, ctx: TaskContext) -> dict[str, Any]:
    """Refresh the newest videos matching a keyword (search: 100 quota units a page)."""
    director = _director(ctx)
    ids = await search_video_ids(director, params.keyword, params.max_videos, ctx.progress)
    by_source = await refresh_videos(director, ctx.pool, ids, ctx.progress)
    return {"keyword": params.keyword, "videos": len(ids), "sources": by_source}


@flow("fetch_yt_post_comments", CommentsParams, platform=PLATFORM, processes=1, concurrency=3,
      timeout_s=1800)
async def fetch_yt_post_comments(params: CommentsParams, ctx: TaskContext) -> dict[str, Any]:
    """Fetch a video's top-level comments (up to max_comments)."""
    director = _director(ctx)
    stored = 0
    try:
        async for page in comment_pages(director, params.video_id, params.max_comments):
            stored += await store_comments(ctx.pool, page)
            await ctx.progress.update(stored, params.max_comments, "comments")
    except CommentsDisabled:
        await ctx.pool.execute(sql("mark_comments_disabled"), params.video_id)
        return {"video_id": params.video_id, "comments": 0, "comments_disabled": True}
    await ctx.progress.update(stored, stored, "comments")  # fewer than asked: all there are
    return {"video_id": params.video_id, "comments": stored}


@flow("refresh_yt_profile_insights", InsightsParams, platform=PLATFORM, processes=2,
      concurrency=3)
async def refresh_yt_profile_insights(params: InsightsParams,
                                      ctx: TaskContext) -> dict[str, Any]:
    """Averages over the channel's recent videos (views, likes, comments, engagement, cadence)
    and, when its owner authorised Beat, the owner's analytics of the last 28 days (views,
    watch time, view duration, net subscribers, engagement); `sources` says whose each is."""
    director = _director(ctx)
    row = await refresh_channel(director, ctx.pool, params.channel_id)
    ids = await playlist_video_ids(director, uploads_playlist(Channel.model_validate(row)),
                                   params.recent)
    await refresh_videos(director, ctx.pool, ids)
    rows = await ctx.pool.fetch(sql("videos_of_channel"), params.channel_id, params.recent)
    public = insights([Video.model_validate({**dict(r), "tags": []}) for r in rows])
    owner = await analytics.owner_insights(director, ctx.pool, params.channel_id)
    owned = owner if isinstance(owner, analytics.OwnerInsights) else None
    figures, sources = analytics.insight_sources(public, owned, DATA_API)
    await ctx.pool.fetchrow(analytics.sql("save_insights"), params.channel_id,
                            *(figures[name] for name in INSIGHT_FIGURES), sources)
    audience = {"top_age_group": owned.top_age_group, "top_gender": owned.top_gender,
                "top_country": owned.top_country} if owned else {"owner_analytics": owner}
    return {"channel_id": params.channel_id, **figures, **audience,
            "sources": sources}


INSIGHT_FIGURES = ("avg_views", "avg_likes", "avg_comments", "engagement_rate",
                   "uploads_per_week", "insights_videos", *analytics.OWNER_FIGURES[:4])


def engagement_row(video: dict[str, Any]) -> dict[str, Any]:
    """The video with its engagement rate: likes + comments per view, in %."""
    views, likes, comments = video["views"], video["likes"], video["comments"]
    rate = None
    if views and likes is not None and comments is not None:
        rate = round(100 * (likes + comments) / views, 4)
    return {**video, "engagement_rate": rate}


async def write_csv(ctx: TaskContext, columns: tuple[str, ...],
                    rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The rows as BEAT_HOME/exports/<flow>-<task id>.csv; the result holds its path."""
    path = ctx.settings.beat_home / "exports" / f"{ctx.flow}-{ctx.task_id}.csv"
    await ctx.progress.update(0, len(rows), "rows written")
    await asyncio.to_thread(_write_csv_file, path, columns, rows)
    await ctx.progress.update(len(rows), len(rows), "rows written")
    return {"path": str(path), "rows": len(rows)}


def _write_csv_file(path: Path, columns: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows({c: ("" if row.get(c) is None else row[c]) for c in columns}
                         for row in rows)


@flow("fetch_channels_csv", ChannelsCsvParams, platform=PLATFORM, processes=2, concurrency=3)
async def fetch_channels_csv(params: ChannelsCsvParams, ctx: TaskContext) -> dict[str, Any]:
    """CSV of channels (refreshed first)."""
    rows = await refresh_channels(_director(ctx), ctx.pool, params.channel_ids, ctx.progress)
    return await write_csv(ctx, CHANNEL_COLUMNS, rows)


@flow("fetch_channel_videos_csv", ChannelVideosParams, platform=PLATFORM, processes=2,
      concurrency=3, timeout_s=1800)
async def fetch_channel_videos_csv(params: ChannelVideosParams,
                                   ctx: TaskContext) -> dict[str, Any]:
    """CSV of a channel's videos (refreshed first)."""
    await refresh_yt_posts_by_channel_id(params, ctx)
    rows = await ctx.pool.fetch(sql("videos_of_channel"), params.channel_id,
                                params.max_videos or 20_000)
    return await write_csv(ctx, VIDEO_COLUMNS, [dict(r) for r in rows])


@flow("fetch_channel_engagement_csv", InsightsParams, platform=PLATFORM, processes=2,
      concurrency=3)
async def fetch_channel_engagement_csv(params: InsightsParams,
                                       ctx: TaskContext) -> dict[str, Any]:
    """CSV of engagement per recent video, plus the channel's averages in the result."""
    summary = await refresh_yt_profile_insights(params, ctx)
    rows = await ctx.pool.fetch(sql("videos_of_channel"), params.channel_id, params.recent)
    result = await write_csv(ctx, ENGAGEMENT_COLUMNS, [engagement_row(dict(r)) for r in rows])
    return {**result, "summary": summary}


@flow("fetch_channel_daily_stats_csv", PeriodParams, platform=PLATFORM, processes=2,
      concurrency=3)
async def fetch_channel_daily_stats_csv(params: PeriodParams,
                                        ctx: TaskContext) -> dict[str, Any]:
    """CSV of the channel's figures per day (views, watch time, view duration, subscribers
    gained and lost, likes, comments, shares) from its owner's analytics; stored by day."""
    rows = await analytics.fetch_daily(_director(ctx), ctx.pool, params.channel_id,
                                       params.start_date, params.end_date)
    result = await write_csv(ctx, analytics.DAILY_COLUMNS, rows)
    return {"channel_id": params.channel_id, "start_date": params.start_date.isoformat(),
            "end_date": params.end_date.isoformat(), **result}


@flow("fetch_channel_demographic_csv", DemographicParams, platform=PLATFORM, processes=2,
      concurrency=3)
async def fetch_channel_demographic_csv(params: DemographicParams,
                                        ctx: TaskContext) -> dict[str, Any]:
    """CSV of the channel's audience from its owner's analytics: viewer percentage by age group
    × gender, then views and watch time by country; stored as the period's breakdowns."""
    start, end = (params.start_date, params.end_date) if params.start_date and params.end_date \
        else analytics.default_period()
    rows = await analytics.fetch_demographics(_director(ctx), ctx.pool, params.channel_id,
                                              start, end)
    result = await write_csv(ctx, analytics.DEMOGRAPHIC_COLUMNS, rows)
    return {"channel_id": params.channel_id, "start_date": start.isoformat(),
            "end_date": end.isoformat(), **result}
