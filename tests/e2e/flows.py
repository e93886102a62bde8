"""Test-only flows, loaded into real `beat worker` processes by
FLOW_MODULES='["tests.e2e.flows"]'.

Every run of a handler is recorded in the table `e2e_run_log` of the worker's database (created by
the test module, not by the migrations): one row at the start of an attempt, whose finished_at is
set when the handler returns normally. A row without finished_at is an attempt that was killed,
cancelled (timeout, shutdown) or that failed on purpose.
"""

import asyncio
import logging
import os
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from itertools import combinations
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from core.errors import Permanent, Retryable
from core.flows import TaskContext, flow
from core.sources import Director

RUN_LOG_DDL = """
CREATE TABLE IF NOT EXISTS e2e_run_log (
    id          bigserial   PRIMARY KEY,
    task_id     bigint      NOT NULL,
    flow        text        NOT NULL,
    attempt     integer     NOT NULL,
    pid         integer     NOT NULL,
    started_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at timestamptz
);
CREATE INDEX IF NOT EXISTS e2e_run_log_task_idx ON e2e_run_log (task_id);
"""


class RunParams(BaseModel):
    model_config = ConfigDict(extra="allow")

    sleep: float = Field(default=0.0, ge=0, le=3600)


async def _start(ctx: TaskContext) -> int:
    row_id: int = await ctx.pool.fetchval(
        "INSERT INTO e2e_run_log (task_id, flow, attempt, pid) VALUES ($1, $2, $3, $4) "
        "RETURNING id", ctx.task_id, ctx.flow, ctx.attempt, os.getpid())
    return row_id


async def _finish(ctx: TaskContext, row_id: int) -> None:
    await ctx.pool.execute("UPDATE e2e_run_log SET finished_at = clock_timestamp() WHERE id = $1",
                           row_id)


@flow("e2e_runlog", RunParams, processes=1, concurrency=10, max_attempts=5, timeout_s=60)
async def runlog(params: RunParams, ctx: TaskContext) -> dict[str, int]:
    """Records its run in e2e_run_log and sleeps `sleep` seconds."""
    row_id = await _start(ctx)
    await asyncio.sleep(params.sleep)
    await _finish(ctx, row_id)
    return {"pid": os.getpid(), "attempt": ctx.attempt}


@flow("e2e_flaky", RunParams, processes=1, concurrency=5, max_attempts=3, timeout_s=60)
async def flaky(params: RunParams, ctx: TaskContext) -> dict[str, int]:
    """Fails with Retryable on its first attempt, succeeds on the next ones."""
    row_id = await _start(ctx)
    if ctx.attempt == 1:
        raise Retryable(f"e2e: attempt {ctx.attempt} fails on purpose")
    await asyncio.sleep(params.sleep)
    await _finish(ctx, row_id)
    return {"attempt": ctx.attempt}


@flow("e2e_sleepy", RunParams, processes=1, concurrency=5, max_attempts=3, timeout_s=60)
async def sleepy(params: RunParams, ctx: TaskContext) -> None:
    """Sleeps `sleep` seconds; the tests give it a timeout shorter than that."""
    row_id = await _start(ctx)
    await asyncio.sleep(params.sleep)
    await _finish(ctx, row_id)


class ProgressParams(BaseModel):
    steps: int = Field(ge=1, le=10_000)
    step_s: float = Field(default=0.05, ge=0, le=60)
    fail: bool = False


@flow("e2e_progress", ProgressParams, processes=1, concurrency=5, max_attempts=1, timeout_s=60)
async def progress(params: ProgressParams, ctx: TaskContext) -> dict[str, int]:
    """Reports progress after each of `steps` steps of `step_s` seconds; fails at the end if
    asked to."""
    for step in range(1, params.steps + 1):
        await asyncio.sleep(params.step_s)
        await ctx.progress.update(step, params.steps, "steps")
    if params.fail:
        raise Permanent(f"e2e: failed on purpose after {params.steps} steps")
    return {"steps": params.steps}


@flow("e2e_stubborn", RunParams, processes=1, concurrency=5, max_attempts=3, timeout_s=60)
async def stubborn(params: RunParams, ctx: TaskContext) -> None:
    """Sleeps `sleep` seconds and swallows every cancellation meanwhile (the handler bug the
    worker must survive): it ends when its time is up, never earlier."""
    row_id = await _start(ctx)
    clock = asyncio.get_running_loop()
    end = clock.time() + params.sleep
    while (left := end - clock.time()) > 0:
        try:
            await asyncio.sleep(left)
        except asyncio.CancelledError:
            pass
    await _finish(ctx, row_id)


# -- many hosts (test_many_hosts.py): which host ran which claim ----------------------------

HOST_RUN_LOG_DDL = """
CREATE TABLE IF NOT EXISTS e2e_host_run_log (
    id          bigserial   PRIMARY KEY,
    task_id     bigint      NOT NULL,
    host        text        NOT NULL,
    pid         integer     NOT NULL,
    attempt     integer     NOT NULL,
    lease_token bigint      NOT NULL,
    started_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
"""
# The host a worker runs on, as the test that started it named it.
HOST = os.environ.get("E2E_HOST", "")


@flow("e2e_hosts", RunParams, processes=1, concurrency=100, max_attempts=5, timeout_s=60)
async def on_host(params: RunParams, ctx: TaskContext) -> dict[str, Any]:
    """Records the claim it runs (host, attempt, lease token) in e2e_host_run_log, sleeps
    `sleep` seconds and returns the same: the task row's data then names the claim whose ack
    completed it."""
    await ctx.pool.execute(
        "INSERT INTO e2e_host_run_log (task_id, host, pid, attempt, lease_token) "
        "VALUES ($1, $2, $3, $4, $5)", ctx.task_id, HOST, os.getpid(), ctx.attempt,
        ctx.lease_token)
    await asyncio.sleep(params.sleep)
    return {"host": HOST, "lease_token": ctx.lease_token}


# -- checks on the run log, used by the tests -------------------------------------------------

def overlapping_runs(rows: Sequence[Mapping[str, Any]],
                     ended_by_kill: Mapping[int, datetime]) -> list[tuple[Any, ...]]:
    """Pairs of runs of the same task whose [started_at, finished_at] intervals overlap.

    A run without finished_at must belong to a process killed at a known time, which then
    bounds it; an unfinished run in a live process is itself reported.
    """
    runs: dict[int, list[tuple[datetime, datetime, int, int]]] = defaultdict(list)
    bad: list[tuple[Any, ...]] = []
    for row in rows:
        end = row["finished_at"] or ended_by_kill.get(row["pid"])
        if end is None:
            bad.append(("unfinished run in a live process", dict(row)))
            continue
        runs[row["task_id"]].append((row["started_at"], end, row["pid"], row["attempt"]))
    for task_id, intervals in runs.items():
        for a, b in combinations(intervals, 2):
            if a[0] < b[1] and b[0] < a[1]:
                bad.append((task_id, a, b))
    return bad


class EchoSource:
    """A source answering from the task's params, logging each call (the metrics and logs tests
    read its calls in /metrics and its line in the worker's log)."""

    name = "e2e_echo"
    capabilities = frozenset({"echo"})
    needs_credential = False

    async def call(self, capability: str, **params: Any) -> Any:
        logging.getLogger("tests.e2e.flows").info("e2e: echo source called")
        if params.get("fail"):
            raise Permanent("e2e: the echo source refuses")
        return params


@flow("e2e_logged", RunParams, processes=1, concurrency=5, max_attempts=2, timeout_s=60)
async def logged(params: RunParams, ctx: TaskContext) -> Any:
    """Logs a line, calls the echo source through a director (FAILED when `fail` is set)."""
    ctx.log.info("e2e: logged task runs")
    fetched = await Director([EchoSource()]).fetch("echo", **(params.model_extra or {}))
    return fetched.value
