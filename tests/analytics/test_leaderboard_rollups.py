"""The leaderboard before its first refresh (the migration leaves it empty: the API says so,
the first refresh fills it), and the daily rollups it reads: a refresh re-reads only the days
since the previous pass (less the overlap), each day's row is its last snapshot, and the view
matches a direct SQL recount over the raw snapshots."""

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from core.analytics.leaderboards import NotComputed, refresh
from core.analytics.rollups import OVERLAP, first_day, roll_up
from core.config import Settings
from tests.analytics.test_leaderboards import RECOUNT

FIGURES = ("category", "language", "followers", "followers_before", "growth",
           "growth_before", "engagement_rate", "engagement_rate_before")
# Each profile's day rows as a recount over the raw snapshots gives them: the last of each day.
DAY_RECOUNT = """
SELECT DISTINCT ON (profile_id, (timestamp AT TIME ZONE 'UTC')::date)
       profile_id, (timestamp AT TIME ZONE 'UTC')::date AS day,
       (metrics ->> 'followers')::float8 AS followers
  FROM profile_log
 ORDER BY profile_id, (timestamp AT TIME ZONE 'UTC')::date, timestamp DESC
"""


async def view_rows(pool: asyncpg.Pool) -> dict[str, dict[str, Any]]:
    return {r["profile_id"]: {k: r[k] for k in FIGURES}
            for r in await pool.fetch(f"SELECT profile_id, {', '.join(FIGURES)}"
                                      " FROM leaderboard")}


async def recount(pool: asyncpg.Pool) -> dict[str, dict[str, Any]]:
    computed = await pool.fetchval("SELECT refreshed_at FROM leaderboard_refreshed")
    return {r["profile_id"]: {k: r[k] for k in FIGURES}
            for r in await pool.fetch(RECOUNT, computed)}


@pytest.fixture
async def snapshots(pool: asyncpg.Pool) -> datetime:
    """20 Instagram profiles with 3 snapshots a day (8 hours apart) for 16 days, and posts
    snapshotted twice a day in the last 12; rolled up from scratch."""
    await pool.execute("TRUNCATE profile_log, post_log, gpt_enrichment")
    now = datetime.now(UTC)
    profiles, posts = [], []
    for n in range(20):
        for hours in range(16 * 24, -1, -8):
            profiles.append(("INSTAGRAM", f"p{n}", {"followers": 5000 + n * 50 - hours * n},
                             {"handle": f"h{n}", "category": "food" if n % 2 else "art"},
                             now - timedelta(hours=hours)))
        for hours in range(12 * 24, -1, -12):
            posts.append(("INSTAGRAM", f"p{n}-{hours // 72}", f"p{n}",
                          {"likes": n * 3 + hours % 7, "comments": hours % 5},
                          now - timedelta(hours=hours)))
    await pool.executemany("INSERT INTO profile_log (platform, profile_id, metrics, dimensions,"
                           " timestamp) VALUES ($1, $2, $3, $4, $5)", profiles)
    await pool.executemany("INSERT INTO post_log (platform, post_id, profile_id, metrics,"
                           " timestamp) VALUES ($1, $2, $3, $4, $5)", posts)
    return now


async def test_the_board_says_it_is_not_computed_until_the_first_refresh(
        client: httpx.AsyncClient, pool: asyncpg.Pool, settings: Settings,
        snapshots: datetime) -> None:
    # As the migration leaves it: no data, no refresh time.
    await pool.execute("REFRESH MATERIALIZED VIEW leaderboard WITH NO DATA;"
                       " DELETE FROM leaderboard_refreshed")
    answer = await client.get("/leaderboards/INSTAGRAM")
    assert answer.status_code == 503 and answer.headers["retry-after"] == "60"
    assert "not been computed yet" in answer.json()["detail"]
    assert str(NotComputed()) == answer.json()["detail"]
    async with pool.acquire() as conn:  # a concurrent refresh cannot fill an empty view
        await refresh(conn, settings, rebuild=True)
    page = (await client.get("/leaderboards/INSTAGRAM")).json()
    assert page["computed_at"] is not None and len(page["items"]) == 20
    assert await view_rows(pool) == await recount(pool)


async def test_a_refresh_reads_again_only_the_days_since_the_last_pass(
        pool: asyncpg.Pool, settings: Settings, snapshots: datetime) -> None:
    async with pool.acquire() as conn:
        await refresh(conn, settings, rebuild=True)
    day_rows = {(r["profile_id"], r["day"]): r["followers"] for r in await pool.fetch(
        "SELECT profile_id, day, followers FROM profile_daily")}
    assert day_rows == {(r["profile_id"], r["day"]): r["followers"]
                        for r in await pool.fetch(DAY_RECOUNT)}
    assert await view_rows(pool) == await recount(pool)
    passed = await pool.fetchval("SELECT rolled_until FROM leaderboard_rollup")
    # New snapshots now (p0-p4 gain followers, p5 changes category), and a late one written
    # with a time at the end of the day 7 days ago (the last of that day: p9's followers 7
    # days before): before the overlap, so not read again until a rebuild.
    await pool.executemany(
        "INSERT INTO profile_log (platform, profile_id, metrics, dimensions) VALUES"
        " ('INSTAGRAM', $1, $2, $3)",
        [(f"p{n}", {"followers": 90000 + n}, {"handle": f"h{n}", "category": "food"})
         for n in range(6)])
    await pool.execute("INSERT INTO profile_log (platform, profile_id, metrics, timestamp)"
                       " VALUES ('INSTAGRAM', 'p9', '{\"followers\": 1}',"
                       " date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
                       " - interval '6 days 1 second')")
    async with pool.acquire() as conn:
        today = datetime.now(UTC).date()
        assert await roll_up(conn) == first_day(passed, today) >= (passed - OVERLAP).date()
        await refresh(conn, settings)
    shown, recounted = await view_rows(pool), await recount(pool)
    assert [shown[f"p{n}"]["followers"] for n in range(5)] == [90000 + n for n in range(5)]
    assert shown["p5"]["category"] == "food"
    assert {p: v for p, v in shown.items() if p != "p9"} == \
        {p: v for p, v in recounted.items() if p != "p9"}
    assert recounted["p9"]["followers_before"] == 1 != shown["p9"]["followers_before"]
    async with pool.acquire() as conn:
        await refresh(conn, settings, rebuild=True)
    assert (await view_rows(pool))["p9"]["followers_before"] == 1
    assert await view_rows(pool) == await recount(pool)
