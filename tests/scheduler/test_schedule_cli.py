"""`beat schedule --plan` shows what the next tick would enqueue and the budget it would leave,
enqueuing nothing; `beat schedule` runs that tick."""

import json
from pathlib import Path

import asyncpg

from core.config import Settings
from tests.scheduler.test_tick import QUOTA, SOURCE, scheduled, watch
from tests.test_cli import beat, beat_env


async def test_plan_prints_the_next_tick_and_enqueues_nothing(
        pool: asyncpg.Pool, settings: Settings, tmp_path: Path) -> None:
    limiter, _ = await watch(pool, settings)
    await limiter.aclose()
    assert settings.database_url and settings.redis_url
    env = beat_env(DATABASE_URL=settings.database_url, REDIS_URL=settings.redis_url,
                   BEAT_HOME=str(tmp_path), RATE_LIMIT_PREFIX=settings.rate_limit_prefix,
                   CREDENTIAL_QUOTAS=json.dumps({SOURCE: QUOTA}), SCHEDULER_INTERVAL="86400")
    shown = beat("schedule", "--plan", "--json", env=env)
    assert shown.returncode == 0, shown.stderr
    plan = json.loads(shown.stdout)
    [youtube] = plan["platforms"]
    assert (youtube["platform"], youtube["watched"], youtube["due"], youtube["items"],
            youtube["calls"], youtube["units"]) == ("youtube", 217, 207, 152, 5, 5)
    [budget] = plan["budgets"]
    [limit] = budget["limits"]
    assert (limit["remaining"], limit["reserve"], limit["planned"], limit["left_after"]) == (
        7, 2, 5, 2)
    table = beat("schedule", "--plan", env=env)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["PLATFORM", "WATCHED", "DUE", "IN", "FLIGHT", "BACKING", "OFF",
                                "REFRESH", "CALLS", "UNITS"]
    assert lines[1].split() == ["youtube", "217", "207", "0", "0", "152", "5", "5"]
    assert lines[-1] == "would enqueue 152 refreshes"
    assert await scheduled(pool) == []
    ran = beat("schedule", env=env)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines()[-1] == "enqueued 152 new of 152 refreshes"
    assert len(await scheduled(pool)) == 152
