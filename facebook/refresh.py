"""Refreshing Facebook data: each worker process's Graph API source behind a director (rate
limits, circuit breaker), single-page, single-post and single-video lookups of concurrent tasks
folded into `?ids=` calls of up to 50, and the fetch-and-store operations the flows run."""

from dataclasses import dataclass
from typing import Any

import asyncpg

from core.batching import MicroBatcher
from core.config import Settings
from core.errors import NotFound
from core.ratelimit import process_limiter, source_limits
from core.sources import Director, Sourced
from facebook.models import Page, Post
from facebook.sources.graph_api import MAX_IDS, GraphApiSource
from facebook.store import fetch_one, save_pages, save_posts

Fetched = Sourced[Page | Post | Exception]


def object_fetcher(director: Director, capability: str) -> MicroBatcher[str, Fetched]:
    """Post (video, page) lookups by concurrent tasks, folded into one call of up to 50 ids;
    each caller gets its object or the permanent error of its own id."""

    async def fetch(ids: list[str]) -> list[Fetched]:
        got = await director.fetch(capability, ids=list(dict.fromkeys(ids)))
        return [Sourced(got.value[i], got.source) for i in ids]

    return MicroBatcher(fetch, max_size=MAX_IDS)


@dataclass
class FacebookService:
    director: Director
    posts: MicroBatcher[str, Fetched]
    videos: MicroBatcher[str, Fetched]
    pages: MicroBatcher[str, Fetched]


_services: dict[tuple[int, int], tuple[Settings, asyncpg.Pool, FacebookService]] = {}


def service(settings: Settings, pool: asyncpg.Pool) -> FacebookService:
    """One per process, settings and pool (the source keeps its circuit breaker)."""
    key = (id(settings), id(pool))
    if key not in _services:
        director = Director([GraphApiSource.from_settings(settings, pool)],
                            limiter=process_limiter(settings), limits=source_limits(settings),
                            target_limit=settings.target_limit or None)
        _services[key] = (settings, pool, FacebookService(
            director, object_fetcher(director, "posts"), object_fetcher(director, "videos"),
            object_fetcher(director, "pages")))
    return _services[key][2]


async def refresh_page(facebook: FacebookService, pool: asyncpg.Pool,
                       page: str) -> tuple[dict[str, Any], str]:
    """Fetch a page by user name or id, in a batch with other tasks' pages, and store it;
    (stored row, source)."""
    got = await facebook.pages.submit(page)
    if not isinstance(got.value, Page):
        raise got.value if isinstance(got.value, Exception) else \
            NotFound(f"{got.source}: {page} is not a page")
    [row] = await save_pages(pool, [got.value])
    return row, got.source


async def refresh_object(facebook: FacebookService, pool: asyncpg.Pool, ident: str,
                         video: bool) -> tuple[dict[str, Any], str]:
    """Fetch a post (or a video or reel) by id, in a batch with other tasks' ids, and store
    it under its own id with the id it was asked by as an alias; (stored row, source)."""
    got = await (facebook.videos if video else facebook.posts).submit(ident)
    if isinstance(got.value, Exception):
        raise got.value
    post = got.value
    assert isinstance(post, Post)
    [row] = await save_posts(pool, [post], {post.post_id: ident})
    return row, got.source


async def stored_post(pool: asyncpg.Pool, ident: str) -> dict[str, Any]:
    row = await fetch_one(pool, "post_by_post_id", ident)
    if row is None:
        raise NotFound(f"no stored Facebook post {ident}")
    return row
