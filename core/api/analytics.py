"""Analytics read back from the snapshots: a profile's metric as a time series with its growth
(`GET /profiles/{platform}/{id}/timeseries`), and leaderboards (`GET /leaderboards/{platform}`).
Platform-neutral: the platform names its metrics."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, status
from pydantic import BaseModel, Field

from core.analytics import leaderboards, timeseries
from core.analytics.timeseries import Interval
from core.api.deps import QueueDep, SettingsDep
from core.api.errors import invalid
from core.config import Settings
from core.platforms import Platform, UnknownPlatform, get

router = APIRouter(tags=["analytics"])


class Point(BaseModel):
    t: datetime
    value: int | float | None
    snapshots: int


class GrowthPublic(BaseModel):
    days: int
    value: int | float | None
    previous: int | float | None
    change: int | float | None
    change_pct: float | None


class TimeSeriesPublic(BaseModel):
    platform: str
    profile_id: str
    metric: str
    interval: str
    start: datetime = Field(alias="from")
    end: datetime = Field(alias="to")
    points: list[Point]
    growth: list[GrowthPublic]


def platform_named(settings: Settings, name: str) -> Platform:
    try:
        return get(settings, name)
    except UnknownPlatform as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from None


@router.get("/profiles/{platform}/{profile_id}/timeseries", response_model=TimeSeriesPublic,
            responses={404: {"description": "No such platform, or nothing stored about the "
                                            "profile"}})
async def profile_timeseries(
        queue: QueueDep, settings: SettingsDep,
        platform: Annotated[str, Path(max_length=40)],
        profile_id: Annotated[str, Path(min_length=1, max_length=256)],
        metric: Annotated[str, Query(max_length=64)] = "followers",
        start: Annotated[datetime | None, Query(alias="from")] = None,
        end: Annotated[datetime | None, Query(alias="to")] = None,
        interval: Interval = "day") -> dict[str, Any]:
    """The metric's value in each `interval` bucket from `from` (default: `to` minus 30 days)
    to `to` (default: now): the last snapshot inside the bucket, null when the bucket holds
    none. Buckets are aligned on Monday 00:00 UTC. `growth`: the change over 1, 7 and 30
    days before `to`, absolute and in percent (null where a snapshot is missing)."""
    found = platform_named(settings, platform)
    try:
        return await timeseries.read_timeseries(queue.pool, found, profile_id, metric, start,
                                                end, interval)
    except timeseries.UnknownMetric as exc:
        raise invalid(["query", "metric"], str(exc)) from None
    except timeseries.TooManyBuckets as exc:
        raise invalid(["query", "interval"], str(exc)) from None
    except timeseries.NoSnapshots as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from None
    except ValueError as exc:
        raise invalid(["query", "to"], str(exc)) from None


class LeaderboardItem(BaseModel):
    rank: int
    previous_rank: int | None
    rank_change: int | None
    platform: str
    profile_id: str
    handle: str | None
    category: str | None
    language: str | None
    followers: int | float | None
    growth: int | float | None
    growth_pct: float | None
    engagement_rate: float | None


class LeaderboardPublic(BaseModel):
    platform: str
    by: str
    category: str | None
    language: str | None
    computed_at: datetime | None
    items: list[LeaderboardItem]
    next_cursor: str | None


@router.get("/leaderboards/{platform}", response_model=LeaderboardPublic,
            responses={404: {"description": "No such platform"},
                       503: {"description": "Not computed yet (before the first refresh)"}})
async def leaderboard(
        queue: QueueDep, settings: SettingsDep,
        platform: Annotated[str, Path(max_length=40, description="A platform's API name, or "
                                                                 "ALL: across platforms")],
        by: leaderboards.Measure = "followers",
        category: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
        language: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
        limit: Annotated[int, Query(ge=1, le=leaderboards.MAX_LIMIT)] = 50,
        cursor: Annotated[str | None, Query(max_length=2048)] = None) -> dict[str, Any]:
    """Profiles ranked by followers, engagement rate (likes + comments per recent post over
    followers, in percent) or growth (followers gained in 7 days), on one platform or across
    all (ALL), within a category and/or language when given; `rank_change` is the rank 7 days
    before minus this one (positive: moved up). As of the view's last refresh
    (`computed_at`); pass `next_cursor` back as `cursor` for the next page. 503 until the
    maintenance leader's first refresh has computed it."""
    name = None if platform.upper() == leaderboards.ACROSS else \
        platform_named(settings, platform).api_name
    board = leaderboards.Board(name, by, category, language)
    try:
        return await leaderboards.read_page(queue.pool, board, limit, cursor)
    except leaderboards.BadCursor as exc:
        raise invalid(["query", "cursor"], str(exc)) from None
    except leaderboards.NotComputed as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=str(exc),
                            headers={"Retry-After": "60"}) from None
