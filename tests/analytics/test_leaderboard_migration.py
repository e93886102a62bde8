"""Migration 0023 on a database already at 0020 with a computed leaderboard: the view is
replaced by an empty one reading the rollups (nothing computed while migrating), the board
says it is not computed, and the first refresh fills it; 0023 goes down again to 0020's view."""

import asyncio

import asyncpg
import httpx
from alembic import command

from core import db
from core.analytics.leaderboards import refresh
from core.config import Settings

POPULATED = "SELECT relispopulated FROM pg_class WHERE oid = 'leaderboard'::regclass"


async def test_an_upgrade_from_0020_empties_the_view_until_the_first_refresh(
        database_url: str, settings: Settings, pool: asyncpg.Pool,
        client: httpx.AsyncClient) -> None:
    config = db.alembic_config(database_url)
    await asyncio.to_thread(command.downgrade, config, "0020")
    assert not await pool.fetchval(POPULATED)  # 0020 no longer computes it while migrating
    await pool.execute("INSERT INTO profile_log (platform, profile_id, metrics)"
                       " VALUES ('INSTAGRAM', 'p1', '{\"followers\": 10}')")
    await pool.execute("INSERT INTO leaderboard_platform VALUES ('INSTAGRAM', 'followers');"
                       " REFRESH MATERIALIZED VIEW leaderboard;"
                       " INSERT INTO leaderboard_refreshed VALUES (now())")
    assert await pool.fetchval("SELECT count(*) FROM leaderboard") == 1  # as 0020 left it
    await asyncio.to_thread(command.upgrade, config, "head")
    assert not await pool.fetchval(POPULATED)
    assert (await client.get("/leaderboards/INSTAGRAM")).status_code == 503
    async with pool.acquire() as conn:
        await refresh(conn, settings)
    page = (await client.get("/leaderboards/INSTAGRAM")).json()
    assert [(i["profile_id"], i["followers"]) for i in page["items"]] == [("p1", 10)]
