"""`beat bench queue`: drain N no-op tasks with the real worker processes and report the rate,
the enqueue-to-start latency on an idle queue, and (optionally) the same with a large table.

Runs in a scratch database `<db>_bench` on the configured server, recreated each run, so Beat
and its peers are measured on the same server in the same run. A drain of a few seconds is at
the mercy of whatever else the machine does, so every system runs `repeat` times, Beat and its
peers alternating (the order flips every round, so a slow spell does not always hit the same
system), and each system's line gives the median of its runs, the runs themselves, and how
many times faster Beat was than that system in each round.
"""

import asyncio
import json
import statistics
import time
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import asyncpg

from bench.scratch import beat_process, rounded, scratch_database
from core import db
from core.config import Settings
from core.queue import NewTask, Queue

LATENCY_SAMPLES = 200
Line = dict[str, Any]
T = TypeVar("T")


def run_queue_bench(settings: Settings, jobs: int, peers: list[str], processes: int,
                    finished_rows: int = 0, repeat: int = 1) -> list[Line]:
    """One line per system (Beat, Beat on a large table when `finished_rows`, then each peer):
    the median of `repeat` runs."""
    assert settings.database_url
    from bench.peers import PEERS

    unknown = [p for p in peers if p not in PEERS]
    if unknown:
        raise ValueError(f"unknown peers: {', '.join(unknown)} (known: {', '.join(PEERS)})")
    if repeat < 1:
        raise ValueError("repeat must be at least 1")
    with scratch_database(settings.database_url) as url:
        systems: list[tuple[str, Callable[[], Line]]] = [
            ("beat", lambda: _bench_beat_fresh(url, jobs, processes, 0))]
        if finished_rows:
            systems.append(("beat-large", lambda: _bench_beat_fresh(url, jobs, processes,
                                                                    finished_rows)))
        systems += [(peer, partial(_bench_peer, peer, url, jobs)) for peer in peers]
        runs: dict[str, list[Line]] = {name: [] for name, _ in systems}
        for name, bench in schedule(systems, repeat):
            runs[name].append(bench())
    beat_runs = runs["beat"]
    return [rounded(summary(runs[name], beat_runs)) for name, _ in systems]


def _bench_peer(peer: str, url: str, jobs: int) -> Line:
    from bench.peers import PEERS  # the peers are imported only when measured

    return asyncio.run(PEERS[peer](url, jobs))


def schedule(systems: list[T], repeat: int) -> list[T]:
    """`repeat` rounds of every system, every other round in reverse order (A B, B A, A B …)."""
    return [system for round_ in range(repeat)
            for system in (systems if round_ % 2 == 0 else systems[::-1])]


def summary(runs: list[Line], beat_runs: list[Line]) -> Line:
    """The median run of a system: its seconds and latencies are the medians of its runs,
    `runs` lists each run's jobs/s, `beat_speedup` is Beat's median rate over this system's
    and `beat_speedup_by_round` the same ratio within each round (same conditions)."""
    seconds = statistics.median(run["seconds"] for run in runs)
    line: Line = {**runs[0], "seconds": seconds, "jobs_per_s": runs[0]["jobs"] / seconds}
    for key in ("latency_p50_ms", "latency_p95_ms"):
        if key in runs[0]:
            line[key] = statistics.median(run[key] for run in runs)
    line["runs"] = [round(run["jobs_per_s"], 1) for run in runs]
    if runs is not beat_runs:
        beat_rate = beat_runs[0]["jobs"] / statistics.median(run["seconds"] for run in beat_runs)
        line["beat_speedup"] = beat_rate / line["jobs_per_s"]
        line["beat_speedup_by_round"] = [round(b["jobs_per_s"] / run["jobs_per_s"], 2)
                                         for b, run in zip(beat_runs, runs)]
    return line


async def _reset_tasks(url: str) -> None:
    """Every Beat run starts from the same empty tables, as every peer reinstalls its own."""
    conn = await asyncpg.connect(db.asyncpg_dsn(url))
    try:
        await conn.execute("TRUNCATE scrape_request_log, event_outbox")
    finally:
        await conn.close()


def _bench_beat_fresh(url: str, jobs: int, processes: int, finished_rows: int) -> Line:
    asyncio.run(_reset_tasks(url))
    if finished_rows:
        asyncio.run(_add_finished_rows(url, finished_rows))
    return _bench_beat(url, jobs, processes, finished_rows)


async def _add_finished_rows(url: str, count: int) -> None:
    conn = await asyncpg.connect(db.asyncpg_dsn(url))
    try:
        await conn.execute(
            "INSERT INTO scrape_request_log (flow, status, params, scraped_at, retry_count) "
            "SELECT 'noop', 'COMPLETE', '{}', now(), 1 FROM generate_series(1, $1)", count)
        await conn.execute("VACUUM ANALYZE scrape_request_log")
    finally:
        await conn.close()


def _bench_beat(url: str, jobs: int, processes: int, finished_rows: int) -> dict[str, Any]:
    with beat_process("worker", "--flows", "noop", "--no-maintenance", DATABASE_URL=url,
                      FLOW_OVERRIDES=json.dumps({"noop": {"processes": processes}})):
        return asyncio.run(_measure(url, jobs, processes, finished_rows))


async def _measure(url: str, jobs: int, processes: int, finished_rows: int) -> dict[str, Any]:
    pool = await db.create_pool(url, max_size=2)
    try:
        queue = Queue(pool)
        await wait_for_listeners(pool, processes)
        latencies = await _latencies(queue, pool)
        seconds = await drain(pool, jobs)
    finally:
        await pool.close()
    line: Line = {"system": "beat", "jobs": jobs, "seconds": seconds,
                            "jobs_per_s": jobs / seconds}
    if finished_rows:
        line["finished_rows"] = finished_rows
    line["latency_p50_ms"] = statistics.median(latencies)
    line["latency_p95_ms"] = statistics.quantiles(latencies, n=20)[18]
    line["processes"] = processes
    return line


async def wait_for_listeners(pool: asyncpg.Pool, processes: int) -> None:
    """Workers are ready when each holds its LISTEN connection (whose last statement is the
    LISTEN, or the keep-alive `SELECT 1` it sends every second after that)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        listening = await pool.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND (query LIKE 'LISTEN%' OR query = 'SELECT 1')")
        if listening >= processes:
            await asyncio.sleep(0.2)
            return
        await asyncio.sleep(0.1)
    raise RuntimeError("worker processes did not start within 60 s")


async def _latencies(queue: Queue, pool: asyncpg.Pool) -> list[float]:
    """Enqueue-to-start (picked_at - created_at, both database time) of single tasks on an idle
    queue, each enqueued after the previous one started."""
    ids = []
    for i in range(LATENCY_SAMPLES):
        task, _ = await queue.enqueue(NewTask("noop", {"sample": i}))
        ids.append(task.id)
        while await pool.fetchval("SELECT picked_at IS NULL FROM scrape_request_log WHERE id = $1",
                                  task.id):
            await asyncio.sleep(0.001)
        await asyncio.sleep(0.005)
    rows = await pool.fetch("SELECT extract(epoch FROM picked_at - created_at) * 1000 AS ms "
                            "FROM scrape_request_log WHERE id = ANY($1)", ids)
    return [float(r["ms"]) for r in rows]


async def drain(pool: asyncpg.Pool, jobs: int) -> float:
    """Commit N tasks in one transaction, then time from the commit to the last COMPLETE.

    The table is analyzed with the new rows before the commit (as each peer's table is after
    its bulk enqueue): without it the planner, still seeing the empty table, would plan every
    claim as a sort of all pending rows, and the drain would measure that plan instead.
    """
    first = await pool.fetchval("SELECT coalesce(max(id), 0) FROM scrape_request_log")
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO scrape_request_log (flow, params, max_attempts) "
            "SELECT 'noop', '{}', 1 FROM generate_series(1, $1)", jobs)
        await conn.execute("ANALYZE scrape_request_log")
        await conn.execute("SELECT pg_notify('beat_queue', 'noop')")
        started = await conn.fetchval("SELECT clock_timestamp()")
    deadline = time.monotonic() + max(120.0, jobs / 200)
    while await pool.fetchval("SELECT EXISTS (SELECT 1 FROM scrape_request_log "
                              "WHERE status IN ('PENDING', 'PROCESSING') AND id > $1)", first):
        if time.monotonic() > deadline:
            raise RuntimeError("beat did not drain the queue in time")
        await asyncio.sleep(0.05)
    finished = await pool.fetchval("SELECT max(scraped_at) FROM scrape_request_log WHERE id > $1",
                                   first)
    done = await pool.fetchval("SELECT count(*) FROM scrape_request_log WHERE id > $1 "
                               "AND status = 'COMPLETE'", first)
    if done != jobs:
        raise RuntimeError(f"only {done} of {jobs} tasks completed")
    return float((finished - started).total_seconds())
