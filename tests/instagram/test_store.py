"""Instagram storage on real PostgreSQL: idempotent upserts, snapshots, per-metric sources,
change events, and the listing tables (relationships, likers, hashtag and tagged posts)."""

from datetime import UTC, datetime

import asyncpg
import pytest

from instagram.models import GRAPH_API, RAPIDAPI, Account, Comment, Post, Profile
from instagram.store import (
    save_comments,
    save_likers,
    save_links,
    save_posts,
    save_profiles,
    save_relationships,
)

WHEN = datetime(2024, 5, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
async def empty(pool: asyncpg.Pool) -> None:
    await pool.execute("TRUNCATE instagram_account, instagram_post, instagram_comment, "
                       "instagram_relationship, instagram_post_liker, instagram_post_link, "
                       "profile_log, post_log, event_outbox")


def profile(**changes: object) -> Profile:
    fields: dict[str, object] = {"profile_id": "17841400000000001", "handle": "shop",
                                 "full_name": "A Shop", "followers": 1000, "following": 10,
                                 "media_count": 55, "source": GRAPH_API}
    return Profile.model_validate({**fields, **changes})


def post(**changes: object) -> Post:
    fields: dict[str, object] = {"post_id": "17900000000000001", "shortcode": "CvsXrH2JMvL",
                                 "profile_id": "17841400000000001", "post_type": "image",
                                 "caption": "hello #shop", "likes": 40, "comments": 3,
                                 "published_at": WHEN, "source": GRAPH_API}
    return Post.model_validate({**fields, **changes})


async def test_a_profile_saved_twice_is_one_row_two_snapshots_and_one_update_event(
        pool: asyncpg.Pool) -> None:
    [first] = await save_profiles(pool, [profile()])
    [again] = await save_profiles(pool, [profile(followers=1200)])
    assert first["created"] and not again["created"] and again["followers"] == 1200
    assert await pool.fetchval("SELECT count(*) FROM instagram_account") == 1
    snapshots = await pool.fetch("SELECT metrics, source FROM profile_log ORDER BY id")
    assert [s["metrics"]["followers"] for s in snapshots] == [1000, 1200]
    events = await pool.fetch("SELECT type, changes FROM event_outbox ORDER BY id")
    assert [e["type"] for e in events] == ["profile.instagram.created",
                                           "profile.instagram.updated"]
    assert events[1]["changes"] == {"followers": [1000, 1200]}


async def test_an_unchanged_profile_writes_no_event(pool: asyncpg.Pool) -> None:
    await save_profiles(pool, [profile()])
    await save_profiles(pool, [profile()])
    assert await pool.fetchval("SELECT count(*) FROM event_outbox") == 1


async def test_the_snapshot_names_the_category_the_leaderboards_narrow_to(
        pool: asyncpg.Pool) -> None:
    await save_profiles(pool, [profile(category="Musician/Band")])
    await save_profiles(pool, [profile(profile_id="17841400000000002", handle="plain")])
    dimensions = [r["dimensions"] for r in await pool.fetch(
        "SELECT dimensions FROM profile_log ORDER BY id")]
    assert dimensions == [{"handle": "shop", "full_name": "A Shop", "category": "Musician/Band"},
                          {"handle": "plain", "full_name": "A Shop"}]


async def test_a_profile_without_an_id_is_not_stored(pool: asyncpg.Pool) -> None:
    assert await save_profiles(pool, [profile(profile_id=None)]) == []
    assert await pool.fetchval("SELECT count(*) FROM instagram_account") == 0


async def test_a_metric_the_fallback_lacks_keeps_its_value_and_source(pool: asyncpg.Pool) -> None:
    await save_posts(pool, [post(reach=500)])
    await save_posts(pool, [post(likes=45, comments=None, reach=None, source=RAPIDAPI)])
    row = await pool.fetchrow("SELECT * FROM instagram_post")
    assert (row["likes"], row["comments"], row["reach"]) == (45, 3, 500)
    assert row["metric_sources"] == {"likes": RAPIDAPI, "comments": GRAPH_API,
                                     "reach": GRAPH_API}
    last = await pool.fetchrow("SELECT metrics, source FROM post_log ORDER BY id DESC LIMIT 1")
    assert last["metrics"] == {"likes": 45} and last["source"] == RAPIDAPI
    assert row["publish_time"] == WHEN


async def test_comments_likers_relationships_and_links_are_idempotent(
        pool: asyncpg.Pool) -> None:
    comment = Comment(comment_id="c1", text="nice", author_handle="fan", likes=2,
                      source=RAPIDAPI)
    fans = [Account(user_id=str(n), handle=f"fan{n}") for n in range(3)]
    for _ in range(2):
        await save_comments(pool, "17900000000000001", [comment])
        await save_likers(pool, "17900000000000001", fans, RAPIDAPI)
        await save_relationships(pool, "17841400000000001", "follower", fans, RAPIDAPI)
        await save_links(pool, "hashtag", "shop", [post()])
    counts = await pool.fetchrow(
        "SELECT (SELECT count(*) FROM instagram_comment) AS comments,"
        " (SELECT count(*) FROM instagram_post_liker) AS likers,"
        " (SELECT count(*) FROM instagram_relationship) AS relationships,"
        " (SELECT count(*) FROM instagram_post_link) AS links")
    assert dict(counts) == {"comments": 1, "likers": 3, "relationships": 3, "links": 1}
    assert await pool.fetchval("SELECT post_id FROM instagram_comment") == "17900000000000001"
    events = await pool.fetch("SELECT type FROM event_outbox WHERE type LIKE 'comment.%'")
    assert [e["type"] for e in events] == ["comment.instagram.created"]
