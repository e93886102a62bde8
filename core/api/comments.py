"""Comment threads: depth per post and viral reply chains, over every platform whose comments
have replies (core/threads.py)."""

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from core.api.deps import QueueDep, SettingsDep
from core.api.hashtags import PlatformQuery, platform_name
from core.config import Settings
from core.platforms import registry
from core.posttext import CommentThreads
from core.threads import depth_analysis, viral_chains
from core.validation import SafeStr

router = APIRouter(tags=["comments"])

PostQuery = Annotated[SafeStr | None, Query(description="One post's id", max_length=256)]
Limit = Annotated[int, Query(ge=1, le=1000)]


class PostDepthsPublic(BaseModel):
    platform: str
    post_id: str
    comments: int
    max_depth: int
    comments_per_depth: list[int]


class DepthAnalysisPublic(BaseModel):
    platforms: list[str]
    posts: list[PostDepthsPublic]


class ChainPublic(BaseModel):
    platform: str
    post_id: str
    depth: int
    engagement: int
    comment_ids: list[str]


class ViralChainsPublic(BaseModel):
    min_depth: int
    min_engagement: int
    chains: list[ChainPublic]


def _threads(settings: Settings, platform: str | None) -> dict[str, CommentThreads]:
    name = platform_name(settings, platform)
    return {p.name: p.comment_threads for p in registry(settings).values()
            if p.comment_threads is not None and (name is None or p.name == name)}


@router.get("/comments/depth-analysis")
async def depth_analysis_endpoint(queue: QueueDep, settings: SettingsDep,
                                  platform: PlatformQuery = None, post_id: PostQuery = None,
                                  limit: Limit = 50) -> DepthAnalysisPublic:
    """Per post, how many stored comments sit at each depth (0: top-level, 1: a reply, ...),
    deepest threads first; platforms whose comments have replies (YouTube)."""
    threads = _threads(settings, platform)
    found = await depth_analysis(queue.pool, threads, post_id, limit)
    return DepthAnalysisPublic(platforms=sorted(threads), posts=[
        PostDepthsPublic(platform=d.platform, post_id=d.post_id, comments=d.comments,
                         max_depth=d.max_depth, comments_per_depth=d.per_depth)
        for d in found])


@router.get("/comments/viral-chains")
async def viral_chains_endpoint(queue: QueueDep, settings: SettingsDep,
                                min_depth: Annotated[int, Query(ge=0, le=1000)] = 3,
                                min_engagement: Annotated[int, Query(ge=0)] = 50,
                                platform: PlatformQuery = None, post_id: PostQuery = None,
                                limit: Limit = 50) -> ViralChainsPublic:
    """Reply chains from a top-level comment down to a comment without replies, at least
    `min_depth` replies deep, whose comments' likes add up to `min_engagement`; most liked
    first (a recursive query)."""
    found = await viral_chains(queue.pool, _threads(settings, platform), post_id, min_depth,
                               min_engagement, limit)
    return ViralChainsPublic(min_depth=min_depth, min_engagement=min_engagement, chains=[
        ChainPublic(platform=c.platform, post_id=c.post_id, depth=c.depth,
                    engagement=c.engagement, comment_ids=c.path) for c in found])
