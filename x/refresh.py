"""Refreshing X data: each worker process's source chain and the operations the flows run
through it (fetch, store current state and snapshots, say which source answered).

Tweets: GraphQL first, then syndication. The seed's X engine counts engagement as likes +
retweets + replies, and only GraphQL carries retweets (and quotes, bookmarks, views);
syndication is keyless and cheap but answers likes and replies alone, so it is the fallback
when GraphQL is rate-limited, refused or not configured. Profiles: GraphQL alone (syndication
has none).
"""

from dataclasses import dataclass
from typing import Any

import asyncpg

from core.config import Settings
from core.flows import TaskContext
from core.ratelimit import process_limiter, source_limits
from core.sources import Director, Source, Sourced
from x.models import Account, Tweet
from x.sources.graphql import graphql_source
from x.sources.syndication import syndication_source
from x.store import save_accounts, save_posts


def build_sources(settings: Settings, pool: asyncpg.Pool) -> list[Source]:
    return [graphql_source(settings, pool), syndication_source(settings)]


@dataclass
class XService:
    director: Director


_services: dict[tuple[int, int], tuple[Settings, asyncpg.Pool, XService]] = {}


def service(settings: Settings, pool: asyncpg.Pool) -> XService:
    """One per process, settings and pool (sources keep guest tokens and circuit breakers)."""
    key = (id(settings), id(pool))
    if key not in _services:
        director = Director(build_sources(settings, pool), limiter=process_limiter(settings),
                            limits=source_limits(settings),
                            target_limit=settings.target_limit or None)
        _services[key] = (settings, pool, XService(director))
    return _services[key][2]


def director_of(ctx: TaskContext) -> Director:
    return service(ctx.settings, ctx.pool).director


async def refresh_tweet(director: Director, pool: asyncpg.Pool, tweet_id: str
                        ) -> tuple[dict[str, Any], Sourced[Tweet]]:
    got: Sourced[Tweet] = await director.fetch("tweet", target=tweet_id, tweet_id=tweet_id)
    [row] = await save_posts(pool, [got.value])
    return row, got


async def refresh_account(director: Director, pool: asyncpg.Pool, handle: str | None,
                          user_id: str | None) -> tuple[dict[str, Any], Sourced[Account]]:
    if user_id:
        got: Sourced[Account] = await director.fetch("profile_by_id", target=user_id,
                                                     user_id=user_id)
    else:
        assert handle is not None
        got = await director.fetch("profile_by_handle", target=handle.lower(), handle=handle)
    [row] = await save_accounts(pool, [got.value])
    return row, got
