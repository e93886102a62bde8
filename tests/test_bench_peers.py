"""Peer benchmarks drain every job against the real local PostgreSQL."""

from __future__ import annotations

import os

import asyncpg
import pytest

from core.bench.peers import PEERS, Result, bench_pgqueuer, bench_procrastinate

DSN = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


async def fetch_count(query: str) -> int:
    connection = await asyncpg.connect(DSN)
    try:
        return int(await connection.fetchval(query))
    finally:
        await connection.close()


def assert_result(result: Result, system: str, jobs: int) -> None:
    assert result["system"] == system
    assert result["jobs"] == jobs
    assert result["seconds"] > 0
    assert result["jobs_per_s"] == pytest.approx(jobs / result["seconds"])


def test_peers_registry() -> None:
    assert PEERS == {"pgqueuer": bench_pgqueuer, "procrastinate": bench_procrastinate}


@pytest.mark.asyncio
async def test_bench_pgqueuer_drains_all_jobs() -> None:
    jobs = 300
    assert_result(await bench_pgqueuer(DSN, jobs), "pgqueuer", jobs)
    assert await fetch_count("SELECT count(*) FROM bench_pgqueuer.pgqueuer") == 0
    done = "SELECT count(*) FROM bench_pgqueuer.pgqueuer_log WHERE status = 'successful'"
    assert await fetch_count(done) == jobs


@pytest.mark.asyncio
async def test_bench_procrastinate_drains_all_jobs() -> None:
    jobs = 100
    assert_result(await bench_procrastinate(DSN, jobs), "procrastinate", jobs)
    table = "bench_procrastinate.procrastinate_jobs"
    pending = f"SELECT count(*) FROM {table} WHERE status IN ('todo', 'doing')"
    assert await fetch_count(pending) == 0
    done = f"SELECT count(*) FROM {table} WHERE status = 'succeeded'"
    assert await fetch_count(done) == jobs
