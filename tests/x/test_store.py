"""X storage: upserts are idempotent (an unchanged tweet gives a snapshot and no event), a
metric the new answer lacks keeps its value and source, and changes become events with
[old, new]."""

from datetime import UTC, datetime
from typing import Any

import asyncpg

from x.models import Account, Tweet
from x.store import save_accounts, save_posts

TWEET = Tweet(tweet_id="77", user_id="5", handle="someone", text="hi", likes=10, replies=2,
              retweets=3, quotes=1, bookmarks=0, views=100,
              created_at=datetime(2024, 1, 2, tzinfo=UTC), source="x_graphql")


async def clean(pool: asyncpg.Pool) -> None:
    await pool.execute("TRUNCATE x_account, x_post, profile_log, post_log, event_outbox "
                       "RESTART IDENTITY")


async def events(pool: asyncpg.Pool, key: str) -> list[dict[str, Any]]:
    rows = await pool.fetch("SELECT type, changes FROM event_outbox WHERE entity_key = $1 "
                            "ORDER BY id", key)
    return [dict(r) for r in rows]


async def test_an_unchanged_tweet_is_a_snapshot_without_an_event(pool: asyncpg.Pool) -> None:
    await clean(pool)
    await save_posts(pool, [TWEET])
    await save_posts(pool, [TWEET])
    assert [e["type"] for e in await events(pool, "77")] == ["post.x.created"]
    assert await pool.fetchval("SELECT count(*) FROM post_log WHERE post_id = '77'") == 2


async def test_a_missing_metric_keeps_its_value_and_source(pool: asyncpg.Pool) -> None:
    await clean(pool)
    await save_posts(pool, [TWEET])
    keyless = TWEET.model_copy(update={"likes": 12, "retweets": None, "quotes": None,
                                       "bookmarks": None, "views": None,
                                       "source": "x_syndication"})
    [row] = await save_posts(pool, [keyless])
    assert (row["likes"], row["shares"], row["views"]) == (12, 3, 100)
    assert row["metric_sources"]["likes"] == "x_syndication"
    assert row["metric_sources"]["views"] == "x_graphql"
    [_, updated] = await events(pool, "77")
    assert updated["type"] == "post.x.updated" and updated["changes"]["likes"] == [10, 12]


async def test_accounts_are_keyed_by_user_id_across_handle_changes(pool: asyncpg.Pool) -> None:
    await clean(pool)
    account = Account(user_id="5", handle="someone", followers=10, source="x_graphql")
    await save_accounts(pool, [account])
    [row] = await save_accounts(pool, [account.model_copy(update={"handle": "renamed"})])
    assert row["handle"] == "renamed" and row["followers"] == 10
    assert await pool.fetchval("SELECT count(*) FROM x_account") == 1
    [_, updated] = await events(pool, "5")
    assert updated["changes"]["handle"] == ["someone", "renamed"]
