"""End-to-end life cycle: graceful SIGTERM, retries and timeouts, the server under concurrent
enqueues, and refusing an out-of-date schema; real processes on the real PostgreSQL."""

import asyncio
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from core import db
from tests.conftest import admin, url_for
from tests.e2e.procs import (
    Launcher,
    beat_command,
    beat_env,
    free_port,
    wait_server_ready,
    wait_worker_ready,
)
from tests.e2e.support import (
    enqueue,
    overrides,
    wait_all_finished,
    wait_for,
)

# -- d: graceful SIGTERM ---------------------------------------------------------------------

async def running_runs(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM e2e_run_log WHERE finished_at IS NULL"))


async def test_sigterm_lets_running_tasks_finish_within_the_grace(
        beat: Launcher, e2e_db: str, pool: asyncpg.Pool) -> None:
    sup = beat.worker("e2e_runlog",
                      FLOW_OVERRIDES=overrides(e2e_runlog={"processes": 1, "concurrency": 5}),
                      WORKER_SHUTDOWN_GRACE=5, QUEUE_LEASE_SECONDS=10)
    await wait_worker_ready(sup, e2e_db, workers=1)
    ids = await enqueue(pool, "e2e_runlog", [{"sleep": 1.0, "i": i} for i in range(12)])

    async def five_running() -> bool:
        return await running_runs(pool) >= 5

    await wait_for(five_running, 30, "5 running tasks", sup)
    started = {r["task_id"] for r in await pool.fetch("SELECT task_id FROM e2e_run_log")}
    sent = time.monotonic()
    sup.signal(signal.SIGTERM)
    code = await sup.wait_exit(15)
    took = time.monotonic() - sent
    assert code == 0
    assert took < 5, f"supervisor took {took:.1f}s to stop (grace 5s)"

    rows = await pool.fetch("SELECT id, status, retry_count, worker_id, lease_until "
                            "FROM scrape_request_log ORDER BY id")
    ran = {r["task_id"] for r in await pool.fetch("SELECT task_id FROM e2e_run_log")}
    assert started <= ran and len(started) >= 5
    assert await running_runs(pool) == 0, "a run was cut short"
    for row in rows:
        if row["id"] in ran:
            assert row["status"] == "COMPLETE", dict(row)
        else:
            assert (row["status"], row["retry_count"]) == ("PENDING", 0), dict(row)
    assert not any(r["status"] == "PROCESSING" for r in rows)
    assert len(rows) == len(ids)


async def test_sigterm_hands_unfinished_tasks_back_after_a_short_grace(
        beat: Launcher, e2e_db: str, pool: asyncpg.Pool) -> None:
    grace = 0.5
    sup = beat.worker("e2e_runlog",
                      FLOW_OVERRIDES=overrides(e2e_runlog={"processes": 1, "concurrency": 5}),
                      WORKER_SHUTDOWN_GRACE=grace, QUEUE_LEASE_SECONDS=10)
    await wait_worker_ready(sup, e2e_db, workers=1)
    ids = await enqueue(pool, "e2e_runlog", [{"sleep": 10.0, "i": i} for i in range(8)])

    async def five_running() -> bool:
        return await running_runs(pool) >= 5

    await wait_for(five_running, 30, "5 running tasks", sup)
    sent = time.monotonic()
    sup.signal(signal.SIGTERM)
    code = await sup.wait_exit(15)
    took = time.monotonic() - sent
    assert code == 0
    assert took < grace + 3, f"supervisor took {took:.1f}s to stop (grace {grace}s)"
    assert "handed 5 unfinished tasks back to the queue" in sup.log()

    rows = await pool.fetch("SELECT id, status, retry_count, worker_id, lease_until, picked_at "
                            "FROM scrape_request_log ORDER BY id")
    assert len(rows) == len(ids)
    for row in rows:
        assert (row["status"], row["retry_count"], row["worker_id"], row["lease_until"]) == \
            ("PENDING", 0, None, None), dict(row)
    assert await running_runs(pool) == 5  # the 5 runs were cancelled, none finished


# -- e: timeouts (retries further down) -------------------------------------------------------

async def test_task_over_its_timeout_ends_timeout(beat: Launcher, e2e_db: str,
                                                 pool: asyncpg.Pool) -> None:
    sup = beat.worker("e2e_sleepy", FLOW_OVERRIDES=overrides(e2e_sleepy={"timeout_s": 0.5}))
    await wait_worker_ready(sup, e2e_db, workers=1)
    [task_id] = await enqueue(pool, "e2e_sleepy", [{"sleep": 10}], max_attempts=3)
    await wait_all_finished(pool, 1, 30, sup)
    task = await pool.fetchrow("SELECT * FROM scrape_request_log WHERE id = $1", task_id)
    assert task["status"] == "TIMEOUT", dict(task)
    assert task["retry_count"] == 1 and "timed out after 0.5s" in task["last_error"], dict(task)
    assert (task["scraped_at"] - task["picked_at"]).total_seconds() < 3, dict(task)
    runs = await pool.fetch("SELECT * FROM e2e_run_log WHERE task_id = $1", task_id)
    assert len(runs) == 1 and runs[0]["finished_at"] is None  # cancelled, not run again
    assert "hit its 0.5s timeout" in sup.log()


async def test_a_task_that_ignores_its_cancellation_times_out_and_its_process_recycles(
        beat: Launcher, e2e_db: str, pool: asyncpg.Pool) -> None:
    """TIMEOUT is recorded at the deadline even though the handler goes on; once it has ignored
    the cancellation for WORKER_CANCEL_GRACE the process exits and a fresh one serves the flow."""
    sup = beat.worker("e2e_stubborn", FLOW_OVERRIDES=overrides(e2e_stubborn={"timeout_s": 0.5}),
                      WORKER_CANCEL_GRACE=1, QUEUE_LEASE_SECONDS=3)
    await wait_worker_ready(sup, e2e_db, workers=1)
    [stuck] = await enqueue(pool, "e2e_stubborn", [{"sleep": 3600}], max_attempts=3)
    await wait_all_finished(pool, 1, 10, sup)
    task = await pool.fetchrow("SELECT * FROM scrape_request_log WHERE id = $1", stuck)
    assert (task["status"], task["retry_count"]) == ("TIMEOUT", 1), dict(task)
    assert (task["scraped_at"] - task["picked_at"]).total_seconds() < 2, dict(task)

    await sup.wait_log(r"worker-e2e_stubborn-0 \(pid \d+\) exited with 3", timeout=15)
    await sup.wait_log(r"started worker-e2e_stubborn-0", count=2, timeout=15)
    [after] = await enqueue(pool, "e2e_stubborn", [{"sleep": 0}])
    await wait_all_finished(pool, 2, 30, sup)
    done = await pool.fetchrow("SELECT * FROM scrape_request_log WHERE id = $1", after)
    assert done["status"] == "COMPLETE", dict(done)
    again = await pool.fetchrow("SELECT * FROM scrape_request_log WHERE id = $1", stuck)
    assert dict(again) == dict(task), "the timed-out task was touched after its TIMEOUT"
    assert "ignored its cancellation" in sup.log()


async def test_sigterm_stops_within_a_bound_when_a_task_ignores_its_cancellation(
        beat: Launcher, e2e_db: str, pool: asyncpg.Pool) -> None:
    # The short task needs 0.2 s of its grace, and more on a loaded machine.
    grace, cancel_grace = 2.0, 1.0
    sup = beat.worker("e2e_stubborn", WORKER_SHUTDOWN_GRACE=grace,
                      WORKER_CANCEL_GRACE=cancel_grace, QUEUE_LEASE_SECONDS=10)
    await wait_worker_ready(sup, e2e_db, workers=1)
    ids = await enqueue(pool, "e2e_stubborn", [{"sleep": 3600}, {"sleep": 0.2}])

    async def both_started() -> bool:
        return await pool.fetchval("SELECT count(*) FROM e2e_run_log") == 2

    await wait_for(both_started, 30, "2 started runs", sup)
    sent = time.monotonic()
    sup.signal(signal.SIGTERM)
    code = await sup.wait_exit(30)
    took = time.monotonic() - sent
    assert code == 0
    assert took < grace + cancel_grace + 3, f"supervisor took {took:.1f}s to stop"
    assert "killing it" not in sup.log()
    rows = {r["id"]: r for r in await pool.fetch("SELECT * FROM scrape_request_log")}
    assert (rows[ids[0]]["status"], rows[ids[0]]["retry_count"], rows[ids[0]]["worker_id"]) == \
        ("PENDING", 0, None), dict(rows[ids[0]])
    assert rows[ids[1]]["status"] == "COMPLETE", dict(rows[ids[1]])


# -- e: retries ------------------------------------------------------------------------------

async def test_retryable_failure_is_retried_then_completes(beat: Launcher, e2e_db: str,
                                                          pool: asyncpg.Pool) -> None:
    sup = beat.worker("e2e_flaky", QUEUE_POLL_INTERVAL=0.2)
    await wait_worker_ready(sup, e2e_db, workers=1)
    [task_id] = await enqueue(pool, "e2e_flaky", [{}], max_attempts=3)
    await wait_all_finished(pool, 1, 30, sup)
    task = await pool.fetchrow("SELECT * FROM scrape_request_log WHERE id = $1", task_id)
    runs = await pool.fetch("SELECT * FROM e2e_run_log WHERE task_id = $1 ORDER BY id", task_id)
    assert [(r["attempt"], r["finished_at"] is not None) for r in runs] == [(1, False), (2, True)]
    # The retry waited for its backoff (2 s +/- 50 % for the first attempt).
    assert (runs[1]["started_at"] - runs[0]["started_at"]).total_seconds() >= 0.9
    assert task["status"] == "COMPLETE", dict(task)
    assert task["retry_count"] == 2, dict(task)
    assert task["last_error"] and "attempt 1 fails on purpose" in task["last_error"], dict(task)


# -- f: the server under concurrent enqueues -------------------------------------------------

async def test_server_loses_no_concurrent_enqueue_and_dedupes_one_key(
        beat: Launcher, e2e_db: str, pool: asyncpg.Pool) -> None:
    port = free_port()
    server = beat.server(port)
    await wait_server_ready(server, port)
    url = f"http://127.0.0.1:{port}/scrape_request_log/flow/noop"
    limits = httpx.Limits(max_connections=250, max_keepalive_connections=250)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        answers = await asyncio.gather(*(
            client.post(url, json={"params": {"i": i}, "account_id": f"acct-{i}"})
            for i in range(200)))
        assert [a.status_code for a in answers] == [201] * 200, \
            [(a.status_code, a.text) for a in answers if a.status_code != 201][:5]
        ids = [a.json()["id"] for a in answers]
        assert len(set(ids)) == 200
        assert [a.json()["account_id"] for a in answers] == [f"acct-{i}" for i in range(200)]
        rows = await pool.fetch("SELECT id, account_id, params FROM scrape_request_log")
        assert len(rows) == 200 and {r["id"] for r in rows} == set(ids)
        assert {r["account_id"]: r["params"]["i"] for r in rows} == \
            {f"acct-{i}": i for i in range(200)}

    # New connections: the server may close the first batch's idle ones meanwhile (its
    # keep-alive timeout), and a request sent on one as it closes fails before it is read.
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        key = f"same-{uuid.uuid4().hex}"
        same = await asyncio.gather(*(
            client.post(url, json={"params": {"n": n}, "idempotency_key": key})
            for n in range(50)))
        codes = sorted(a.status_code for a in same)
        assert codes == [200] * 49 + [201], [(a.status_code, a.text) for a in same][:5]
        assert len({a.json()["id"] for a in same}) == 1
        assert await pool.fetchval(
            "SELECT count(*) FROM scrape_request_log WHERE idempotency_key = $1", key) == 1
        assert await pool.fetchval("SELECT count(*) FROM scrape_request_log") == 201
    assert server.alive()


# -- g: refuse to run on an out-of-date schema -----------------------------------------------

@pytest.fixture(params=["empty", "stale"])
def unmigrated_db(request: pytest.FixtureRequest) -> Iterator[str]:
    name = f"beat_e2e_old_{uuid.uuid4().hex[:8]}"
    admin(f"CREATE DATABASE {name}")
    try:
        if request.param == "stale":
            async def stale() -> None:
                conn = await asyncpg.connect(db.asyncpg_dsn(url_for(name)))
                try:
                    await conn.execute("CREATE TABLE alembic_version (version_num varchar(32) "
                                       "PRIMARY KEY); INSERT INTO alembic_version VALUES ('0000')")
                finally:
                    await conn.close()

            asyncio.run(stale())
        yield url_for(name)
    finally:
        admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.mark.parametrize("args", [["worker", "--flows", "e2e_runlog"],
                                  ["server", "--host", "127.0.0.1", "--port", "0"]],
                         ids=["worker", "server"])
def test_worker_and_server_refuse_an_out_of_date_schema(unmigrated_db: str, args: list[str],
                                                        tmp_path: Path) -> None:
    if args[0] == "server":
        args = [*args[:-1], str(free_port())]
    done = subprocess.run([*beat_command(), *args], check=False, env=beat_env(unmigrated_db),
                          cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)
    lines = done.stderr.splitlines()
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert len(lines) == 1, done.stderr
    assert "beat migrate" in lines[0] and "Traceback" not in done.stderr, done.stderr
    assert done.stdout == ""

