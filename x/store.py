"""X storage: idempotent upserts of accounts and tweets (current state), with profile_log /
post_log snapshots and change events written by the same statements. A tweet's replies are
stored as `comments` and its retweets as `shares` (quotes apart), as the platform-neutral
records count them."""

import json
from pathlib import Path
from typing import Any, TypeAlias

import asyncpg

from core import sqlfile
from x import PROFILE_METRICS as ACCOUNT_METRICS
from x.models import Account, Tweet

SQL = Path(__file__).with_name("sql") / "store.sql"
# Stored column -> Tweet field.
POST_METRICS = {"likes": "likes", "comments": "replies", "shares": "retweets",
                "quotes": "quotes", "bookmarks": "bookmarks", "views": "views"}
Db: TypeAlias = asyncpg.Connection | asyncpg.Pool


def sql(name: str) -> str:
    return sqlfile.load(SQL)[name]


def _columns(rows: list[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows to the parallel arrays that unnest() takes."""
    return [list(column) for column in zip(*rows)] if rows else [[] for _ in range(width)]


def account_metrics(account: Account) -> dict[str, int]:
    return {n: v for n in ACCOUNT_METRICS if (v := getattr(account, n)) is not None}


def post_metrics(tweet: Tweet) -> dict[str, int]:
    return {column: v for column, name in POST_METRICS.items()
            if (v := getattr(tweet, name)) is not None}


def _sources(metrics: dict[str, int], source: str) -> str:
    return json.dumps({name: source for name in metrics})


async def save_accounts(db: Db, accounts: list[Account]) -> list[dict[str, Any]]:
    """Upsert accounts (one snapshot each); returns the stored rows."""
    unique = {a.user_id: a for a in accounts}
    accounts = [unique[key] for key in sorted(unique)]  # one lock order for every writer
    if not accounts:
        return []
    metrics = [account_metrics(a) for a in accounts]
    rows = await db.fetch(sql("upsert_accounts"), *_columns(
        [(a.user_id, a.handle, a.name, a.description, a.location, a.followers, a.following,
          a.tweets, a.listed, a.media_count, a.favourites, a.verified, a.blue_verified,
          a.protected, a.profile_image_url, a.created_at, a.source, json.dumps(m),
          _sources(m, a.source)) for a, m in zip(accounts, metrics)], 19))
    return [dict(r) for r in rows]


async def save_posts(db: Db, tweets: list[Tweet]) -> list[dict[str, Any]]:
    """Upsert tweets; those with metrics get a post_log snapshot. Returns the stored rows."""
    unique = {t.tweet_id: t for t in tweets}
    tweets = [unique[key] for key in sorted(unique)]
    if not tweets:
        return []
    metrics = [post_metrics(t) for t in tweets]
    rows = await db.fetch(sql("upsert_posts"), *_columns(
        [(t.tweet_id, t.user_id, t.handle, t.text, t.likes, t.replies, t.retweets, t.quotes,
          t.bookmarks, t.views, t.lang, t.quoted_tweet_id, t.has_video, t.created_at,
          t.source, _sources(m, t.source), json.dumps(m) if m else None, t.thumbnail_url)
         for t, m in zip(tweets, metrics)], 18))
    return [dict(r) for r in rows]


async def fetch_one(db: Db, query: str, *args: Any) -> dict[str, Any] | None:
    row = await db.fetchrow(sql(query), *args)
    return dict(row) if row else None
