"""Instagram storage: idempotent upserts of accounts, posts, comments, relationships, likers and
hashtag/tagged links (current state), with profile_log / post_log snapshots and change events
written by the same statements."""

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeAlias

import asyncpg

from core import sqlfile
from instagram import PROFILE_METRICS
from instagram.metrics import Averages
from instagram.models import Account, Comment, Insight, Post, Profile

SQL = Path(__file__).with_name("sql") / "store.sql"
POST_METRICS = ("likes", "comments", "plays", "views", "reach", "impressions", "shares", "saved")
Db: TypeAlias = asyncpg.Connection | asyncpg.Pool


def sql(name: str) -> str:
    return sqlfile.load(SQL)[name]


def _metrics(item: Profile | Post, names: tuple[str, ...]) -> dict[str, int]:
    return {n: v for n in names if (v := getattr(item, n)) is not None}


def _dimensions(profile: Profile) -> str:
    """The snapshot's dimensions; its category is what the leaderboards narrow to (none when
    the account shows none)."""
    found = {"handle": profile.handle, "full_name": profile.full_name}
    if profile.category:
        found["category"] = profile.category
    return json.dumps(found)


def _sources(metrics: dict[str, Any], source: str) -> str:
    return json.dumps({name: source for name in metrics})


def _columns(rows: list[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows to the parallel arrays that unnest() takes."""
    return [list(column) for column in zip(*rows)] if rows else [[] for _ in range(width)]


async def save_profiles(db: Db, profiles: list[Profile],
                        averages: Mapping[str, tuple[Averages, int]] | None = None
                        ) -> list[dict[str, Any]]:
    """Upsert accounts (one snapshot each), with the averages over `averages[profile_id]`'s
    posts (count) where given; a profile without an id cannot be keyed and is skipped.
    Returns the stored rows."""
    unique = {p.profile_id: p for p in profiles if p.profile_id}
    profiles = [unique[key] for key in sorted(unique)]  # one lock order for every writer
    if not profiles:
        return []
    metrics = [_metrics(p, PROFILE_METRICS) for p in profiles]
    given = averages or {}
    rows = await db.fetch(sql("upsert_accounts"), *_columns(
        [(p.profile_id, p.handle, p.full_name, p.biography, p.website, p.followers, p.following,
          p.media_count, p.profile_pic_url, p.profile_type, p.is_private, p.is_verified,
          p.is_business_or_creator, p.category, p.fbid, p.source, _sources(m, p.source),
          _dimensions(p), json.dumps(m), p.graph_id,
          *_averages(given.get(str(p.profile_id))))
         for p, m in zip(profiles, metrics)], 26))
    return [dict(r) for r in rows]


def _averages(found: tuple[Averages, int] | None) -> tuple[float | int | None, ...]:
    if found is None:
        return (None,) * 6
    summary, posts = found
    return (summary.avg_likes, summary.avg_comments, summary.avg_reach, summary.avg_engagement,
            summary.avg_reels_plays, posts)


async def save_posts(db: Db, posts: list[Post]) -> int:
    """Upsert posts; those with metrics get a post_log snapshot. One statement."""
    unique = {p.post_id: p for p in posts}
    posts = [unique[key] for key in sorted(unique)]  # one lock order for every writer
    if not posts:
        return 0
    metrics = [_metrics(p, POST_METRICS) for p in posts]
    await db.execute(sql("upsert_posts"), *_columns(
        [(p.post_id, p.shortcode, p.profile_id, p.handle, p.post_type, p.caption, p.permalink,
          p.thumbnail_url, p.display_url, p.likes, p.comments, p.plays, p.views, p.reach,
          p.impressions, p.shares, p.saved, p.children, p.published_at, p.expires_at, p.source,
          _sources(m, p.source), json.dumps(m) if m else None, p.graph_id)
         for p, m in zip(posts, metrics)], 24))
    return len(posts)


async def save_comments(db: Db, post_id: str, comments: list[Comment]) -> int:
    """Comments of the post `post_id` (Instagram's own id: a source may name the post by its
    own, the Graph API by its media id)."""
    comments = list({c.comment_id: c for c in comments}.values())
    if comments:
        await db.execute(sql("upsert_comments"), *_columns(
            [(c.comment_id, post_id, c.text, c.author_handle, c.author_id, c.likes,
              c.replies, c.published_at, c.source) for c in comments], 9))
    return len(comments)


def _accounts(accounts: list[Account], source: str) -> list[list[Any]]:
    unique = list({a.user_id: a for a in accounts}.values())
    return _columns([(a.user_id, a.handle, a.full_name, a.is_private, a.is_verified,
                      a.profile_pic_url, source) for a in unique], 7)


async def save_relationships(db: Db, profile_id: str, kind: str, accounts: list[Account],
                             source: str) -> int:
    """Followers (kind "follower") or followed accounts ("following") of `profile_id`."""
    if accounts:
        await db.execute(sql("upsert_relationships"), profile_id, kind,
                         *_accounts(accounts, source))
    return len(accounts)


async def save_likers(db: Db, post_id: str, accounts: list[Account], source: str) -> int:
    if accounts:
        columns = _accounts(accounts, source)
        del columns[5]  # no profile picture kept for likers
        await db.execute(sql("upsert_likers"), post_id, *columns)
    return len(accounts)


async def save_links(db: Db, kind: str, key: str, posts: list[Post]) -> int:
    """Posts seen under a hashtag (kind "hashtag") or tagging an account ("tagged")."""
    unique = list({p.post_id: p for p in posts}.values())
    if unique:
        await db.execute(sql("upsert_links"), kind, key, [p.post_id for p in unique],
                         [p.source for p in unique])
    return len(unique)


def insights_json(insights: list[Insight]) -> str:
    """Insights as stored: {name: {"value", "period", "breakdowns"}}."""
    return json.dumps({i.name: {"value": i.value, "period": i.period,
                                "breakdowns": i.breakdowns} for i in insights})


async def fetch_one(db: Db, query: str, *args: Any) -> dict[str, Any] | None:
    row = await db.fetchrow(sql(query), *args)
    return dict(row) if row else None
