"""`beat timeseries` run as a user runs it: the same numbers as the HTTP answer, as a table
that fits 80 columns or as JSON, and one line saying what is wrong otherwise."""

import json
import subprocess
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from tests.analytics.test_timeseries import ACCOUNT, CHANNEL, END, snapshots
from tests.test_cli import beat, beat_env

__all__ = ["snapshots"]


@pytest.fixture(scope="module")
def env(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return beat_env(DATABASE_URL=database_url, BEAT_HOME=str(tmp_path_factory.mktemp("home")))


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return beat("timeseries", *args, "--to", END.strftime("%Y-%m-%dT%H:%M:%S"), env=env)


async def test_json_is_the_http_answer(env: dict[str, str], client: httpx.AsyncClient,
                                       snapshots: None, pool: asyncpg.Pool) -> None:
    done = run(env, "INSTAGRAM", ACCOUNT, "--interval", "week", "--json")
    assert done.returncode == 0, done.stderr
    answer: dict[str, Any] = json.loads(done.stdout)
    over_http = (await client.get(f"/profiles/INSTAGRAM/{ACCOUNT}/timeseries", params={
        "interval": "week", "to": END.isoformat()})).json()
    assert answer == over_http


async def test_the_table_fits_80_columns(env: dict[str, str], client: httpx.AsyncClient,
                                         snapshots: None) -> None:
    done = run(env, "youtube", CHANNEL, "--interval", "hour", "--from",
               (END - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S"))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "YOUTUBE UCseries: followers per hour (UTC)"
    assert max(len(line) for line in lines) <= 80
    over_http = (await client.get(f"/profiles/YOUTUBE/{CHANNEL}/timeseries", params={
        "interval": "hour", "to": END.isoformat(),
        "from": (END - timedelta(days=2)).isoformat()})).json()
    shown = [line.split()[2] for line in lines[2:2 + len(over_http["points"])]]
    assert shown == ["-" if p["value"] is None else f"{p['value']:,}"
                     for p in over_http["points"]]
    assert any(line.startswith("30 d") for line in lines)


async def test_a_wrong_metric_is_one_line(env: dict[str, str], snapshots: None) -> None:
    done = run(env, "YOUTUBE", CHANNEL, "--metric", "likes")
    assert done.returncode == 2 and "known: followers, subscribers" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
