"""Trending hashtags and the analytics reports: windows and co-occurrences read from the Redis
counts (core/hashtags), engagement per profile from the stored posts."""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status
from pydantic import BaseModel
from redis.exceptions import RedisError

from core.api.deps import QueueDep, SettingsDep
from core.api.errors import invalid
from core.config import Settings
from core.hashtags.answers import (
    HashtagCount,
    RecommendationsPublic,
    TrendingPublic,
    counted,
    normalized,
    recommendations_answer,
    trending_answer,
)
from core.hashtags.counts import HashtagCounts
from core.hashtags.reports import top_users
from core.platforms import UnknownPlatform, get, registry
from core.validation import SafeStr

router = APIRouter(tags=["hashtags"])

PlatformQuery = Annotated[SafeStr | None, Query(
    description="A platform's name (any case); absent: every platform", max_length=64)]


class Growth(BaseModel):
    hashtag: str
    count: int
    previous_count: int
    growth: int
    growth_rate: float | None


class GrowthPublic(BaseModel):
    hours: int
    platform: str | None
    hashtags: list[Growth]


class TopHashtagsPublic(BaseModel):
    platform: str | None
    hashtags: list[HashtagCount]


class UserPublic(BaseModel):
    platform: str
    profile_id: str
    post_count: int
    total_engagement: int
    avg_engagement_per_post: float


class TopUsersPublic(BaseModel):
    platform: str | None
    users: list[UserPublic]


def platform_name(settings: Settings, name: str | None) -> str | None:
    """The registered name of a `platform` query parameter (422 for an unknown one)."""
    if not name:
        return None
    try:
        return get(settings, name).name
    except UnknownPlatform as exc:
        raise invalid(["query", "platform"], str(exc)) from None


def _counts(request: Request) -> HashtagCounts:
    counts: HashtagCounts | None = request.app.state.hashtag_counts
    if counts is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                            detail="hashtag counts live in Redis: REDIS_URL is not set")
    return counts


def _unavailable(exc: RedisError) -> HTTPException:
    return HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                         detail=f"hashtag counts unavailable: {type(exc).__name__}")


@router.get("/hashtags/trending")
async def trending(request: Request, settings: SettingsDep,
                   window_minutes: Annotated[int, Query(ge=1, le=10_080)] = 60,
                   k: Annotated[int, Query(ge=1, le=1000)] = 10,
                   platform: PlatformQuery = None) -> TrendingPublic:
    """The k hashtags in most posts published in the last `window_minutes` minutes (the
    current minute included), by count then name; ties at the k-th place are cut by name."""
    name = platform_name(settings, platform)
    if window_minutes > settings.hashtags_minutes_kept:
        raise invalid(["query", "window_minutes"],
                      f"at most {settings.hashtags_minutes_kept} (HASHTAGS_MINUTES_KEPT)")
    try:
        ranked = await _counts(request).trending(window_minutes, k, name)
    except RedisError as exc:
        raise _unavailable(exc) from None
    return trending_answer(ranked, window_minutes, name)


@router.get("/hashtags/recommendations")
async def recommendations(request: Request,
                          target_hashtag: Annotated[SafeStr, Query(min_length=1,
                                                                   max_length=101)],
                          min_cooccurrence_rate: Annotated[float, Query(gt=0, le=1)] = 0.1,
                          limit: Annotated[int, Query(ge=1, le=1000)] = 20
                          ) -> RecommendationsPublic:
    """Hashtags used together with the target in at least `min_cooccurrence_rate` of the
    target's posts (all platforms, all time), by rate then name."""
    target = normalized(target_hashtag)
    try:
        posts, found = await _counts(request).cooccurring(target, min_cooccurrence_rate, limit)
    except RedisError as exc:
        raise _unavailable(exc) from None
    return recommendations_answer(target, posts, min_cooccurrence_rate, found)


@router.get("/reports/fastest-growing")
async def fastest_growing(request: Request, settings: SettingsDep,
                          hours: Annotated[int, Query(ge=1, le=4380)] = 24,
                          limit: Annotated[int, Query(ge=1, le=1000)] = 15,
                          platform: PlatformQuery = None) -> GrowthPublic:
    """Hashtags whose post count grew most from the `hours` hours before to the last `hours`
    hours (the current hour included); only those that grew."""
    name = platform_name(settings, platform)
    if 2 * hours > settings.hashtags_hours_kept:
        raise invalid(["query", "hours"],
                      f"at most {settings.hashtags_hours_kept // 2} (half of HASHTAGS_HOURS_KEPT)")
    try:
        ranked = await _counts(request).fastest_growing(hours, limit, name)
    except RedisError as exc:
        raise _unavailable(exc) from None
    return GrowthPublic(hours=hours, platform=name, hashtags=[
        Growth(hashtag=r.hashtag, count=r.count, previous_count=r.previous or 0,
               growth=r.count - (r.previous or 0),
               growth_rate=round((r.count - r.previous) / r.previous, 4) if r.previous
               else None) for r in ranked])


@router.get("/reports/top-hashtags")
async def top_hashtags(request: Request, settings: SettingsDep,
                       limit: Annotated[int, Query(ge=1, le=1000)] = 20,
                       platform: PlatformQuery = None) -> TopHashtagsPublic:
    """The hashtags in most stored posts, all time, by count then name."""
    name = platform_name(settings, platform)
    try:
        ranked = await _counts(request).top(limit, name)
    except RedisError as exc:
        raise _unavailable(exc) from None
    return TopHashtagsPublic(platform=name, hashtags=counted(ranked))


@router.get("/reports/top-users")
async def top_users_report(queue: QueueDep, settings: SettingsDep,
                           limit: Annotated[int, Query(ge=1, le=1000)] = 10,
                           platform: PlatformQuery = None) -> TopUsersPublic:
    """The profiles whose stored posts have the most engagement (likes, comments and the
    platform's other counts summed), with their post count and average per post."""
    name = platform_name(settings, platform)
    texts = {p.name: p.post_text for p in registry(settings).values()
             if p.post_text is not None and (name is None or p.name == name)}
    users = await top_users(queue.pool, texts, limit)
    return TopUsersPublic(platform=name, users=[
        UserPublic(platform=u.platform, profile_id=u.profile_id, post_count=u.post_count,
                   total_engagement=u.total_engagement, avg_engagement_per_post=u.average)
        for u in users])
