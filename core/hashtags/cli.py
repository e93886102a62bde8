"""`beat trending` and `beat recommend`: the trending window and the co-occurrence
recommendations read straight from the Redis counts, as tables that fit 80 columns or, with
`--json`, the objects GET /hashtags/trending and /hashtags/recommendations answer."""

import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from redis.exceptions import RedisError

from core.cli_support import UserError, run_async, settings_with_database
from core.config import Settings
from core.console import columns
from core.hashtags.answers import (
    normalized,
    recommendations_answer,
    trending_answer,
)
from core.hashtags.counts import HashtagCounts
from core.platforms import UnknownPlatform, get, registry

T = TypeVar("T")
HASHTAG_WIDTH = 50  # longer hashtags are cut in tables (never in --json)

Json = Annotated[bool, typer.Option("--json", help="The HTTP API's answer, as one JSON line")]
Platform = Annotated[str | None, typer.Option(
    "--platform", help="Only this platform's posts (default: every platform)")]


def _read(job: Callable[[HashtagCounts, Settings], Awaitable[T]]) -> T:
    settings = settings_with_database()
    if not settings.redis_url:
        raise UserError("hashtag counts live in Redis: set REDIS_URL or start `beat up`")

    async def run() -> T:
        counts = HashtagCounts.from_settings(settings)
        try:
            return await job(counts, settings)
        except RedisError as exc:
            raise UserError(f"Redis unavailable: {type(exc).__name__}: {exc}") from None
        finally:
            await counts.aclose()

    return run_async(run)


def _platform(settings: Settings, name: str | None) -> str | None:
    try:
        return get(settings, name).name if name else None
    except UnknownPlatform as exc:
        raise UserError(str(exc)) from None


async def _rebuild(counts: HashtagCounts, settings: Settings) -> None:
    from core import db
    from core.hashtags.rebuild import rebuild

    assert settings.database_url
    await db.check_schema(settings.database_url)
    texts = {p.name: p.post_text for p in registry(settings).values() if p.post_text}
    pool = await db.create_pool(settings.database_url, max_size=len(texts) or 1)
    try:
        counted = await rebuild(pool, counts, texts)
    finally:
        await pool.close()
    print(f"recounted {counted:,} posts with hashtags", file=sys.stderr)


def _cut(hashtag: str) -> str:
    return "#" + (hashtag if len(hashtag) <= HASHTAG_WIDTH else hashtag[:HASHTAG_WIDTH - 1] + "…")


def trending_command(
        window: Annotated[int, typer.Option(min=1, max=10_080,
                                            help="Minutes back from now (this one included)")]
        = 60,
        k: Annotated[int, typer.Option(min=1, max=1000, help="How many hashtags")] = 10,
        platform: Platform = None, as_json: Json = False,
        rebuild: Annotated[bool, typer.Option(
            "--rebuild", help="First delete the counts and recount every stored post")] = False
        ) -> None:
    """The k hashtags in most posts published in the last WINDOW minutes."""

    async def job(counts: HashtagCounts, settings: Settings) -> str:
        name = _platform(settings, platform)
        if rebuild:
            await _rebuild(counts, settings)
        if window > settings.hashtags_minutes_kept:
            raise UserError(f"--window: at most {settings.hashtags_minutes_kept} minutes "
                            "(HASHTAGS_MINUTES_KEPT)")
        answer = trending_answer(await counts.trending(window, k, name), window, name)
        if as_json:
            return answer.model_dump_json()
        rows = [[str(n), _cut(h.hashtag), f"{h.count:,}"]
                for n, h in enumerate(answer.hashtags, 1)]
        scope = f"{name} posts" if name else "posts"
        return "\n".join([*columns(["#", "HASHTAG", "POSTS"], rows, left=2),
                          f"{len(rows)} hashtags in {scope} of the last {window} minutes"])

    print(_read(job))


def recommend_command(
        hashtag: Annotated[str, typer.Option("--hashtag", help="The target hashtag (# optional)")],
        min_rate: Annotated[float, typer.Option(
            "--min-rate", min=0.0, max=1.0,
            help="Least share of the target's posts that hold both (above 0)")] = 0.1,
        limit: Annotated[int, typer.Option(min=1, max=1000)] = 20,
        as_json: Json = False) -> None:
    """Hashtags used together with HASHTAG in at least MIN_RATE of its posts (all time)."""
    target = normalized(hashtag)
    if not target:
        raise UserError("--hashtag: give a hashtag")
    if min_rate <= 0:
        raise UserError("--min-rate: above 0 (at most 1)")

    async def job(counts: HashtagCounts, settings: Settings) -> str:
        posts, found = await counts.cooccurring(target, min_rate, limit)
        answer = recommendations_answer(target, posts, min_rate, found)
        if as_json:
            return answer.model_dump_json()
        rows = [[_cut(r.hashtag), f"{r.posts_with_both:,}", f"{r.cooccurrence_rate:.1%}"]
                for r in answer.recommendations]
        summary = (f"#{target}: {posts:,} posts, {len(rows)} hashtags in at least "
                   f"{min_rate:.0%} of them")
        return "\n".join([*columns(["HASHTAG", "WITH BOTH", "RATE"], rows), summary])

    print(_read(job))
