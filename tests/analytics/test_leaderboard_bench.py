"""`beat bench leaderboard` on a small generated set: every profile reaches the view, both
refreshes and every read are timed, and the scratch database is gone afterwards."""

import asyncio

import asyncpg

from bench.leaderboard_bench import run_leaderboard_bench
from core import db
from core.config import Settings


async def scratch_exists(url: str) -> bool:
    conn = await asyncpg.connect(db.asyncpg_dsn(url))
    try:
        name = db.asyncpg_dsn(url).rpartition("/")[2] + "_bench"
        return bool(await conn.fetchval("SELECT count(*) FROM pg_database WHERE datname = $1",
                                        name))
    finally:
        await conn.close()


async def test_the_bench_line(settings: Settings) -> None:
    line = await asyncio.to_thread(run_leaderboard_bench, settings, 400, 15, 20)
    assert line["view_rows"] == 400 and line["snapshots"] == 400 * 15
    assert line["post_snapshots"] == 400 * 4 and line["platforms"] >= 2
    assert line["refresh_s"] > 0 and line["refresh_again_s"] > 0
    assert line["reads"] >= 20
    assert 0 < line["read_p50_ms"] <= line["read_p95_ms"] <= line["read_p99_ms"]
    assert line["timeseries_p95_ms"] > 0
    assert settings.database_url and not await scratch_exists(settings.database_url)
