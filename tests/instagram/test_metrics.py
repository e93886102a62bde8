"""Instagram's derived metrics (instagram/metrics.py), each checked against numbers worked by
hand; unknown counts give None, never 0."""

from typing import Any

import pytest

from instagram.metrics import (
    Averages,
    averages,
    engagement_rate,
    post_reach,
    reels_reach,
    story_reach,
    without_outliers,
)
from instagram.models import Post, PostType


def post(number: int, post_type: PostType = "image", **counts: Any) -> Post:
    return Post(post_id=str(number), post_type=post_type, source="test", **counts)


def test_engagement_rate() -> None:
    assert engagement_rate(100, 20, 1000) == pytest.approx(12.0)  # 120 / 1000 × 100
    assert engagement_rate(1, 0, 3) == pytest.approx(33.333333)  # 1 / 3 × 100
    assert engagement_rate(0, 0, 500) == 0.0  # known zeros are zero
    assert engagement_rate(None, 20, 1000) is None
    assert engagement_rate(100, None, 1000) is None
    assert engagement_rate(100, 20, 0) is None
    assert engagement_rate(100, 20, None) is None


def test_reels_reach() -> None:
    assert reels_reach(10_000, 1024) == pytest.approx(9300.0)  # 10000 × (0.94 − 10 × 0.001)
    assert reels_reach(500, 1) == pytest.approx(470.0)  # log2(1) = 0: 500 × 0.94
    # 2**20 followers: 1000 × (0.94 − 20 × 0.001) = 920
    assert reels_reach(1000, 2**20) == pytest.approx(920.0)
    assert reels_reach(0, 1024) == 0.0
    assert reels_reach(None, 1024) is None
    assert reels_reach(10_000, 0) is None
    assert reels_reach(10_000, None) is None


def test_post_reach() -> None:
    assert post_reach(1000) == pytest.approx(4675.0)  # (7.6 − 3 × 0.7) × 0.85 × 1000
    assert post_reach(100) == pytest.approx(527.0)  # (7.6 − 2 × 0.7) × 0.85 × 100
    assert post_reach(1) == pytest.approx(6.46)  # log10(1) = 0: 7.6 × 0.85 × 1
    assert post_reach(0) == 0.0
    assert post_reach(None) is None


def test_story_reach() -> None:
    # −0.000025017 × 10000 + 1.11 × (10000 × log2(4) × 2 / 100) = −0.25017 + 444
    assert story_reach(10_000, 2.0) == pytest.approx(443.74983)
    # log2(0 + 2) = 1: −0.25017 + 1.11 × 200
    assert story_reach(10_000, 0.0) == pytest.approx(221.74983)
    # 1000 followers at 6%: −0.025017 + 1.11 × (1000 × log2(8) × 2 / 100) = −0.025017 + 66.6
    assert story_reach(1000, 6.0) == pytest.approx(66.574983)
    assert story_reach(None, 2.0) is None
    assert story_reach(10_000, None) is None


# Seven posts ranked by likes + comments: 10 (#1), 55 (#5), 110 (#3), 220 (#4), 330 (#7),
# 550 (#6), 1000 (#2). The two lowest (#1, #5) and the two highest (#6, #2) are dropped.
SEVEN = [
    post(1, likes=10, comments=0),
    post(2, "reels", likes=990, comments=10, plays=99_999),
    post(3, likes=100, comments=10),  # no reach: (7.6 − 2 × 0.7) × 0.85 × 100 = 527
    post(4, "reels", likes=200, comments=20, plays=10_000),  # no reach: 10000 × 0.93 = 9300
    post(5, likes=50, comments=5, reach=1),
    post(6, "carousel", likes=500, comments=50),
    post(7, "carousel", likes=300, comments=30, reach=2000),  # the source's reach
]


def test_averages_drop_two_outliers_at_each_end() -> None:
    assert [p.post_id for p in without_outliers(SEVEN)] == ["3", "4", "7"]
    result = averages(SEVEN, followers=1024)
    assert result.avg_likes == pytest.approx(200.0)  # (100 + 200 + 300) / 3
    assert result.avg_comments == pytest.approx(20.0)  # (10 + 20 + 30) / 3
    assert result.avg_reach == pytest.approx(3942.333333)  # (527 + 9300 + 2000) / 3
    # (110 + 220 + 330) / 1024 × 100 / 3: 10.7421875, 21.484375 and 32.2265625 averaged
    assert result.avg_engagement == pytest.approx(21.484375)
    assert result.avg_reels_plays == pytest.approx(10_000.0)  # #2's 99,999 plays were dropped


def test_four_posts_or_fewer_are_all_kept() -> None:
    four = [post(1, likes=10, comments=0), post(2, likes=30, comments=2),
            post(3, likes=1000, comments=100), post(4, likes=0, comments=0)]
    result = averages(four, followers=1000)
    assert result.avg_likes == pytest.approx(260.0)  # (10 + 30 + 1000 + 0) / 4
    assert result.avg_comments == pytest.approx(25.5)  # (0 + 2 + 100 + 0) / 4
    # 1.0%, 3.2%, 110.0% and 0.0%: 114.2 / 4
    assert result.avg_engagement == pytest.approx(28.55)
    assert result.avg_reels_plays is None  # no reels


def test_a_story_without_reach_is_estimated_from_the_average_engagement() -> None:
    # The image's engagement is (50 + 10) / 1000 × 100 = 6% (the story has no likes, so none):
    # the story's estimate is story_reach(1000, 6.0) = 66.574983.
    posts = [post(1, likes=50, comments=10, reach=400), post(2, "story")]
    result = averages(posts, followers=1000)
    assert result.avg_engagement == pytest.approx(6.0)
    assert result.avg_reach == pytest.approx(233.2874915)  # (400 + 66.574983) / 2


def test_unknown_counts_are_left_out_never_counted_as_zero() -> None:
    posts = [post(1, likes=100, comments=None), post(2, likes=None, comments=4),
             post(3, likes=300, comments=6), post(4, "video", views=2000)]
    result = averages(posts, followers=None)
    assert result.avg_likes == pytest.approx(200.0)  # (100 + 300) / 2
    assert result.avg_comments == pytest.approx(5.0)  # (4 + 6) / 2
    assert result.avg_engagement is None  # no followers to divide by
    # #1 (100 likes, its comments unknown) still has a reach: (7.6 − 1.4) × 0.85 × 100 = 527;
    # #3: log10(300) = 2.4771213, (7.6 − 1.7339849) × 0.85 × 300 = 1495.8339; #2 (likes
    # unknown) and the video (no followers) have none: (527 + 1495.8339) / 2
    assert result.avg_reach == pytest.approx(1011.4169, abs=1e-4)


def test_posts_that_cannot_be_ranked_stay_when_outliers_are_dropped() -> None:
    # Five ranked posts (totals 1, 2, 3, 4, 5) keep only the middle one; the post whose likes
    # are unknown cannot be ranked and stays.
    posts = [post(n, likes=n, comments=0) for n in range(1, 6)] + [post(9, comments=7)]
    assert [p.post_id for p in without_outliers(posts)] == ["3", "9"]
    result = averages(posts, followers=100)
    assert result.avg_likes == pytest.approx(3.0)
    assert result.avg_comments == pytest.approx(3.5)  # (0 + 7) / 2


def test_no_posts_average_to_nothing() -> None:
    assert averages([], followers=1000) == Averages(None, None, None, None, None)
