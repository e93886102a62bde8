"""`beat bench leaderboard`: N profiles (spread over the registered platforms) with one
snapshot a day for D days and two posts each snapshotted in each of the last two weeks, made in
a scratch database oldest first; then the leaderboard refresh, timed three times (from empty:
every snapshot rolled up and the view filled; again; after a tenth of the profiles got a new
snapshot), and the latency of leaderboard pages and time series
read through the HTTP API in process (random boards, first pages and pages further on)."""

import asyncio
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
from pydantic import SecretStr

from bench.scratch import THROWAWAY_KEY, scratch_database
from core import db
from core.analytics.leaderboards import MEASURES, refresh, sync_platforms
from core.config import Settings
from core.partitions import keep_partitions

CATEGORIES = 20
LANGUAGES = 8
CHUNK = 50_000

PROFILES_SQL = """
INSERT INTO profile_log (platform, profile_id, metrics, dimensions, timestamp)
SELECT m.platform, 'p' || i,
       jsonb_build_object(m.followers_metric,
                          (i * 7919) % 1000000 + 100 + ($4::int - $7::int) * ((i * 31) % 200 - 20)
                          + (i * $7::int) % 13),
       jsonb_strip_nulls(jsonb_build_object(
           'handle', 'h' || i,
           'category', CASE WHEN i % 4 <> 0 THEN 'category' || i % $5 END,
           'language', CASE WHEN i % 5 > 1 THEN 'language' || i % $6 END)),
       now() - $7::int * interval '1 day' - (i % 1440) * interval '1 minute'
  FROM generate_series($1::bigint, $2::bigint) AS i
  JOIN (SELECT platform, followers_metric, row_number() OVER (ORDER BY platform) - 1 AS slot
          FROM leaderboard_platform) AS m ON m.slot = i % $3
"""
POSTS_SQL = """
INSERT INTO post_log (platform, post_id, profile_id, metrics, timestamp)
SELECT m.platform, 'p' || i || '-' || post, 'p' || i,
       jsonb_build_object('likes', (i * post * 17 + $4::int) % 5000,
                          'comments', (i + post + $4::int) % 300),
       now() - $4::int * interval '1 day'
  FROM generate_series($1::bigint, $2::bigint) AS i
  JOIN (SELECT platform, row_number() OVER (ORDER BY platform) - 1 AS slot
          FROM leaderboard_platform) AS m ON m.slot = i % $3
 CROSS JOIN generate_series(1, 2) AS post
"""
POST_AGES = (10, 2)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def generate(url: str, settings: Settings, profiles: int, days: int) -> dict[str, Any]:
    conn = await asyncpg.connect(db.asyncpg_dsn(url))
    try:
        await sync_platforms(conn, settings)
        platforms = await conn.fetchval("SELECT count(*) FROM leaderboard_platform")
        # The months the snapshots span, before they are written (none land in DEFAULT).
        await keep_partitions(conn, ahead=days // 28 + 2, retention_months=None,
                              today=(datetime.now(UTC) - timedelta(days=days)).date())
        started = time.perf_counter()
        # Oldest first, as snapshots arrive: a day's rows lie together on disk.
        for day in range(days - 1, -1, -1):
            for first in range(1, profiles + 1, CHUNK):
                last = min(profiles, first + CHUNK - 1)
                await conn.execute(PROFILES_SQL, first, last, platforms, days, CATEGORIES,
                                   LANGUAGES, day)
            for age in POST_AGES:
                if age == day:
                    for first in range(1, profiles + 1, CHUNK):
                        await conn.execute(POSTS_SQL, first, min(profiles, first + CHUNK - 1),
                                           platforms, age)
        await conn.execute("ANALYZE profile_log")
        await conn.execute("ANALYZE post_log")
        return {"platforms": platforms, "generate_s": time.perf_counter() - started,
                "snapshots": await conn.fetchval("SELECT count(*) FROM profile_log"),
                "post_snapshots": await conn.fetchval("SELECT count(*) FROM post_log")}
    finally:
        await conn.close()


async def time_refreshes(url: str, settings: Settings) -> dict[str, Any]:
    """From empty; again over the same snapshots; after a tenth of the profiles got a new
    snapshot (as an hour of refreshes brings), with the rank moves that follow."""
    conn = await asyncpg.connect(db.asyncpg_dsn(url))
    try:
        first = await refresh(conn, settings)
        again = await refresh(conn, settings)
        await conn.execute(
            "INSERT INTO profile_log (platform, profile_id, metrics, dimensions)"
            " SELECT DISTINCT ON (platform, profile_id) platform, profile_id,"
            " (SELECT jsonb_object_agg(key, value::bigint + 500) FROM jsonb_each_text(metrics)),"
            " dimensions FROM profile_log WHERE timestamp > now() - interval '1 day'"
            " AND substr(profile_id, 2)::bigint % 10 = 0 ORDER BY platform, profile_id")
        changed = await refresh(conn, settings)
        await conn.execute("ANALYZE leaderboard")
        return {"refresh_s": first, "refresh_again_s": again, "refresh_changed_s": changed,
                "view_rows": await conn.fetchval("SELECT count(*) FROM leaderboard")}
    finally:
        await conn.close()


def board_params(rng: random.Random, platforms: list[str]) -> tuple[str, dict[str, Any]]:
    params: dict[str, Any] = {"by": rng.choice(MEASURES), "limit": 50}
    if rng.random() < 0.5:
        params["category"] = f"category{rng.randrange(CATEGORIES)}"
    if rng.random() < 0.3:
        params["language"] = f"language{rng.randrange(LANGUAGES)}"
    return rng.choice([*platforms, "ALL"]), params


async def time_reads(client: httpx.AsyncClient, platforms: list[str], profiles: int,
                     reads: int) -> dict[str, Any]:
    rng = random.Random(5)
    pages: list[float] = []
    series: list[float] = []
    for _ in range(reads):
        platform, params = board_params(rng, platforms)
        started = time.perf_counter()
        response = await client.get(f"/leaderboards/{platform}", params=params)
        pages.append(time.perf_counter() - started)
        cursor = response.json()["next_cursor"]
        if cursor:  # the next page, as a client scrolling on reads it
            started = time.perf_counter()
            await client.get(f"/leaderboards/{platform}", params={**params, "cursor": cursor})
            pages.append(time.perf_counter() - started)
        number = rng.randrange(1, profiles + 1)
        started = time.perf_counter()
        answer = await client.get(f"/profiles/{platforms[number % len(platforms)]}/p{number}"
                                  "/timeseries", params={"interval": "day"})
        series.append(time.perf_counter() - started)
        assert answer.status_code == 200, answer.text
    return {"reads": len(pages), "read_p50_ms": 1000 * percentile(pages, 0.5),
            "read_p95_ms": 1000 * percentile(pages, 0.95),
            "read_p99_ms": 1000 * percentile(pages, 0.99),
            "timeseries_p95_ms": 1000 * percentile(series, 0.95)}


async def measure(url: str, settings: Settings, profiles: int, days: int,
                  reads: int) -> dict[str, Any]:
    from core.api.app import create_app

    tuned = settings.model_copy(update={
        "database_url": url, "beat_api_keys": [], "beat_admin_keys": [],
        "beat_secret_key": settings.beat_secret_key
        or SecretStr(THROWAWAY_KEY["BEAT_SECRET_KEY"])})
    line: dict[str, Any] = {"system": "beat", "profiles": profiles, "days": days}
    line |= await generate(url, tuned, profiles, days)
    line |= await time_refreshes(url, tuned)
    app = create_app(tuned)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://beat") as client:
            platforms = [r["platform"] for r in await app.state.queue.pool.fetch(
                "SELECT platform FROM leaderboard_platform ORDER BY platform")]
            line |= await time_reads(client, platforms, profiles, reads)
    return line


def run_leaderboard_bench(settings: Settings, profiles: int, days: int,
                          reads: int) -> dict[str, Any]:
    assert settings.database_url
    with scratch_database(settings.database_url) as url:
        return asyncio.run(measure(url, settings, profiles, days, reads))
