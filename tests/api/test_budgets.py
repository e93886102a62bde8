"""GET /budgets and `beat budgets`: each source's stacked limits as the limiter's Redis holds
them (used, left, when the next slot frees), each credential's state with its own limits, and
the live-refresh limits; read, never taken."""

import json
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from core.budgets import Budgets, CredentialBudget, SourceBudget
from core.budgets_cli import table
from core.config import Settings
from core.ratelimit import RateLimiter, credential_limit, parse_limit
from tests.api.support import admin_client
from tests.test_cli import ROOT, beat_env

SOURCE = "youtube_data_api"
KEY = "AIzaSyD-budget-test-key-0123456789abcd"
LIMITS = {"source_limits": {SOURCE: ["3/min", "1000/day"]},
          "credential_limits": {SOURCE: ["100/day"]}}


async def test_budgets_show_what_the_limiter_and_credentials_hold(
        settings: Settings, pool: asyncpg.Pool, tmp_path: Path) -> None:
    await pool.execute("TRUNCATE credential RESTART IDENTITY CASCADE")
    tuned = settings.model_copy(update={"beat_home": tmp_path, **LIMITS})
    async with admin_client(tuned) as api:
        made = (await api.post("/tokens", json={"source": SOURCE, "handle": "main",
                                                "credentials": {"key": KEY}})).json()
        resting = (await api.post("/tokens", json={"source": SOURCE, "credentials": {
            "key": KEY.replace("budget", "resting")}})).json()
        await api.post(f"/tokens/{resting['id']}/disable", params={"ttl_s": 3600})
        assert settings.redis_url
        limiter = RateLimiter.from_url(settings.redis_url, prefix=settings.rate_limit_prefix)
        stack = [parse_limit(f"source:{SOURCE}:3/min"), parse_limit(f"source:{SOURCE}:1000/day"),
                 credential_limit(str(made["id"]), "100/day")]
        for _ in range(2):
            assert (await limiter.acquire(stack)).granted
        await limiter.aclose()
        answer = await api.get("/budgets")
        assert answer.status_code == 200, answer.text
        body = answer.json()
        again = (await api.get("/budgets")).json()
        panel = (await api.get("/dashboard/fragments/sources")).text
    assert body["limiter"] == "ok"
    [source] = [s for s in body["sources"] if s["source"] == SOURCE]
    assert [(lim["limit"], lim["used"], lim["remaining"]) for lim in source["limits"]] == [
        (f"source:{SOURCE}:3/60s", 2, 1), (f"source:{SOURCE}:1000/86400s", 2, 998)]
    assert source["limits"][0]["frees_at"] is not None
    assert source["credentials_usable"] == 1
    first, second = source["credentials"]
    assert (first["id"], first["handle"], first["state"]) == (made["id"], "main", "usable")
    assert [(lim["limit"], lim["used"], lim["remaining"]) for lim in first["limits"]] == [
        (f"credential:{made['id']}:100/86400s", 2, 98),  # its own CREDENTIAL_LIMITS
        (f"quota:{SOURCE}:{made['id']}:10000/86400s@America/Los_Angeles", 0, 10000)]
    assert (second["state"], second["until"] is not None) == ("resting", True)
    assert [lim["limit"] for lim in body["live"]] == ["live:global:20000/86400s",
                                                      "live:global:60/60s"]
    # The dashboard shows the same budgets: every limit of the source and its credentials.
    shown = {name: (used, left) for name, used, left in re.findall(
        r'data-limit="([^"]+)">.*?data-field="used">([^<]*)<.*?data-field="left">([^<]*)<',
        panel, re.DOTALL)}
    for limit in [*source["limits"], *first["limits"], *body["live"]]:
        assert limit["limit"] in shown, (limit["limit"], shown)
    assert shown[f"quota:{SOURCE}:{made['id']}:10000/86400s@America/Los_Angeles"] == (
        "0/10,000", "10,000")
    assert shown[f"credential:{made['id']}:100/86400s"] == ("2/100", "98")
    assert re.search(rf'data-budget-credential="{resting["id"]}">.*?data-field="frees">'
                     r'resting \d', panel, re.DOTALL)
    [same] = [s for s in again["sources"] if s["source"] == SOURCE]
    assert [lim["used"] for lim in same["limits"]] == [2, 2]  # reading took nothing
    assert KEY not in json.dumps(body)


def test_beat_budgets_prints_the_same_as_a_table_or_json(database_url: str,
                                                         tmp_path: Path) -> None:
    env = beat_env(DATABASE_URL=database_url, BEAT_HOME=str(tmp_path), REDIS_URL=
                   "redis://127.0.0.1:6379/0", RATE_LIMIT_PREFIX="beat-test:budgets-cli",
                   SOURCE_LIMITS=json.dumps(LIMITS["source_limits"]))
    run = [sys.executable, "-m", "core.cli", "budgets"]
    shown = subprocess.run([*run, "--json"], cwd=ROOT, env=env, capture_output=True, text=True,
                           timeout=60, check=False)
    assert shown.returncode == 0, shown.stderr
    body = json.loads(shown.stdout)
    names = [lim["limit"] for s in body["sources"] for lim in s["limits"]]
    assert f"source:{SOURCE}:3/60s" in names and body["limiter"] == "ok"
    table = subprocess.run(run, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
                           check=False)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["SOURCE", "LIMIT", "USED", "LEFT", "FREES", "IN"]
    assert any(line.split()[:4] == [SOURCE, f"source:{SOURCE}:3/60s", "0/3", "3"]
               for line in lines)
    off = subprocess.run(run, cwd=ROOT, env={**env, "REDIS_URL": ""}, capture_output=True,
                         text=True, timeout=60, check=False)
    assert off.returncode == 0 and "limits are off (no REDIS_URL)" in off.stdout, off.stderr



def test_the_table_shows_what_the_platform_reported_of_each_credential() -> None:
    at = datetime(2026, 11, 30, 12, tzinfo=UTC)
    graph = CredentialBudget(1, None, "usable", None, [], {
        "used_pct": 63.0, "rests_at_pct": 80.0, "at": at.isoformat(),
        "regains_at": (at + timedelta(minutes=5)).isoformat()})
    x = CredentialBudget(2, None, "usable", None, [], {
        "remaining": 12, "limit": 50, "at": at.isoformat(),
        "resets_at": (at + timedelta(minutes=7)).isoformat()})
    lines = table(Budgets(at, [SourceBudget("graph", [], [graph]), SourceBudget("x", [], [x])],
                          [], "ok"))
    reported = [line.split() for line in lines if "reported" in line]
    assert reported == [["graph", "reported", "by", "the", "platform", "63%", "17%", "5m00s"],
                        ["x", "reported", "by", "the", "platform", "38/50", "12", "7m00s"]]
