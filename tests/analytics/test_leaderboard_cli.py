"""`beat leaderboard` run as a user runs it: the GET /leaderboards answer as JSON, or as a
table that fits 80 columns, page after page; a wrong option is one line."""

import json
import subprocess
from datetime import datetime
from typing import Any

import asyncpg
import httpx
import pytest

from tests.analytics.test_leaderboards import generated
from tests.test_cli import beat, beat_env

__all__ = ["generated"]


@pytest.fixture(scope="module")
def env(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return beat_env(DATABASE_URL=database_url, BEAT_HOME=str(tmp_path_factory.mktemp("home")))


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return beat("leaderboard", *args, env=env)


async def test_json_pages_are_the_http_answer(env: dict[str, str], client: httpx.AsyncClient,
                                              generated: datetime) -> None:
    params: dict[str, Any] = {"by": "growth", "language": "hi", "limit": 15}
    cursor = None
    for _ in range(3):
        args = ["--by", "growth", "--language", "hi", "--limit", "15", "--json"]
        done = run(env, "ALL", *args, *(["--cursor", cursor] if cursor else []))
        assert done.returncode == 0, done.stderr
        answer = json.loads(done.stdout)
        over_http = (await client.get("/leaderboards/ALL", params={
            **params, **({"cursor": cursor} if cursor else {})})).json()
        assert answer == over_http and len(answer["items"]) == 15
        cursor = answer["next_cursor"]


async def test_the_table_fits_80_columns(env: dict[str, str], client: httpx.AsyncClient,
                                         generated: datetime) -> None:
    done = run(env, "all", "--by", "engagement_rate", "--limit", "200")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "ALL by engagement_rate" and max(len(line) for line in lines) <= 80
    over_http = (await client.get("/leaderboards/ALL", params={
        "by": "engagement_rate", "limit": 200})).json()
    rows = lines[3:3 + len(over_http["items"])]
    assert [row.split()[:3] for row in rows] == [
        [f"{i['rank']:,}", i["handle"], i["platform"]] for i in over_http["items"]]


async def test_a_refresh_then_a_wrong_measure(env: dict[str, str], pool: asyncpg.Pool,
                                              generated: datetime) -> None:
    await pool.execute("INSERT INTO profile_log (platform, profile_id, metrics, dimensions)"
                       " VALUES ('YOUTUBE', 'UCnew', '{\"subscribers\": 9000000}',"
                       " '{\"handle\": \"newcomer\"}')")
    done = run(env, "YOUTUBE", "--refresh", "--limit", "3")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[3].split()[:3] == ["1", "newcomer", "new"] and len(lines) == 7
    assert lines[6].startswith("more: --cursor ")
    wrong = run(env, "YOUTUBE", "--by", "likes")
    assert wrong.returncode == 2 and "followers, engagement_rate or growth" not in wrong.stderr
    assert "one of followers, engagement_rate, growth" in wrong.stderr


async def test_before_the_first_refresh_it_says_so(env: dict[str, str], pool: asyncpg.Pool,
                                                   generated: datetime) -> None:
    await pool.execute("REFRESH MATERIALIZED VIEW leaderboard WITH NO DATA;"
                       " DELETE FROM leaderboard_refreshed")  # as the migration leaves it
    done = run(env, "ALL")
    assert done.returncode == 2 and "not been computed yet" in done.stderr
    assert "beat leaderboard --refresh" in done.stderr and "Traceback" not in done.stderr
    filled = run(env, "ALL", "--refresh", "--limit", "1", "--json")
    assert filled.returncode == 0 and len(json.loads(filled.stdout)["items"]) == 1
