"""Metrics and logs of real processes: a server and a worker supervisor sharing one
PROMETHEUS_MULTIPROC_DIR run tasks enqueued over HTTP; the server's /metrics adds up every
worker process's samples (two processes run one flow) and the worker's own exporter
(WORKER_METRICS_PORT) serves the same counts; every worker log line is a JSON object, and the
lines logged inside a task carry its id, flow, attempt (and the source being called)."""

import asyncio
import json
import os
import signal
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from core import metrics
from tests.e2e.procs import Launcher, free_port, wait_server_ready, wait_worker_ready
from tests.e2e.support import enqueue as enqueue_rows
from tests.e2e.support import overrides, wait_all_finished

RUNLOG, FLAKY, LOGGED = 30, 4, 3

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def sample(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


async def enqueue(api: httpx.AsyncClient, flow: str, params: dict[str, Any]) -> int:
    answer = await api.post(f"/scrape_request_log/flow/{flow}", json={"params": params})
    assert answer.status_code == 201, answer.text
    task_id: int = answer.json()["id"]
    return task_id


async def settled(client: httpx.AsyncClient, path: str) -> Samples:
    """The samples once every finished task shows: worker processes publish their tallies
    twice a second."""
    total = RUNLOG + 2 * FLAKY + LOGGED  # the flaky ones end twice: RETRY, then COMPLETE
    deadline = asyncio.get_running_loop().time() + 10
    while True:
        page = await client.get(path)
        assert page.status_code == 200, page.text
        seen = metrics.parse(page.text)
        ended = sum(value for (name, _), value in seen.items()
                    if name == "beat_tasks_finished_total")
        if ended >= total or asyncio.get_running_loop().time() > deadline:
            return seen
        await asyncio.sleep(0.1)


def assert_task_counts(seen: Samples) -> None:
    finished = "beat_tasks_finished_total"
    assert sample(seen, finished, flow="e2e_runlog", status="COMPLETE") == RUNLOG
    assert sample(seen, "beat_tasks_claimed_total", flow="e2e_runlog") == RUNLOG
    assert sample(seen, "beat_task_duration_seconds_count", flow="e2e_runlog") == RUNLOG
    assert (sample(seen, "beat_task_duration_seconds_sum", flow="e2e_runlog") or 0) >= \
        RUNLOG * 0.3
    assert sample(seen, finished, flow="e2e_flaky", status="RETRY") == FLAKY
    assert sample(seen, finished, flow="e2e_flaky", status="COMPLETE") == FLAKY
    assert sample(seen, "beat_tasks_claimed_total", flow="e2e_flaky") == 2 * FLAKY
    assert sample(seen, finished, flow="e2e_logged", status="COMPLETE") == LOGGED - 1
    assert sample(seen, finished, flow="e2e_logged", status="FAILED") == 1
    assert sample(seen, "beat_upstream_calls_total", source="e2e_echo", outcome="ok") == \
        LOGGED - 1
    assert sample(seen, "beat_upstream_calls_total", source="e2e_echo",
                  outcome="permanent") == 1
    for flow in ("e2e_runlog", "e2e_flaky", "e2e_logged"):
        assert sample(seen, "beat_tasks_running", flow=flow) == 0


async def test_metrics_add_up_across_worker_processes_and_logs_are_json(
        beat: Launcher, e2e_db: str, pool: asyncpg.Pool, tmp_path: Path) -> None:
    directory = tmp_path / "metrics"
    directory.mkdir()
    server_port, worker_port = free_port(), free_port()
    worker = beat.worker("e2e_runlog,e2e_flaky,e2e_logged", PROMETHEUS_MULTIPROC_DIR=directory,
                         WORKER_METRICS_PORT=worker_port, LOG_FORMAT="json",
                         QUEUE_POLL_INTERVAL=0.2,
                         FLOW_OVERRIDES=overrides(e2e_runlog={"processes": 2}))
    server = beat.server(server_port, PROMETHEUS_MULTIPROC_DIR=directory)
    await wait_worker_ready(worker, e2e_db, workers=4)
    await wait_server_ready(server, server_port)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server_port}",
                                 timeout=10) as api:
        for n in range(RUNLOG):
            await enqueue(api, "e2e_runlog", {"sleep": 0.3, "n": n})
        for n in range(FLAKY):
            await enqueue(api, "e2e_flaky", {"n": n})
        logged = [await enqueue(api, "e2e_logged", {"n": n, "fail": n == 0})
                  for n in range(LOGGED)]
        await wait_all_finished(pool, RUNLOG + FLAKY + LOGGED, 60, worker)
        served = await settled(api, "/metrics")
    assert_task_counts(served)
    assert sample(served, "beat_tasks_enqueued_total", flow="e2e_runlog") == RUNLOG
    assert sample(served, "beat_queue_depth", flow="e2e_runlog", status="PENDING") == 0
    pids = await pool.fetch("SELECT DISTINCT pid FROM e2e_run_log WHERE flow = 'e2e_runlog'")
    assert len(pids) == 2, "both e2e_runlog processes ran tasks"

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{worker_port}",
                                 timeout=10) as client:
        exported = await settled(client, "/metrics")
    assert_task_counts(exported)
    assert not any(name == "beat_queue_depth" for name, _ in exported)  # the server's alone

    worker.stop()
    lines = [json.loads(line) for line in worker.log().splitlines() if line.strip()]
    assert any(line["event"].startswith("started worker-e2e_runlog-1") for line in lines)
    runs = [line for line in lines if line["event"] == "e2e: logged task runs"]
    assert sorted(line["task_id"] for line in runs) == logged
    assert all((line["flow"], line["attempt"]) == ("e2e_logged", 1) for line in runs)
    calls = [line for line in lines if line["event"] == "e2e: echo source called"]
    assert sorted(line["task_id"] for line in calls) == logged
    assert all(line["source"] == "e2e_echo" and line["flow"] == "e2e_logged"
               for line in calls)


async def running(client: httpx.AsyncClient, want: float, timeout: float) -> float | None:
    """beat_tasks_running of e2e_runlog once it equals `want` (or the last value seen)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        page = await client.get("/metrics")
        value = sample(metrics.parse(page.text), "beat_tasks_running", flow="e2e_runlog")
        if value == want or asyncio.get_running_loop().time() > deadline:
            return value
        await asyncio.sleep(0.1)


async def test_a_killed_worker_process_leaves_the_running_gauge(
        beat: Launcher, e2e_db: str, pool: asyncpg.Pool) -> None:
    """Its live gauge file goes when the supervisor reaps it: the task it ran no longer counts
    as running (the reaper hands it to the new process only when its lease runs out)."""
    port = free_port()
    worker = beat.worker("e2e_runlog", WORKER_METRICS_PORT=port, QUEUE_POLL_INTERVAL=0.2)
    await wait_worker_ready(worker, e2e_db, workers=1)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        await enqueue_direct(pool, 2)
        assert await running(client, 2, 10) == 2
        [victim] = [pid for pid, slot in worker.started_children().items()
                    if slot == "worker-e2e_runlog-0"]
        os.kill(victim, signal.SIGKILL)
        await worker.wait_log(rf"worker-e2e_runlog-0 \(pid {victim}\) exited with -9", timeout=10)
        assert await running(client, 0, 10) == 0
        claimed = sample(metrics.parse((await client.get("/metrics")).text),
                         "beat_tasks_claimed_total", flow="e2e_runlog")
        assert claimed == 2  # the counters of the dead process stay


async def enqueue_direct(pool: asyncpg.Pool, count: int) -> None:
    await enqueue_rows(pool, "e2e_runlog", [{"sleep": 60, "n": n} for n in range(count)])
