"""The GPT enrichment's answers narrow the leaderboards: Instagram accounts enriched through
the real flows (the sandbox's chat model, in process) get the category and language the model
named where their snapshots name none, and every board narrowed to one of them holds what a
direct SQL recount over the raw snapshots and stored answers gives."""

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest

from core.analytics.leaderboards import refresh
from core.config import Settings
from core.flows import TaskContext, load_flows
from enrichment import chat
from enrichment.flows import EnrichParams
from sandbox.app import create_sandbox_app
from tests.analytics.test_leaderboards import RECOUNT, expected_board, read_board
from tests.sandbox.helpers import client_for

ACCOUNTS = 30
# Accounts 0-5 carry a category and a language of their own in their snapshots: those stay.
OWN = range(6)
CATEG_LANG = "refresh_instagram_gpt_data_base_categ_lang_topics"
GENDER_LANG = "refresh_instagram_gpt_data_gender_location_lang"


@pytest.fixture
async def run_settings(settings: Settings, tmp_path: Path) -> AsyncIterator[Settings]:
    """Sandbox-mode settings whose chat calls reach an in-process sandbox."""
    own = settings.model_copy(update={
        "sandbox_url": "http://test", "redis_url": None, "platform_settings": {
            "enrichment": {"enrichment_prompt_dirs": [str(tmp_path)]}}})
    async with client_for(create_sandbox_app(seed=3)) as client:
        chat._directors.pop(id(own), None)
        chat.director(own, http_client=client)
        yield own
        chat._directors.pop(id(own), None)


async def enrich(pool: asyncpg.Pool, settings: Settings, flow: str, handle: str) -> None:
    ctx = TaskContext(task_id=1, flow=flow, attempt=1, pool=pool,
                      log=logging.getLogger("t"), settings=settings)
    await load_flows(settings)[flow].handler(EnrichParams(handle=handle), ctx)


@pytest.fixture
async def enriched(pool: asyncpg.Pool, run_settings: Settings) -> datetime:
    """30 stored Instagram accounts with 10 daily snapshots and posts; 24 enriched (category
    and languages), 8 of them answered again later by the gender/location/language prompt;
    the view refreshed. Returns when it was computed."""
    await pool.execute("TRUNCATE profile_log, post_log, gpt_enrichment, instagram_account,"
                       " instagram_post, instagram_comment")
    now = datetime.now(UTC)
    accounts, snapshots, posts = [], [], []
    for n in range(ACCOUNTS):
        profile_id, handle = f"1784{n:04d}", f"acct_{n}"
        accounts.append((profile_id, handle, f"Account {n}", f"Bio of account {n}: food, travel"))
        dimensions = {"handle": handle}
        if n in OWN:
            dimensions |= {"category": "Artist", "language": "xx"}
        for day in range(10, -1, -1):
            snapshots.append(("INSTAGRAM", profile_id, {"followers": 1000 + 37 * n - day * n},
                              dimensions, now - timedelta(days=day, hours=1)))
        posts.append(("INSTAGRAM", f"{profile_id}-1", profile_id,
                      {"likes": 10 * n, "comments": n}, now - timedelta(days=2)))
    await pool.executemany("INSERT INTO instagram_account (profile_id, handle, full_name,"
                           " biography, refreshed_at) VALUES ($1, $2, $3, $4, now())", accounts)
    await pool.executemany("INSERT INTO profile_log (platform, profile_id, metrics, dimensions,"
                           " timestamp) VALUES ($1, $2, $3, $4, $5)", snapshots)
    await pool.executemany("INSERT INTO post_log (platform, post_id, profile_id, metrics,"
                           " timestamp) VALUES ($1, $2, $3, $4, $5)", posts)
    for n in range(24):
        await enrich(pool, run_settings, CATEG_LANG, f"acct_{n}")
    for n in range(16, 24):
        await enrich(pool, run_settings, GENDER_LANG, f"acct_{n}")
    async with pool.acquire() as conn:
        await refresh(conn, run_settings, rebuild=True)
    computed: datetime = await pool.fetchval("SELECT refreshed_at FROM leaderboard_refreshed")
    return computed


async def test_enriched_categories_and_languages_narrow_the_boards(
        client: httpx.AsyncClient, pool: asyncpg.Pool, enriched: datetime) -> None:
    recounted = [dict(r) for r in await pool.fetch(RECOUNT, enriched)]
    assert len(recounted) == ACCOUNTS
    categories = {r["category"] for r in recounted} - {None, "Artist"}
    languages = {r["language"] for r in recounted} - {None, "xx"}
    assert len(categories) >= 3 and len(languages) >= 3, "the model named several"
    for by in ("followers", "engagement_rate", "growth"):
        for category in sorted(categories)[:3]:
            for platform in ("INSTAGRAM", None):
                expected = expected_board(recounted, platform, by, category, None)
                assert expected and await read_board(
                    client, platform or "ALL", by=by, category=category) == expected
        for language in sorted(languages):
            expected = expected_board(recounted, "INSTAGRAM", by, None, language)
            assert expected and await read_board(
                client, "INSTAGRAM", by=by, language=language) == expected


async def test_the_platforms_own_labels_win_and_unenriched_stay_unlabelled(
        client: httpx.AsyncClient, pool: asyncpg.Pool, enriched: datetime) -> None:
    page = (await client.get("/leaderboards/INSTAGRAM", params={"limit": 200})).json()
    shown = {i["profile_id"]: (i["category"], i["language"]) for i in page["items"]}
    assert all(shown[f"1784{n:04d}"] == ("Artist", "xx") for n in OWN)
    assert all(shown[f"1784{n:04d}"] == (None, None) for n in range(24, ACCOUNTS))
    # The later gender/location/language answer names the language of accounts 16-23.
    later = {r["profile_id"]: r["result"]["language"].lower() for r in await pool.fetch(
        "SELECT profile_id, result FROM gpt_enrichment WHERE aspect = 'gender_location_lang'")}
    assert len(later) == 8 and all(shown[p][1] == language for p, language in later.items())
    first = {r["profile_id"]: r["result"]["category"] for r in await pool.fetch(
        "SELECT profile_id, result FROM gpt_enrichment"
        " WHERE aspect = 'base_categ_lang_topics'")}
    assert all(shown[p][0] == category for p, category in first.items()
               if int(p[4:]) not in OWN)
