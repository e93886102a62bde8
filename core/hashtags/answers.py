"""The answers about hashtag windows and co-occurrences, shared by the HTTP API and the
`beat trending` / `beat recommend` commands (their `--json` prints the same objects)."""

from pydantic import BaseModel

from core.hashtags.counts import Ranked


class HashtagCount(BaseModel):
    hashtag: str
    count: int


class TrendingPublic(BaseModel):
    hashtags: list[HashtagCount]
    window_minutes: int
    platform: str | None
    total_count: int


class Recommendation(BaseModel):
    hashtag: str
    posts_with_both: int
    cooccurrence_rate: float


class RecommendationsPublic(BaseModel):
    target_hashtag: str
    target_posts: int
    min_cooccurrence_rate: float
    recommendations: list[Recommendation]


def normalized(hashtag: str) -> str:
    """A hashtag as counted: without its `#`, lower-cased."""
    return hashtag.strip().removeprefix("#").lower()


def counted(ranked: list[Ranked]) -> list[HashtagCount]:
    return [HashtagCount(hashtag=r.hashtag, count=r.count) for r in ranked]


def trending_answer(ranked: list[Ranked], window_minutes: int,
                    platform: str | None) -> TrendingPublic:
    return TrendingPublic(hashtags=counted(ranked), window_minutes=window_minutes,
                          platform=platform, total_count=len(ranked))


def recommendations_answer(target: str, posts: int, min_rate: float,
                           found: list[tuple[str, int, float]]) -> RecommendationsPublic:
    return RecommendationsPublic(
        target_hashtag=target, target_posts=posts, min_cooccurrence_rate=min_rate,
        recommendations=[Recommendation(hashtag=h, posts_with_both=n, cooccurrence_rate=rate)
                         for h, n, rate in found])
