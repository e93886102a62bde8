"""Peer job-queue benchmarks (pgqueuer, procrastinate) for ``beat bench queue --against``.

Each peer enqueues N no-op jobs in bulk, then only the drain by its own worker is timed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from typing import Any

import asyncpg
import psycopg
from pgqueuer import Job, QueueManager
from pgqueuer.adapters.persistence.qb import (
    QueryBuilderEnvironment,
    QueryQueueBuilder,
    QuerySchedulerBuilder,
)
from pgqueuer.db import AsyncpgDriver
from pgqueuer.domain.settings import DBSettings, Durability
from pgqueuer.domain.types import Channel, QueueExecutionMode
from pgqueuer.queries import Queries
from procrastinate import App, PsycopgConnector

from bench.bare import bench_bare

PGQ_SCHEMA = "bench_pgqueuer"
PGQ_CHANNEL = "bench_pgqueuer_events"
PGQ_ENTRYPOINT = "bench_noop"
PGQ_BATCH_SIZE = 200
PROC_SCHEMA = "bench_procrastinate"
PROC_QUEUE = "bench"
PROC_CONCURRENCY = 10
ENQUEUE_CHUNK = 10_000
STOP_GRACE_S = 10.0

Result = dict[str, Any]


def drain_deadline(jobs: int) -> float:
    """Seconds a drain may take before the run is declared failed."""
    return max(60.0, jobs / 100)


def result(system: str, jobs: int, seconds: float) -> Result:
    return {"system": system, "jobs": jobs, "seconds": seconds, "jobs_per_s": jobs / seconds}


def chunks(total: int, size: int = ENQUEUE_CHUNK) -> Iterator[int]:
    """Sizes of consecutive bulk-enqueue batches adding up to *total*."""
    for start in range(0, total, size):
        yield min(size, total - start)


@contextlib.contextmanager
def quiet_logs(*names: str) -> Iterator[None]:
    """Raise the given loggers to WARNING for the duration (per-job INFO/DEBUG costs time)."""
    loggers = [logging.getLogger(name) for name in names]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(max(lg.level, logging.WARNING))
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


async def stop_worker(task: asyncio.Future[None], stop: Callable[[], object]) -> None:
    """Ask the worker to stop, cancel it if it lingers; never waits unboundedly."""
    stop()
    done, _ = await asyncio.wait({task}, timeout=STOP_GRACE_S)
    if not done:
        task.cancel()
        await asyncio.wait({task}, timeout=STOP_GRACE_S)
    if task.done() and not task.cancelled():
        task.exception()  # mark retrieved; the caller reports the timeout instead


async def timed_drain(
    system: str, run: Awaitable[None], stop: Callable[[], object], deadline: float
) -> float:
    """Run a worker until it exits; stop it and raise RuntimeError past *deadline* seconds."""
    start = time.perf_counter()
    task = asyncio.ensure_future(run)
    try:
        await asyncio.wait({task}, timeout=deadline)
    except BaseException:  # cancelled from outside: do not leave the worker running
        await stop_worker(task, stop)
        raise
    if not task.done():
        await stop_worker(task, stop)
        raise RuntimeError(f"{system}: drain did not finish within {deadline:g}s")
    task.result()
    return time.perf_counter() - start


def require_empty(system: str, remaining: int) -> None:
    if remaining:
        raise RuntimeError(f"{system}: {remaining} jobs still queued after the drain")


# --- pgqueuer ---------------------------------------------------------------------------


def pgq_settings() -> DBSettings:
    """Objects in their own schema and NOTIFY channel; explicit values so PGQUEUER_* env is moot."""
    return DBSettings(
        prefix="",
        db_schema=PGQ_SCHEMA,
        channel=Channel(PGQ_CHANNEL),
        durability=Durability.durable,
    )


def pgq_queries(connection: asyncpg.Connection, settings: DBSettings) -> Queries:
    return Queries(
        AsyncpgDriver(connection),
        qbe=QueryBuilderEnvironment(settings),
        qbq=QueryQueueBuilder(settings),
        qbs=QuerySchedulerBuilder(settings),
    )


async def pgq_install(connection: asyncpg.Connection, queries: Queries) -> None:
    await connection.execute(f"DROP SCHEMA IF EXISTS {PGQ_SCHEMA} CASCADE")
    await queries.install(create_schema=True)


async def pgq_enqueue(queries: Queries, jobs: int) -> None:
    for size in chunks(jobs):
        await queries.enqueue([PGQ_ENTRYPOINT] * size, [None] * size, [0] * size)
    await queries.driver.execute(f"ANALYZE {PGQ_SCHEMA}.pgqueuer")


async def pgq_drain(dsn: str, settings: DBSettings, jobs: int) -> float:
    """Time a drain-mode QueueManager on its own connection; it exits once the queue is empty."""
    connection = await asyncpg.connect(dsn)
    try:
        qm = QueueManager(pgq_queries(connection, settings), Channel(PGQ_CHANNEL))

        @qm.entrypoint(PGQ_ENTRYPOINT)
        async def noop(job: Job) -> None:
            return None

        run = qm.run(batch_size=PGQ_BATCH_SIZE, mode=QueueExecutionMode.drain)
        return await timed_drain("pgqueuer", run, qm.shutdown.set, drain_deadline(jobs))
    finally:
        await connection.close()


async def pgq_remaining(connection: asyncpg.Connection) -> int:
    return int(await connection.fetchval(f"SELECT count(*) FROM {PGQ_SCHEMA}.pgqueuer"))


async def bench_pgqueuer(dsn: str, jobs: int) -> Result:
    """Drain *jobs* no-op pgqueuer jobs with one drain-mode QueueManager in this process.

    Schema ``bench_pgqueuer`` is dropped and reinstalled first (durable tables, pgqueuer's
    default). Jobs are bulk-enqueued with list ``Queries.enqueue`` and the table analyzed;
    only ``QueueManager.run(mode=drain)`` is timed (asyncpg driver, batch_size 200, no
    concurrency cap). One process on purpose: each peer gets a single consumer process,
    Beat's own runtime is measured separately.
    """
    settings = pgq_settings()
    connection = await asyncpg.connect(dsn)
    try:
        queries = pgq_queries(connection, settings)
        await pgq_install(connection, queries)
        await pgq_enqueue(queries, jobs)
        with quiet_logs("pgqueuer"):
            seconds = await pgq_drain(dsn, settings, jobs)
        require_empty("pgqueuer", await pgq_remaining(connection))
    finally:
        await connection.close()
    return result("pgqueuer", jobs, seconds)


# --- procrastinate ----------------------------------------------------------------------


def proc_app(dsn: str) -> App:
    """App whose pooled connections all use search_path=bench_procrastinate."""
    connector = PsycopgConnector(
        conninfo=dsn,
        kwargs={"options": f"-c search_path={PROC_SCHEMA}"},
        min_size=PROC_CONCURRENCY + 2,
        max_size=PROC_CONCURRENCY + 2,
    )
    app = App(connector=connector)

    @app.task(name="bench_noop", queue=PROC_QUEUE)
    async def bench_noop() -> None:
        return None

    return app


async def proc_reset_schema(dsn: str) -> None:
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as connection:
        await connection.execute(f"DROP SCHEMA IF EXISTS {PROC_SCHEMA} CASCADE")
        await connection.execute(f"CREATE SCHEMA {PROC_SCHEMA}")


async def proc_enqueue(app: App, jobs: int) -> None:
    task = app.tasks["bench_noop"]
    for size in chunks(jobs):
        await task.batch_defer_async(*({} for _ in range(size)))
    await app.connector.execute_query_async(f"ANALYZE {PROC_SCHEMA}.procrastinate_jobs")


async def proc_drain(app: App, jobs: int) -> float:
    """Time ``run_worker_async(wait=False)``: it returns once no job is left and all finished."""
    run = app.run_worker_async(
        queues=[PROC_QUEUE],
        concurrency=PROC_CONCURRENCY,
        wait=False,
        listen_notify=False,
        install_signal_handlers=False,
    )
    task = asyncio.ensure_future(run)
    return await timed_drain("procrastinate", task, task.cancel, drain_deadline(jobs))


async def proc_remaining(app: App) -> int:
    rows = await app.connector.execute_query_all_async(
        f"SELECT count(*) AS n FROM {PROC_SCHEMA}.procrastinate_jobs"
        " WHERE status IN ('todo', 'doing')"
    )
    return int(rows[0]["n"])


async def bench_procrastinate(dsn: str, jobs: int) -> Result:
    """Drain *jobs* no-op procrastinate jobs with one worker (concurrency 10) in this process.

    Schema ``bench_procrastinate`` is dropped, recreated and filled with procrastinate's own
    schema through connections whose search_path points at it. Jobs are bulk-deferred with
    ``batch_defer_async`` and the table analyzed; only ``App.run_worker_async(wait=False)``
    is timed. One process on purpose: each peer gets a single worker process, Beat's own
    runtime is measured separately.
    """
    await proc_reset_schema(dsn)
    app = proc_app(dsn)
    async with app.open_async():
        await app.schema_manager.apply_schema_async()
        await proc_enqueue(app, jobs)
        with quiet_logs("procrastinate", "psycopg"):
            seconds = await proc_drain(app, jobs)
        require_empty("procrastinate", await proc_remaining(app))
    return result("procrastinate", jobs, seconds)


PEERS: dict[str, Callable[[str, int], Coroutine[Any, Any, Result]]] = {
    "bare": bench_bare,
    "pgqueuer": bench_pgqueuer,
    "procrastinate": bench_procrastinate,
}
