"""Refreshing Instagram data: each worker process's source chain (the Graph API, then the
RapidAPI-style provider, then the web JSON) and the operations the flows run through it —
fetch, store current state and snapshots, compute the account's averages, walk paginated
listings from a checkpoint so that a killed worker's successor resumes where it stopped."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg

from core.batching import MicroBatcher
from core.config import Settings
from core.errors import AllSourcesFailed, NotFound
from core.flows import TaskContext
from core.ratelimit import process_limiter, source_limits
from core.sources import Director, Source, Sourced
from instagram import metrics
from instagram.models import Page, Post, Profile, ProfileWithPosts
from instagram.sources.errors import Private
from instagram.store import fetch_one, save_posts, save_profiles

StorePage = Callable[[list[Any], str], Awaitable[int]]  # (items, source) -> stored


def build_sources(settings: Settings, pool: asyncpg.Pool) -> list[Source]:
    """Best first: the Graph API (tokens from the credential table), the RapidAPI-style
    provider (keys from the credential table), the keyless web JSON."""
    from instagram.sources.graph_api.source import GraphApiSource
    from instagram.sources.rapidapi import rapidapi_source
    from instagram.sources.web import web_source

    return [GraphApiSource.from_settings(settings, pool), rapidapi_source(settings, pool),
            web_source(settings)]


@dataclass(frozen=True, slots=True)
class ProfileWrite:
    """One refreshed account to store: its posts, and the averages over them when the
    refresh computed them (their post count beside)."""

    profile: Profile
    posts: list[Post]
    averages: tuple[metrics.Averages, int] | None


def profile_writer(pool: asyncpg.Pool) -> MicroBatcher[ProfileWrite, dict[str, Any]]:
    """Accounts refreshed by concurrent tasks, written together: one upsert of the accounts
    (averages included) and one of all their posts, in one transaction."""

    async def write(items: list[ProfileWrite]) -> list[dict[str, Any]]:
        latest = {str(i.profile.profile_id): i for i in items}
        averages = {key: i.averages for key, i in latest.items() if i.averages is not None}
        async with pool.acquire() as conn, conn.transaction():
            rows = await save_profiles(conn, [i.profile for i in latest.values()], averages)
            await save_posts(conn, [p for i in latest.values() for p in i.posts])
        by_id = {row["profile_id"]: row for row in rows}
        return [by_id[str(i.profile.profile_id)] for i in items]

    return MicroBatcher(write, max_size=200, settle=True)


@dataclass
class InstagramService:
    director: Director
    profiles: MicroBatcher[ProfileWrite, dict[str, Any]]


_services: dict[tuple[int, int], tuple[Settings, asyncpg.Pool, InstagramService]] = {}


def service(settings: Settings, pool: asyncpg.Pool) -> InstagramService:
    """One per process, settings and pool (sources keep circuit breakers and usage)."""
    key = (id(settings), id(pool))
    if key not in _services:
        director = Director(build_sources(settings, pool), limiter=process_limiter(settings),
                            limits=source_limits(settings),
                            target_limit=settings.target_limit or None)
        _services[key] = (settings, pool, InstagramService(director, profile_writer(pool)))
    return _services[key][2]


def instagram_of(ctx: TaskContext) -> InstagramService:
    return service(ctx.settings, ctx.pool)


def director_of(ctx: TaskContext) -> Director:
    return instagram_of(ctx).director


async def refresh_profile(instagram: InstagramService, handle: str, posts: int
                          ) -> tuple[dict[str, Any], Sourced[ProfileWithPosts]]:
    """Fetch a profile with its `posts` most recent posts (one call where the source allows),
    store both with the averages over those posts; returns the stored account row."""
    got = await instagram.director.fetch("profile_by_handle", target=handle.lower(),
                                         handle=handle, posts=posts)
    found = got.value
    if found.profile.profile_id is None:
        raise NotFound(f"{got.source} gave no id for Instagram account {handle}")
    profile = found.profile
    owned = owned_by(profile, found.posts)
    summary = None
    if posts and not profile.is_private:
        summary = (metrics.averages(owned, profile.followers), len(owned))
    row = await instagram.profiles.submit(ProfileWrite(profile, owned, summary))
    if posts and profile.is_private:
        raise Private(f"Instagram account {profile.handle} is private: its posts cannot be "
                      f"read (profile stored from {got.source})")
    return row, Sourced(found.model_copy(update={"posts": owned}), got.source)


def owned_by(profile: Profile, posts: list[Post]) -> list[Post]:
    """The account's posts keyed to it by Instagram's own id (a source may name the owner by
    another id, or not at all)."""
    return [p.model_copy(update={"profile_id": profile.profile_id,
                                 "handle": p.handle or profile.handle}) for p in posts]


async def refresh_recent_posts(instagram: InstagramService, profile: Profile,
                               count: int) -> tuple[dict[str, Any], int]:
    """The account's `count` most recent posts stored, with the averages over them."""
    got = await instagram.director.fetch("posts_of_profile", handle=profile.handle,
                                         profile_id=profile.profile_id,
                                         graph_id=profile.graph_id, cursor=None)
    posts = owned_by(profile, got.value.items[:count])
    summary = (metrics.averages(posts, profile.followers), len(posts))
    row = await instagram.profiles.submit(ProfileWrite(profile, posts, summary))
    return row, len(posts)


async def stored_profile(instagram: InstagramService, pool: asyncpg.Pool,
                         handle: str | None, profile_id: str | None) -> dict[str, Any]:
    """The account row for a handle or id, fetching the profile (no posts) when not stored."""
    row = None
    if profile_id:
        row = await fetch_one(pool, "account_by_profile_id", profile_id)
    if row is None and handle:
        row = await fetch_one(pool, "account_by_handle", handle)
    if row is not None:
        return row
    if handle:
        return (await refresh_profile(instagram, handle, 0))[0]
    got = await instagram.director.fetch("profile_by_id", target=profile_id,
                                         profile_id=profile_id)
    async with pool.acquire() as conn:
        stored = await save_profiles(conn, [got.value])
    if not stored:
        raise NotFound(f"no Instagram account {profile_id}")
    return stored[0]


async def stored_post(director: Director, pool: asyncpg.Pool, shortcode: str | None,
                      post_id: str | None) -> dict[str, Any]:
    """The post row for a shortcode or media id, fetching the post when not stored."""
    row = await fetch_one(pool, "post_by_post_id", post_id) if post_id else None
    if row is None and shortcode:
        row = await fetch_one(pool, "post_by_shortcode", shortcode)
    if row is not None:
        return row
    if shortcode:
        got = await director.fetch("post_by_shortcode", shortcode=shortcode)
    else:
        got = await director.fetch("post_by_id", post_id=post_id)
    await save_posts(pool, [got.value])
    row = await fetch_one(pool, "post_by_post_id", got.value.post_id)
    if row is None:
        raise NotFound(f"Instagram post {shortcode or post_id} could not be stored")
    return row


async def walk_pages(ctx: TaskContext, capability: str, params: dict[str, Any], limit: int,
                     store: StorePage, unit: str) -> dict[str, Any]:
    """Fetch a paginated listing up to `limit` items, storing each page before asking for the
    next and saving the cursor after it (ctx.checkpoint): a run that is killed resumes at the
    page after the last one stored. Cursors belong to the source that gave them: a later page
    is asked of that source alone, and when it cannot answer while another source could, the
    listing starts over with the chain."""
    director = director_of(ctx)
    state = ctx.checkpoint.state or {}
    cursor, source, done = state.get("cursor"), state.get("source"), int(state.get("done", 0))
    pages = 0
    while done < limit:
        try:
            got: Sourced[Page[Any]] = await _next_page(director, capability, params, cursor,
                                                       source)
        except SourceGone as exc:
            ctx.log.info("%s: %s, listing again from the start", capability, exc)
            cursor, source, done = None, None, 0
            continue
        source = got.source
        items = got.value.items[:limit - done]
        done += await store(items, got.source)
        pages += 1
        cursor = got.value.next_cursor
        await ctx.checkpoint.save({"cursor": cursor, "source": source, "done": done})
        await ctx.progress.update(done, min(limit, got.value.total or limit), unit)
        if not cursor or not got.value.items:
            break
    return {unit: done, "pages": pages, "source": source, "complete": not cursor}


class SourceGone(Exception):
    """The source of a cursor cannot go on with the listing, and another source could."""


async def _next_page(director: Director, capability: str, params: dict[str, Any],
                     cursor: str | None, source: str | None) -> Sourced[Page[Any]]:
    """The first page from the chain; a later one from the source of its cursor (a cursor
    means nothing to another source). SourceGone when that source is not in the chain or
    fails where another one could list; otherwise its failure is the task's (a retry resumes
    from the same cursor)."""
    if cursor is None:
        return await director.fetch(capability, cursor=None, **params)
    listers = director.for_capability(capability)
    own = [s for s in listers if s.name == source]
    if not own:
        raise SourceGone(f"no source {source} to go on from the checkpoint's cursor")
    alone = Director(own, breaker=director.breaker, limiter=director.limiter,
                     limits=director.limits, max_wait_s=director.max_wait_s)
    try:
        return await alone.fetch(capability, cursor=cursor, **params)
    except AllSourcesFailed as exc:
        if len(listers) == 1:
            raise
        raise SourceGone(f"{source} cannot go on from its cursor ({exc})") from exc
