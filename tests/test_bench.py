"""Benchmarks drain every job against the real local PostgreSQL: Beat's own (through the real
worker processes) and its peers (pgqueuer, procrastinate, the bare SKIP LOCKED ceiling)."""

import asyncpg
import pytest

from bench.bare import bench_bare
from bench.peers import PEERS, Result, bench_pgqueuer, bench_procrastinate
from bench.queue_bench import run_queue_bench, schedule, summary
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
    large-table rerun) and a peer line, each the median of two runs on the scratch database."""
    lines = run_queue_bench(Settings(database_url=database_url), jobs=2000, peers=["bare"],
                            processes=1, finished_rows=5000, repeat=2)
    assert [line["system"] for line in lines] == ["beat", "beat", "bare"]
    first, large, bare = lines
    assert first["jobs"] == 2000 and first["jobs_per_s"] > 0
    assert "finished_rows" not in first and large["finished_rows"] == 5000
    assert 0 < first["latency_p50_ms"] <= first["latency_p95_ms"]
    assert all(line["jobs"] == 2000 and len(line["runs"]) == 2 for line in lines)
    for line in lines:
        assert min(line["runs"]) * 0.999 <= line["jobs_per_s"] <= max(line["runs"]) * 1.001
    assert "beat_speedup" not in first
    assert len(bare["beat_speedup_by_round"]) == 2 and bare["beat_speedup"] > 0


def test_queue_bench_rounds_alternate_so_drift_hits_every_system() -> None:
    assert schedule(["beat", "pgqueuer", "bare"], 3) == [
        "beat", "pgqueuer", "bare", "bare", "pgqueuer", "beat", "beat", "pgqueuer", "bare"]


def test_queue_bench_line_is_the_median_run_with_ratios_per_round() -> None:
    def run(system: str, seconds: float, p50: float | None = None) -> Result:
        line: Result = {"system": system, "jobs": 1000, "seconds": seconds,
                        "jobs_per_s": 1000 / seconds}
        if p50 is not None:
            line.update(latency_p50_ms=p50, latency_p95_ms=2 * p50)
        return line

    beat = [run("beat", 0.1, 1.0), run("beat", 0.3, 5.0), run("beat", 0.2, 2.0)]
    peer = [run("pgqueuer", 0.4), run("pgqueuer", 0.9), run("pgqueuer", 0.8)]
    beat_line, peer_line = summary(beat, beat), summary(peer, beat)
    assert (beat_line["seconds"], beat_line["jobs_per_s"]) == (0.2, 5000)
    assert (beat_line["latency_p50_ms"], beat_line["latency_p95_ms"]) == (2.0, 4.0)
    assert beat_line["runs"] == [10000, 3333.3, 5000]
    assert peer_line["seconds"] == 0.8 and "latency_p50_ms" not in peer_line
    assert peer_line["beat_speedup"] == pytest.approx(4.0)
    assert peer_line["beat_speedup_by_round"] == [4.0, 3.0, 4.0]


def test_queue_bench_refuses_zero_repeats(database_url: str) -> None:
    with pytest.raises(ValueError, match="repeat"):
        run_queue_bench(Settings(database_url=database_url), 10, [], 1, repeat=0)


def test_unknown_peer_is_refused(database_url: str) -> None:
    with pytest.raises(ValueError, match="unknown peers: nosuch"):
        run_queue_bench(Settings(database_url=database_url), 10, ["nosuch"], 1)


def test_scrape_bench_refreshes_every_item_through_server_and_workers(database_url: str) -> None:
    from bench.scrape_bench import run_scrape_bench

    beat, bare = run_scrape_bench(Settings(database_url=database_url), items=300, processes=1,
                                  latency_ms=5, repeat=2)
    assert (beat["system"], bare["system"]) == ("beat", "bare")
    assert beat["items"] == bare["items"] == 300
    assert bare["upstream_calls"] == 6 and bare["quota_units"] == 6
    assert beat["quota_units"] <= 10, "single-video tasks must share 50-id calls"
    assert beat["items_per_s"] > 0 and beat["concurrency"] == 1
    assert len(beat["runs"]) == len(bare["runs"]) == 2
    for line in (beat, bare):
        assert any(line["items_per_s"] == pytest.approx(run, abs=0.1) for run in line["runs"])
    assert beat["ratio_to_bare"] == pytest.approx(beat["items_per_s"] / bare["items_per_s"],
                                                  rel=1e-3)
    assert len(beat["ratio_to_bare_by_round"]) == 2


def test_queue_bench_runs_without_a_secret_key_of_the_users(database_url: str,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    """The bench's workers need a key with a database server; a user who keeps no credentials
    has none, and the scratch database holds none worth reading."""
    monkeypatch.delenv("BEAT_SECRET_KEY", raising=False)
    [line] = run_queue_bench(Settings(database_url=database_url), jobs=300, peers=[],
                             processes=1, finished_rows=0, repeat=1)
    assert line["system"] == "beat" and line["jobs"] == 300 and line["jobs_per_s"] > 0


def test_links_bench_reports_every_link_through_server_and_workers(database_url: str) -> None:
    """`beat bench links` on a small scale: every URL (a quarter per platform, a tenth of them
    repeats) comes back ok, and the sandbox counted calls on all four platforms."""
    from bench.links_bench import bench_urls, run_links_bench

    urls, unique = bench_urls(40)
    assert len(urls) == 40 and unique == 36 and len(set(urls)) <= 40
    [line] = run_links_bench(Settings(database_url=database_url), urls=40, processes=1,
                             latency_ms=0, repeat=1)
    assert set(line) == {"system", "urls", "unique", "seconds", "links_per_s", "ok",
                         "upstream_calls", "upstream_calls_per_link", "by_platform",
                         "processes", "latency_ms", "runs", "with_image", "thumbnails_stored",
                         "thumbnails_failed"}
    assert (line["system"], line["urls"], line["unique"]) == ("beat", 40, 36)
    assert line["ok"] == 40, "every input row, repeats included, is ok"
    # Every post with an image (not the text-only ones) has it stored, once.
    assert 20 < line["with_image"] <= 36
    assert (line["thumbnails_stored"], line["thumbnails_failed"]) == (line["with_image"], 0)
    assert line["links_per_s"] == pytest.approx(40 / line["seconds"], rel=1e-3)
    assert set(line["by_platform"]) == {"youtube", "instagram", "facebook", "x"}
    assert all(calls > 0 for calls in line["by_platform"].values())
    assert line["upstream_calls"] == sum(line["by_platform"].values())
    assert 0 < line["upstream_calls_per_link"] == pytest.approx(line["upstream_calls"] / 40,
                                                                 abs=1e-3)
    # A tenth repeats items in another URL form: fewer calls than links on the batched APIs.
    assert line["by_platform"]["youtube"] < 10 and len(line["runs"]) == 1
