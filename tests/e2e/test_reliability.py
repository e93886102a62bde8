"""End-to-end reliability: real `beat worker` / `beat server` processes on the real PostgreSQL.

Every test gets its own database (cloned from the migrated template) with the e2e_run_log table
the flows of tests/e2e/flows.py write to, and stops every process it started. A database outage
is simulated with a TCP proxy between Beat and PostgreSQL, never by touching the shared server.
"""

import asyncio
import json
import os
import signal
import subprocess
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
import pytest

from core import db
from core.queue import NewTask, Queue
from tests.conftest import admin, fresh_database, url_for
from tests.e2e.flows import RUN_LOG_DDL, overlapping_runs
from tests.e2e.procs import (
    BeatProcess,
    Launcher,
    beat_command,
    beat_env,
    free_port,
    wait_server_ready,
    wait_worker_ready,
)
from tests.e2e.tcpproxy import TcpProxy, proxied, upstream_of

FINISHED = ("COMPLETE", "FAILED", "TIMEOUT", "EXPIRED", "CANCELLED")


# -- fixtures --------------------------------------------------------------------------------

@pytest.fixture
def e2e_db(template_database: str) -> Iterator[str]:
    """A fresh migrated database for one test, with the run log table; dropped afterwards."""
    with contextmanager(fresh_database)(template_database) as url:
        async def create_run_log() -> None:
            conn = await asyncpg.connect(db.asyncpg_dsn(url))
            try:
                await conn.execute(RUN_LOG_DDL)
            finally:
                await conn.close()

        asyncio.run(create_run_log())
        yield url


@pytest.fixture
def beat(e2e_db: str, tmp_path: Path) -> Iterator[Launcher]:
    """Starts Beat processes on the test database; stops them (and prints their logs) after."""
    launcher = Launcher(e2e_db, tmp_path)
    try:
        yield launcher
    finally:
        launcher.stop_all()


@pytest.fixture
async def pool(e2e_db: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await db.create_pool(e2e_db, max_size=4)
    yield pool
    await pool.close()


# -- helpers ---------------------------------------------------------------------------------

def overrides(**flows: dict[str, Any]) -> str:
    return json.dumps(flows)


async def enqueue(pool: asyncpg.Pool, flow: str, params: list[dict[str, Any]],
                  max_attempts: int = 5) -> list[int]:
    results = await Queue(pool).enqueue_many(
        [NewTask(flow, p, max_attempts=max_attempts) for p in params])
    assert all(created for _, created in results)
    return [task.id for task, _ in results]


async def status_counts(pool: asyncpg.Pool) -> dict[str, int]:
    rows = await pool.fetch("SELECT status, count(*) AS n FROM scrape_request_log GROUP BY 1")
    return {r["status"]: r["n"] for r in rows}


async def wait_all_finished(pool: asyncpg.Pool, total: int, timeout: float,
                            *procs: BeatProcess) -> dict[str, int]:
    """Wait until `total` tasks are in a finished status; fail early if a process died."""
    deadline = time.monotonic() + timeout
    while True:
        counts = await status_counts(pool)
        if sum(counts.get(s, 0) for s in FINISHED) >= total:
            return counts
        for proc in procs:
            if not proc.alive():
                raise proc.fail(f"exited with {proc.returncode}; queue is {counts}")
        if time.monotonic() > deadline:
            message = f"only {counts} of {total} tasks finished after {timeout}s"
            raise procs[0].fail(message) if procs else AssertionError(message)
        await asyncio.sleep(0.1)


async def wait_for(check: Any, timeout: float, what: str, proc: BeatProcess) -> Any:
    """Poll the coroutine function `check` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if not proc.alive():
            raise proc.fail(f"exited with {proc.returncode} while waiting for {what}")
        if time.monotonic() > deadline:
            raise proc.fail(f"no {what} after {timeout}s")
        await asyncio.sleep(0.02)


async def wait_gone(pid: int, timeout: float = 10) -> None:
    """Wait until `pid` stopped running (gone, or a zombie its parent has not reaped yet)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return
        except psutil.NoSuchProcess:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"pid {pid} still running {timeout}s after SIGKILL")


# -- a, b: kill -9 of a worker child; no task runs in two places at once ----------------------

async def test_kill9_of_a_worker_child_mid_batch_loses_no_task(beat: Launcher, e2e_db: str,
                                                               pool: asyncpg.Pool) -> None:
    sup = beat.worker("e2e_runlog",
                      FLOW_OVERRIDES=overrides(e2e_runlog={"processes": 2, "concurrency": 20}),
                      QUEUE_LEASE_SECONDS=2, QUEUE_MAINTENANCE_INTERVAL=0.5,
                      QUEUE_POLL_INTERVAL=0.5, WORKER_SHUTDOWN_GRACE=5)
    await wait_worker_ready(sup, e2e_db, workers=2)
    slots = sup.started_children()
    workers = {pid for pid, slot in slots.items() if slot.startswith("worker-e2e_runlog-")}
    assert len(workers) == 2 and "maintenance" in slots.values(), slots
    assert set(sup.children()) == set(slots), (sup.children(), slots)

    ids = await enqueue(pool, "e2e_runlog", [{"sleep": 0.2, "i": i} for i in range(300)])

    async def busy_worker() -> int | None:
        rows = await pool.fetch("SELECT pid, count(*) AS n FROM e2e_run_log "
                                "WHERE finished_at IS NULL GROUP BY pid ORDER BY n DESC")
        return next((r["pid"] for r in rows if r["pid"] in workers and r["n"] >= 5), None)

    victim = await wait_for(busy_worker, 30, "worker running 5 tasks", sup)
    os.kill(victim, signal.SIGKILL)
    await wait_gone(victim)
    killed_at = await pool.fetchval("SELECT clock_timestamp()")
    in_flight = {r["task_id"] for r in await pool.fetch(
        "SELECT task_id FROM e2e_run_log WHERE pid = $1 AND finished_at IS NULL", victim)}
    assert in_flight, "the killed worker was running no task"
    assert (await status_counts(pool)).get("COMPLETE", 0) < len(ids), "killed after the batch"

    counts = await wait_all_finished(pool, len(ids), 60, sup)
    assert counts == {"COMPLETE": len(ids)}, counts

    # The supervisor noticed the death and started a replacement.
    slot = slots[victim]
    await sup.wait_log(rf"{slot} \(pid {victim}\) exited with -9; restarting", timeout=10)
    await sup.wait_log(rf"started {slot} \(pid \d+\)", count=2, timeout=10)
    restarted = {pid for pid, name in sup.started_children().items()
                 if name == slot and pid not in slots}
    assert len(restarted) == 1, sup.started_children()
    assert restarted <= set(sup.children()), (restarted, sup.children())

    # None lost: every task has a finished run; the interrupted ones ran again elsewhere after
    # the kill; only the killed process left runs unfinished.
    rows = await pool.fetch("SELECT * FROM e2e_run_log ORDER BY id")
    finished = {r["task_id"] for r in rows if r["finished_at"] is not None}
    assert finished == set(ids), f"tasks without a finished run: {sorted(set(ids) - finished)}"
    unfinished_pids = {r["pid"] for r in rows if r["finished_at"] is None}
    assert unfinished_pids == {victim}, unfinished_pids
    for task_id in in_flight:
        reruns = [r for r in rows if r["task_id"] == task_id and r["pid"] != victim]
        assert reruns and all(r["started_at"] > killed_at for r in reruns), (task_id, reruns)
    assert all(r["finished_at"] is None or r["finished_at"] <= killed_at
               for r in rows if r["pid"] == victim)

    # b. and no task ever ran in two processes at once.
    assert overlapping_runs(rows, {victim: killed_at}) == []

    sup.signal(signal.SIGTERM)
    assert await sup.wait_exit(15) == 0


async def test_no_task_runs_twice_at_once_with_tasks_longer_than_the_lease(
        beat: Launcher, e2e_db: str, pool: asyncpg.Pool) -> None:
    """Three processes, short tasks mixed with tasks that outlive their lease three times over
    (only heartbeats keep those leases): without faults every task runs exactly once."""
    sup = beat.worker("e2e_runlog",
                      FLOW_OVERRIDES=overrides(e2e_runlog={"processes": 3, "concurrency": 20}),
                      QUEUE_LEASE_SECONDS=1, QUEUE_MAINTENANCE_INTERVAL=0.25,
                      QUEUE_POLL_INTERVAL=0.5)
    await wait_worker_ready(sup, e2e_db, workers=3)
    params = [{"sleep": 3.0 if i % 10 == 0 else 0.05, "i": i} for i in range(600)]
    ids = await enqueue(pool, "e2e_runlog", params)
    counts = await wait_all_finished(pool, len(ids), 60, sup)
    assert counts == {"COMPLETE": len(ids)}, counts

    rows = await pool.fetch("SELECT * FROM e2e_run_log ORDER BY id")
    assert overlapping_runs(rows, {}) == []
    runs_per_task: dict[int, int] = defaultdict(int)
    for row in rows:
        runs_per_task[row["task_id"]] += 1
    assert {t: n for t, n in runs_per_task.items() if n != 1} == {}
    assert set(runs_per_task) == set(ids)
    assert len({r["pid"] for r in rows}) == 3, "all three processes should have run tasks"
    retried = await pool.fetchval("SELECT count(*) FROM scrape_request_log WHERE retry_count <> 1")
    assert retried == 0
    assert "reaped" not in sup.log()


# -- c: the database goes away for 3 s in the middle of a drain ------------------------------

async def test_database_outage_mid_drain_workers_reconnect(beat: Launcher, e2e_db: str,
                                                            pool: asyncpg.Pool) -> None:
    with TcpProxy(*upstream_of(e2e_db)) as proxy:
        sup = beat.worker("e2e_runlog", database_url=proxied(e2e_db, proxy),
                          FLOW_OVERRIDES=overrides(e2e_runlog={"processes": 2, "concurrency": 20}),
                          QUEUE_LEASE_SECONDS=10, QUEUE_MAINTENANCE_INTERVAL=0.5,
                          QUEUE_POLL_INTERVAL=0.5)
        try:
            await wait_worker_ready(sup, e2e_db, workers=2)
            children = sup.children()
            assert len(children) == 3, children  # two workers and maintenance
            ids = await enqueue(pool, "e2e_runlog",
                                [{"sleep": 0.1, "i": i} for i in range(2000)])

            async def some_done() -> bool:
                return (await status_counts(pool)).get("COMPLETE", 0) >= 300

            await wait_for(some_done, 60, "300 completed tasks", sup)
            closed = proxy.cut()
            assert closed >= 5, f"cut only {closed} connections"  # 2 x (pool + LISTEN) + leader
            await asyncio.sleep(3)
            during = await status_counts(pool)
            forwarded = proxy.forwarded
            proxy.restore()
            assert during.get("COMPLETE", 0) < len(ids), "the drain ended before the outage"

            counts = await wait_all_finished(pool, len(ids), 90, sup)
            assert counts == {"COMPLETE": len(ids)}, counts
            assert proxy.forwarded > forwarded, "no process reconnected through the proxy"
            # Same processes: they rode out the outage instead of crashing and being restarted.
            assert sup.children() == children, (children, sup.children())
            assert "exited with" not in sup.log()
            sup.signal(signal.SIGTERM)
            assert await sup.wait_exit(30) == 0
        finally:
            sup.stop()


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


# -- c, continued: a claim whose answer is lost with the connection ---------------------------

# Test-only fault injection: the first claim of a task whose params say so takes 2 s on the
# server, long enough to cut the worker's connection while the claim runs. The claim still
# commits (PostgreSQL only notices the dead client when it writes the answer), and says so in
# e2e_claim_log, in the same transaction.
SLOW_CLAIM_TRIGGER = """
CREATE TABLE e2e_claim_log (task_id bigint NOT NULL, at timestamptz DEFAULT clock_timestamp());
CREATE FUNCTION e2e_slow_claim() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM e2e_claim_log WHERE task_id = NEW.id) THEN
        INSERT INTO e2e_claim_log (task_id) VALUES (NEW.id);
        PERFORM pg_sleep(2);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER e2e_slow_claim BEFORE UPDATE ON scrape_request_log FOR EACH ROW
    WHEN (OLD.status = 'PENDING' AND NEW.status = 'PROCESSING'
          AND (NEW.params ->> 'slow_claim') IS NOT NULL)
    EXECUTE FUNCTION e2e_slow_claim();
"""


async def test_claim_whose_answer_is_lost_is_neither_failed_nor_charged(
        beat: Launcher, e2e_db: str, pool: asyncpg.Pool) -> None:
    """The connection drops while a claim runs: the claim commits, the worker never sees its
    rows. Those tasks never ran, so they must run (once) rather than fail as 'lease expired'."""
    await pool.execute(SLOW_CLAIM_TRIGGER)
    with TcpProxy(*upstream_of(e2e_db)) as proxy:
        sup = beat.worker("e2e_runlog", database_url=proxied(e2e_db, proxy),
                          FLOW_OVERRIDES=overrides(e2e_runlog={"processes": 1, "concurrency": 5}),
                          QUEUE_LEASE_SECONDS=5, QUEUE_MAINTENANCE_INTERVAL=0.25,
                          QUEUE_POLL_INTERVAL=0.2)
        try:
            await wait_worker_ready(sup, e2e_db, workers=1)
            [task_id] = await enqueue(pool, "e2e_runlog", [{"slow_claim": True}], max_attempts=1)

            async def claim_running() -> bool:
                return bool(await pool.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep' "
                    "AND datname = current_database()"))

            await wait_for(claim_running, 10, "claim in progress", sup)
            assert proxy.cut() >= 2
            await asyncio.sleep(0.2)
            proxy.restore()

            async def claim_committed() -> bool:
                return bool(await pool.fetchval(
                    "SELECT count(*) FROM e2e_claim_log WHERE task_id = $1", task_id))

            await wait_for(claim_committed, 10, "committed claim", sup)
            await wait_all_finished(pool, 1, 30, sup)
            task = await pool.fetchrow("SELECT * FROM scrape_request_log WHERE id = $1", task_id)
            runs = await pool.fetch("SELECT * FROM e2e_run_log WHERE task_id = $1", task_id)
            assert (task["status"], task["retry_count"], len(runs)) == ("COMPLETE", 1, 1), \
                (dict(task), [dict(r) for r in runs])
        finally:
            sup.stop()
