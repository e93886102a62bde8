"""Shared by the end-to-end tests: fresh databases with the run log, process launchers, and
waiting for the queue to reach a state."""

import asyncio
import json
import time
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
from tests.conftest import fresh_database
from tests.e2e.flows import RUN_LOG_DDL
from tests.e2e.procs import (
    BeatProcess,
    Launcher,
)

FINISHED = ("COMPLETE", "FAILED", "TIMEOUT", "EXPIRED", "CANCELLED")


# -- fixtures (used through tests/e2e/conftest.py) ----------------------------------------

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


@pytest.fixture(scope="module")
def launcher(database_url: str, request: pytest.FixtureRequest,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[Launcher]:
    """The module's launcher over its database (tests/conftest.py), stopping what it started
    when the module is done; its processes' logs in a directory named after the module."""
    name = request.module.__name__.rpartition(".")[2].removeprefix("test_")
    launcher = Launcher(database_url, tmp_path_factory.mktemp(f"{name}-e2e"))
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


class TaskApi:
    """Tasks through a running server's HTTP API (`api`): enqueue a flow's task, wait for it
    to finish, or both."""

    api: httpx.AsyncClient

    async def enqueue(self, flow: str, params: dict[str, Any]) -> int:
        answer = await self.api.post(f"/scrape_request_log/flow/{flow}", json={"params": params})
        assert answer.status_code == 201, answer.text
        return int(answer.json()["id"])

    async def finished(self, task_id: int, timeout: float = 60) -> dict[str, Any]:
        for _ in range(int(timeout / 0.1)):
            task = (await self.api.get(f"/scrape_request_log/flow/{task_id}")).json()
            if task["status"] not in ("PENDING", "PROCESSING"):
                return dict(task)
            await asyncio.sleep(0.1)
        raise AssertionError(f"task {task_id} still {task['status']} after {timeout}s")

    async def run(self, flow: str, params: dict[str, Any]) -> dict[str, Any]:
        return await self.finished(await self.enqueue(flow, params))
