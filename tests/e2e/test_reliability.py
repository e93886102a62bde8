"""End-to-end reliability under faults: real `beat worker` processes on the real PostgreSQL.

A worker killed with -9, tasks longer than the lease, the database going away (a TCP proxy
between Beat and PostgreSQL, never the shared server itself), a claim whose answer is lost.
"""

import asyncio
import os
import signal
from collections import defaultdict

import asyncpg
import psutil

from bench.tcpproxy import TcpProxy, proxied, upstream_of
from tests.e2e.flows import overlapping_runs
from tests.e2e.procs import (
    Launcher,
    wait_worker_ready,
)
from tests.e2e.support import (
    enqueue,
    overrides,
    status_counts,
    wait_all_finished,
    wait_for,
    wait_gone,
)

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


# -- the supervisor killed: its children do not live on as orphans ----------------------------

async def test_children_of_a_killed_supervisor_stop_and_hand_their_tasks_back(
        beat: Launcher, e2e_db: str, pool: asyncpg.Pool) -> None:
    sup = beat.worker("e2e_runlog",
                      FLOW_OVERRIDES=overrides(e2e_runlog={"processes": 1, "concurrency": 5}),
                      WORKER_SHUTDOWN_GRACE=1)
    await wait_worker_ready(sup, e2e_db, workers=1)
    children = [psutil.Process(pid) for pid in sup.children()]
    assert children, "the supervisor started no child"
    ids = await enqueue(pool, "e2e_runlog", [{"sleep": 60, "i": i} for i in range(3)])

    async def running() -> bool:
        return await pool.fetchval("SELECT count(*) FROM scrape_request_log WHERE id = "
                                   "ANY($1::bigint[]) AND status = 'PROCESSING'", ids) == 3

    await wait_for(running, 30, "three tasks running", sup)
    os.kill(sup.pid, signal.SIGKILL)
    _, alive = psutil.wait_procs(children, timeout=15)
    assert not alive, f"children outlived their supervisor: {[p.pid for p in alive]}"

    async def handed_back() -> bool:
        return await pool.fetchval("SELECT count(*) FROM scrape_request_log WHERE id = "
                                   "ANY($1::bigint[]) AND status = 'PENDING'", ids) == 3

    await wait_for(handed_back, 10, "the tasks handed back", sup)
