"""Benchmarks drain every job against the real local PostgreSQL: Beat's own (through the real
worker processes) and its peers (pgqueuer, procrastinate, the bare SKIP LOCKED ceiling)."""

import asyncpg
import pytest

from core.bench.bare import bench_bare
from core.bench.peers import PEERS, Result, bench_pgqueuer, bench_procrastinate
from core.bench.queue_bench import run_queue_bench
from core.config import Settings


async def fetch_count(dsn: str, query: str) -> int:
    connection = await asyncpg.connect(dsn)
    try:
        return int(await connection.fetchval(query))
    finally:
        await connection.close()


def assert_result(result: Result, system: str, jobs: int) -> None:
    assert result["system"] == system
    assert result["jobs"] == jobs
    assert result["seconds"] > 0
    assert result["jobs_per_s"] == pytest.approx(jobs / result["seconds"], rel=1e-3)


def test_peers_registry() -> None:
    assert PEERS == {"bare": bench_bare, "pgqueuer": bench_pgqueuer,
                     "procrastinate": bench_procrastinate}


async def test_bench_pgqueuer_drains_all_jobs(database_url: str) -> None:
    jobs = 300
    assert_result(await bench_pgqueuer(database_url, jobs), "pgqueuer", jobs)
    assert await fetch_count(database_url, "SELECT count(*) FROM bench_pgqueuer.pgqueuer") == 0
    done = "SELECT count(*) FROM bench_pgqueuer.pgqueuer_log WHERE status = 'successful'"
    assert await fetch_count(database_url, done) == jobs


async def test_bench_procrastinate_drains_all_jobs(database_url: str) -> None:
    jobs = 100
    assert_result(await bench_procrastinate(database_url, jobs), "procrastinate", jobs)
    table = "bench_procrastinate.procrastinate_jobs"
    pending = f"SELECT count(*) FROM {table} WHERE status IN ('todo', 'doing')"
    assert await fetch_count(database_url, pending) == 0
    done = f"SELECT count(*) FROM {table} WHERE status = 'succeeded'"
    assert await fetch_count(database_url, done) == jobs


async def test_bench_bare_drains_all_jobs(database_url: str) -> None:
    assert_result(await bench_bare(database_url, 1000), "bare", 1000)


def test_beat_queue_bench_drains_through_real_workers(database_url: str) -> None:
    """The whole `beat bench queue` run on a small scale: Beat's line (with latencies and the
    large-table rerun) and a peer line, measured on the scratch database."""
    lines = run_queue_bench(Settings(database_url=database_url), jobs=2000, peers=["bare"],
                            processes=1, finished_rows=5000)
    assert [line["system"] for line in lines] == ["beat", "beat", "bare"]
    first, large = lines[0], lines[1]
    assert first["jobs"] == 2000 and first["jobs_per_s"] > 0
    assert "finished_rows" not in first and large["finished_rows"] == 5000
    assert 0 < first["latency_p50_ms"] <= first["latency_p95_ms"]
    assert all(line["jobs"] == 2000 for line in lines)


def test_unknown_peer_is_refused(database_url: str) -> None:
    with pytest.raises(ValueError, match="unknown peers: nosuch"):
        run_queue_bench(Settings(database_url=database_url), 10, ["nosuch"], 1)


def test_scrape_bench_refreshes_every_item_through_server_and_workers(database_url: str) -> None:
    from core.bench.scrape_bench import run_scrape_bench

    beat, bare = run_scrape_bench(Settings(database_url=database_url), items=300, processes=1,
                                  latency_ms=5)
    assert (beat["system"], bare["system"]) == ("beat", "bare")
    assert beat["items"] == bare["items"] == 300
    assert bare["upstream_calls"] == 6 and bare["quota_units"] == 6
    assert beat["quota_units"] <= 10, "single-video tasks must share 50-id calls"
    assert beat["items_per_s"] > 0 and beat["concurrency"] == 1
