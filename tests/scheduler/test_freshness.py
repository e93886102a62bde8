"""A watchlist's freshness (`GET /watchlists/{name}/freshness`, `beat watch status`): the share
of items within their target age, weighted by importance and not, the oldest item, and what
keeping all of it fresh takes a day of each budget against what the budget allows."""

import json
from pathlib import Path

import asyncpg

from core.config import Settings
from tests.api.support import admin_client
from tests.scheduler.test_tick import QUOTA, SOURCE, watch
from tests.test_cli import beat, beat_env


async def test_freshness_answers_shares_the_oldest_item_and_the_budget_needed(
        pool: asyncpg.Pool, settings: Settings) -> None:
    limiter, _ = await watch(pool, settings)
    await limiter.aclose()
    async with admin_client(settings, credential_quotas={SOURCE: QUOTA}) as api:
        answer = await api.get("/watchlists/tick/freshness")
        missing = await api.get("/watchlists/nope/freshness")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    # 10 of 217 items fresh; weights: 215 videos x 1 and 2 channels x 5
    assert (body["items"], body["fresh"], body["never_refreshed"]) == (217, 10, 202)
    assert body["fresh_share"] == round(10 / 217, 4)
    assert body["fresh_share_weighted"] == round(10 / 225, 4)
    oldest = body["oldest"]
    assert (oldest["kind"], oldest["importance"], oldest["refreshed_at"]) == (
        "profile", 5.0, None)
    # once a day each: 215 videos in calls of 50 (4.3 units) and 2 channels (2 units), against
    # 10 units a day less the 20% reserve
    [need] = body["budgets"]
    assert (need["source"], need["unit"], need["needed_per_day"], need["available_per_day"],
            need["enough"]) == (SOURCE, "units", 7, 8, True)
    assert missing.status_code == 404


async def test_beat_watch_status_says_when_the_budget_is_short(
        pool: asyncpg.Pool, settings: Settings, tmp_path: Path) -> None:
    limiter, _ = await watch(pool, settings)
    await limiter.aclose()
    assert settings.database_url and settings.redis_url
    env = beat_env(DATABASE_URL=settings.database_url, REDIS_URL=settings.redis_url,
                   BEAT_HOME=str(tmp_path), RATE_LIMIT_PREFIX=settings.rate_limit_prefix,
                   CREDENTIAL_QUOTAS=json.dumps({SOURCE: "5/day"}))
    shown = beat("watch", "status", "tick", env=env)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == ("tick: 217 items, 10 within their target age (4.6%; weighted by "
                        "importance 4.4%), 202 never refreshed")
    assert lines[1].startswith("oldest: youtube profile UC") and "never refreshed" in lines[1]
    assert lines[3].split() == ["SOURCE", "BUDGET", "UNIT", "NEEDED/DAY", "AVAILABLE/DAY",
                                "ENOUGH"]
    assert lines[4].split()[-4:] == ["units", "7", "4", "NO"]
    assert lines[4].startswith(f"{SOURCE}  quota:{SOURCE}:1 credential")
    as_json = beat("watch", "status", "tick", "--json", env=env)
    assert json.loads(as_json.stdout)["budgets"][0]["enough"] is False
    missing = beat("watch", "status", "nope", env=env)
    assert missing.returncode == 2 and "no watchlist 'nope'" in missing.stderr
