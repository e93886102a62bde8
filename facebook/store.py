"""Facebook storage: idempotent upserts of pages and posts (current state), with profile_log /
post_log snapshots and change events written by the same statements."""

import json
from pathlib import Path
from typing import Any, TypeAlias

import asyncpg

from core import sqlfile
from facebook import PROFILE_METRICS as PAGE_METRICS
from facebook.models import Page, Post

SQL = Path(__file__).with_name("sql") / "store.sql"
POST_METRICS = ("likes", "comments", "shares", "views")
Db: TypeAlias = asyncpg.Connection | asyncpg.Pool


def sql(name: str) -> str:
    return sqlfile.load(SQL)[name]


def _metrics(item: Page | Post, names: tuple[str, ...]) -> dict[str, int]:
    return {n: v for n in names if (v := getattr(item, n)) is not None}


def _sources(metrics: dict[str, Any], source: str) -> str:
    return json.dumps({name: source for name in metrics})


def _columns(rows: list[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows to the parallel arrays that unnest() takes."""
    return [list(column) for column in zip(*rows)] if rows else [[] for _ in range(width)]


async def save_pages(db: Db, pages: list[Page]) -> list[dict[str, Any]]:
    """Upsert pages (one snapshot each); returns the stored rows."""
    unique = {p.page_id: p for p in pages}
    pages = [unique[key] for key in sorted(unique)]  # one lock order for every writer
    if not pages:
        return []
    metrics = [_metrics(p, PAGE_METRICS) for p in pages]
    rows = await db.fetch(sql("upsert_pages"), *_columns(
        [(p.page_id, p.username, p.name, p.link, p.category, p.verification_status,
          p.fan_count, p.followers, p.talking_about, p.source, _sources(m, p.source),
          json.dumps({"username": p.username, "name": p.name}), json.dumps(m), p.picture_url)
         for p, m in zip(pages, metrics)], 14))
    return [dict(r) for r in rows]


async def save_posts(db: Db, posts: list[Post], asked: dict[str, str] | None = None
                     ) -> list[dict[str, Any]]:
    """Upsert posts, videos and reels; those with metrics get a post_log snapshot. `asked`
    maps a post id to the id it was asked by (kept as an alias for lookups)."""
    unique = {p.post_id: p for p in posts}
    posts = [unique[key] for key in sorted(unique)]
    if not posts:
        return []
    aliases = asked or {}
    metrics = [_metrics(p, POST_METRICS) for p in posts]
    rows = await db.fetch(sql("upsert_posts"), *_columns(
        [(p.post_id, p.post_type, p.page_id, p.author, p.message, p.title, p.permalink,
          p.likes, p.comments, p.shares, p.views, p.length_s, p.published_at, p.source,
          _sources(m, p.source), json.dumps(m) if m else None,
          aliases.get(p.post_id), p.thumbnail_url)
         for p, m in zip(posts, metrics)], 18))
    return [dict(r) for r in rows]


async def fetch_one(db: Db, query: str, *args: Any) -> dict[str, Any] | None:
    row = await db.fetchrow(sql(query), *args)
    return dict(row) if row else None
