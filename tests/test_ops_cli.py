"""The ops commands as a user runs them (real processes, real PostgreSQL): `beat failed`,
`beat requeue ID`, `beat cancel`, `beat status --watch`, `beat credentials --json`. Errors exit
2 with one line."""

import asyncio
import json
import os
import select
import signal
import subprocess
import sys
import time

import asyncpg
import pytest

from tests.test_cli import ROOT, beat, beat_env, execute

__all__ = ["env"]


@pytest.fixture(scope="module")
def env(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return beat_env(DATABASE_URL=database_url, BEAT_HOME=str(tmp_path_factory.mktemp("home")))


async def fetch(url: str, query: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url)
    try:
        return list(await conn.fetch(query))
    finally:
        await conn.close()


def sql(url: str, statement: str) -> None:
    asyncio.run(execute(url, statement))


def statuses(url: str) -> dict[int, str]:
    rows = asyncio.run(fetch(url, "SELECT id, status FROM scrape_request_log ORDER BY id"))
    return {r["id"]: r["status"] for r in rows}


def one_line_error(result: subprocess.CompletedProcess[str], says: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0] and lines[0].startswith("beat"), result.stderr


@pytest.fixture
def tasks(database_url: str) -> dict[str, int]:
    """Five tasks: two failed sleeps (one older), a timed-out noop, a pending sleep, a pending
    noop."""
    sql(database_url, """
        TRUNCATE scrape_request_log RESTART IDENTITY;
        INSERT INTO scrape_request_log (flow, params, status, retry_count, last_error, error_kind,
                                        scraped_at) VALUES
          ('sleep', '{}', 'FAILED', 3, 'Retryable: upstream 503', 'retryable',
           now() - interval '2 hours'),
          ('sleep', '{}', 'FAILED', 1, 'NotFound: no such channel', 'not_found',
           now() - interval '5 minutes'),
          ('noop', '{}', 'TIMEOUT', 1, 'timed out after 60s', 'timeout', now()),
          ('sleep', '{}', 'PENDING', 0, NULL, NULL, NULL),
          ('noop', '{}', 'PENDING', 0, NULL, NULL, NULL);""")
    return {"old_failure": 1, "new_failure": 2, "timeout": 3, "pending_sleep": 4,
            "pending_noop": 5}


def test_failed_lists_the_latest_failures_of_a_flow_with_their_reasons(
        env: dict[str, str], tasks: dict[str, int]) -> None:
    result = beat("failed", "--flow", "sleep", env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["id", "flow", "status", "attempts", "ago", "kind"]
    assert lines[1].split()[:4] == ["2", "sleep", "FAILED", "1/3"]
    assert lines[1].split()[-1] == "not_found" and lines[2].strip() == "NotFound: no such channel"
    assert lines[3].split()[0] == "1" and "upstream 503" in lines[4]
    assert len(lines) == 5 and "timed out" not in result.stdout

    limited = beat("failed", "--limit", "1", "--json", env=env)
    [row] = [json.loads(line) for line in limited.stdout.splitlines()]
    assert (row["id"], row["status"], row["last_error"]) == (3, "TIMEOUT", "timed out after 60s")
    assert beat("failed", "--flow", "nosuch", env=env).stdout.strip() == "no failed task of nosuch"
    one_line_error(beat("failed", "--limit", "0", env=env), "--limit")


def test_requeue_by_id_and_its_refusals(env: dict[str, str], database_url: str,
                                        tasks: dict[str, int]) -> None:
    result = beat("requeue", str(tasks["new_failure"]), env=env)
    assert result.returncode == 0 and result.stdout.strip() == "requeued task 2 (sleep)"
    assert statuses(database_url)[tasks["new_failure"]] == "PENDING"
    one_line_error(beat("requeue", str(tasks["pending_sleep"]), env=env),
                   "cannot requeue task 4: it is PENDING, not finished")
    one_line_error(beat("requeue", "999999", env=env), "no task 999999")
    counted = beat("requeue", "--status", "TIMEOUT", "--flow", "noop", env=env)
    assert counted.stdout.strip() == "requeued 1 task"
    assert statuses(database_url)[tasks["timeout"]] == "PENDING"


def test_cancel_by_id_or_flow_and_its_refusals(env: dict[str, str], database_url: str,
                                               tasks: dict[str, int]) -> None:
    result = beat("cancel", str(tasks["pending_noop"]), env=env)
    assert result.returncode == 0 and result.stdout.strip() == "cancelled task 5"
    one_line_error(beat("cancel", str(tasks["pending_noop"]), env=env),
                   "cannot cancel task 5: it is CANCELLED, not pending")
    one_line_error(beat("cancel", env=env), "a task id or --flow")
    one_line_error(beat("cancel", "4", "--flow", "sleep", env=env), "a task id or --flow")
    sql(database_url, "INSERT INTO scrape_request_log (flow, params) VALUES ('sleep', '{}')")
    counted = beat("cancel", "--flow", "sleep", env=env)
    assert counted.stdout.strip() == "cancelled 2 pending tasks of sleep"
    after = statuses(database_url)
    assert [after[i] for i in (1, 2, 3, 4, 5, 6)] == [
        "FAILED", "FAILED", "TIMEOUT", "CANCELLED", "CANCELLED", "CANCELLED"]
    events = asyncio.run(fetch(database_url, "SELECT changes FROM event_outbox "
                                             "WHERE type = 'task.finished' ORDER BY id"))
    assert sorted(i for e in events for i in json.loads(e["changes"])["id"]) == [4, 5, 6]


def read_until(proc: subprocess.Popen[str], needle: str, timeout: float) -> str:
    assert proc.stdout is not None
    seen, deadline = "", time.monotonic() + timeout
    while needle not in seen:
        assert time.monotonic() < deadline, f"no {needle!r} in {seen!r}"
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready:
            seen += os.read(proc.stdout.fileno(), 65536).decode()
    return seen


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_status_watch_redraws_until_stopped_and_exits_0(
        env: dict[str, str], tasks: dict[str, int], stop: signal.Signals) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "core.cli", "status", "--watch",
                             "--interval", "0.2"], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        seen = read_until(proc, "outbox:", 30)
        seen += read_until(proc, "outbox:", 5)  # a second snapshot
        assert seen.count("UTC\nflow") >= 2 and "sleep" in seen and "noop" in seen
        proc.send_signal(stop)
        assert proc.wait(timeout=10) == 0
        assert proc.stderr is not None and proc.stderr.read() == ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_status_watch_on_a_terminal_draws_a_live_table(env: dict[str, str],
                                                       tasks: dict[str, int]) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "core.cli", "status", "--watch",
                             "--interval", "0.2"], cwd=ROOT, text=True,
                            env={**env, "TTY_COMPATIBLE": "1", "COLUMNS": "100"},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        seen = read_until(proc, "Ctrl-C to stop", 30)
        seen += read_until(proc, "Ctrl-C to stop", 5)
        assert "\x1b[" in seen and "pending" in seen and "outbox:" in seen  # redrawn in place
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_status_watch_refuses_json(env: dict[str, str]) -> None:
    one_line_error(beat("status", "--watch", "--json", env=env), "leave out --json")


ADD_TWO = """
import asyncio
from core import db
from core.config import Settings
from credentials import store
from credentials.crypto import Crypto

async def main():
    settings = Settings()
    pool = await db.create_pool(settings.database_url)
    crypto = Crypto.from_settings(settings)
    await store.upsert(pool, crypto, "graphapi", {{"token": "{secret}"}})
    await store.upsert(pool, crypto, "graphapi", {{"token": "{secret}x"}})
    await pool.close()

asyncio.run(main())
"""


def test_credentials_json_and_summary_mask_the_secrets(env: dict[str, str],
                                                      database_url: str) -> None:
    sql(database_url, "TRUNCATE credential RESTART IDENTITY")
    secret = "EAAB-a-long-token-value-1234567890"
    added = subprocess.run([sys.executable, "-c", ADD_TWO.format(secret=secret)], cwd=ROOT,
                           env=env, capture_output=True, text=True, timeout=60, check=False)
    assert added.returncode == 0, added.stderr
    sql(database_url, "UPDATE credential SET disabled_till = now() + interval '1 hour' "
                      "WHERE id = 2")
    listed = beat("credentials", "list", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(r["id"], r["source"]) for r in rows] == [(1, "graphapi"), (2, "graphapi")]
    assert rows[0]["state"] == "usable" and rows[1]["state"].startswith("resting until")
    assert rows[0]["secrets"]["token"].endswith("7890")
    table = beat("credentials", env=env)
    assert table.stdout.splitlines()[-1] == "2 credentials: 1 resting, 1 usable"
    assert secret not in listed.stdout + table.stdout and secret[:12] not in listed.stdout
