"""Instagram's derived metrics: engagement rate, the reach estimates for reels, feed posts and
stories (empirical formulas carried over from the system Beat replaces), and a profile's averages
over its recent posts.

Missing is never 0: a count the source did not give makes the figure that needs it None, and an
average is taken over the posts whose value is known (None when no post has one).
"""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from statistics import fmean

from instagram.models import Post

OUTLIERS = 2  # dropped at each end (by likes + comments) when more than 2 * OUTLIERS posts
_VIDEO_TYPES = frozenset({"reels", "video"})


def engagement_rate(likes: int | None, comments: int | None,
                    followers: int | None) -> float | None:
    """(likes + comments) / followers × 100, in percent: 100 likes and 20 comments with 1,000
    followers are 12.0. None when a count is unknown or there are no followers to divide by."""
    if likes is None or comments is None or not followers or followers < 0:
        return None
    return (likes + comments) / followers * 100


def reels_reach(plays: int | None, followers: int | None) -> float | None:
    """Estimated accounts reached by a reel: plays × (0.94 − log2(followers) × 0.001); 10,000
    plays with 1,024 followers are 10,000 × 0.93 = 9,300. None without plays or followers."""
    if plays is None or not followers or followers < 0:
        return None
    return plays * (0.94 - math.log2(followers) * 0.001)


def post_reach(likes: int | None) -> float | None:
    """Estimated accounts reached by a feed post: (7.6 − log10(likes) × 0.7) × 0.85 × likes;
    1,000 likes are (7.6 − 2.1) × 0.85 × 1,000 = 4,675, no likes 0. None when likes are
    unknown."""
    if likes is None or likes < 0:
        return None
    if likes == 0:
        return 0.0
    return (7.6 - math.log10(likes) * 0.7) * 0.85 * likes


def story_reach(followers: int | None, avg_engagement: float | None) -> float | None:
    """Estimated accounts reached by a story: −0.000025017 × followers + 1.11 × (followers ×
    |log2(avg_engagement + 2)| × 2 / 100), avg_engagement in percent; 10,000 followers at 2%
    are −0.25017 + 1.11 × 400 = 443.74983. None when either is unknown."""
    if followers is None or avg_engagement is None or avg_engagement + 2 <= 0:
        return None
    spread = followers * abs(math.log2(avg_engagement + 2)) * 2 / 100
    return -0.000025017 * followers + 1.11 * spread


@dataclass(frozen=True, slots=True)
class Averages:
    """A profile's averages over its recent posts (outliers dropped); None where no post
    carries the value."""

    avg_likes: float | None
    avg_comments: float | None
    avg_reach: float | None
    avg_engagement: float | None  # percent: the mean of each post's engagement rate
    avg_reels_plays: float | None  # reels only


def averages(posts: Sequence[Post], followers: int | None) -> Averages:
    """Averages over `posts` once the OUTLIERS highest and lowest by likes + comments are
    dropped. Each post's reach is the source's figure, else the estimate for its type (reels
    and videos from plays, stories from followers and the average engagement, other posts
    from likes)."""
    kept = without_outliers(posts)
    engagement = _mean(kept, lambda p: engagement_rate(p.likes, p.comments, followers))
    return Averages(
        avg_likes=_mean(kept, lambda p: p.likes),
        avg_comments=_mean(kept, lambda p: p.comments),
        avg_reach=_mean(kept, lambda p: reach(p, followers, engagement)),
        avg_engagement=engagement,
        avg_reels_plays=_mean([p for p in kept if p.post_type == "reels"], lambda p: p.plays),
    )


def without_outliers(posts: Sequence[Post]) -> list[Post]:
    """The posts without the OUTLIERS highest and lowest by likes + comments, when more than
    2 × OUTLIERS posts have both counts; posts missing a count cannot be ranked and stay."""
    ranked = [p for p in posts if p.likes is not None and p.comments is not None]
    if len(ranked) <= 2 * OUTLIERS:
        return list(posts)
    ranked.sort(key=lambda p: (p.likes or 0) + (p.comments or 0))
    dropped = {id(p) for p in ranked[:OUTLIERS] + ranked[-OUTLIERS:]}
    return [p for p in posts if id(p) not in dropped]


def reach(post: Post, followers: int | None, avg_engagement: float | None) -> float | None:
    """The post's reach as its source gave it, else the estimate for its type."""
    if post.reach is not None:
        return float(post.reach)
    if post.post_type in _VIDEO_TYPES:
        return reels_reach(post.plays if post.plays is not None else post.views, followers)
    if post.post_type == "story":
        return story_reach(followers, avg_engagement)
    return post_reach(post.likes)


def _mean(posts: Sequence[Post], value: Callable[[Post], float | int | None]) -> float | None:
    known = [v for v in map(value, posts) if v is not None]
    return fmean(known) if known else None
