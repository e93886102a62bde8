"""`beat bench hosts`: the drain rate of N no-op tasks with 1, 2 and 3 worker hosts, each in its
own network namespace (bench/netns.py), all against the one PostgreSQL, in the same run.

Each host is a real `beat worker --flows noop` (with its maintenance child, as a host runs it)
reaching the database through its own forwarder, so the run also counts the connections each
host really opens. All hosts share this machine's cores: the rates say what coordinating
through one database costs as hosts are added, not what more machines would add.
"""

import asyncio
import json
import statistics
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import asyncpg

from bench.netns import Host, HostNetwork, require_root, service_address
from bench.queue_bench import drain, schedule, wait_for_listeners
from bench.scratch import beat_process, scratch_database
from core import db
from core.config import Settings

Line = dict[str, Any]
SAMPLE_S = 0.05  # how often open connections are counted during a drain


def run_hosts_bench(settings: Settings, tasks: int, host_counts: list[int], processes: int,
                    repeat: int = 1) -> Line:
    """One line: per number of hosts, the median drain rate of `repeat` runs (the host counts
    alternating order each round), and the most connections to PostgreSQL seen during them."""
    assert settings.database_url
    require_root("beat bench hosts")
    if repeat < 1 or not host_counts or min(host_counts) < 1:
        raise ValueError("repeat and every host count must be at least 1")
    runs: dict[int, list[Line]] = {n: [] for n in host_counts}
    with scratch_database(settings.database_url) as url, \
            HostNetwork(max(host_counts), [service_address(url)]) as net:
        for count in schedule(host_counts, repeat):
            runs[count].append(_bench_hosts(url, net.hosts[:count], tasks, processes))
    line: Line = _rounded(_summary(tasks, processes, runs))
    return line


def _rounded(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    return round(value, 4) if isinstance(value, float) else value


def _summary(tasks: int, processes: int, runs: dict[int, list[Line]]) -> Line:
    seconds = {n: statistics.median(r["seconds"] for r in rs) for n, rs in runs.items()}
    rates = {n: tasks / s for n, s in seconds.items()}
    line: Line = {"system": "beat-hosts", "tasks": tasks, "processes_per_host": processes}
    line["tasks_per_s"] = {str(n): rate for n, rate in rates.items()}
    line["seconds"] = {str(n): s for n, s in seconds.items()}
    line["runs"] = {str(n): [round(r["tasks_per_s"], 1) for r in rs] for n, rs in runs.items()}
    line["pg_connections"] = {str(n): max(r["pg_connections"] for r in rs)
                              for n, rs in runs.items()}
    line["pg_connections_per_host"] = {str(n): max(r["pg_connections_per_host"] for r in rs)
                                       for n, rs in runs.items()}
    if 1 in rates:
        line["speedup_over_1_host"] = {str(n): rate / rates[1] for n, rate in rates.items()}
    return line


@contextmanager
def _workers(url: str, hosts: list[Host], processes: int) -> Iterator[None]:
    overrides = json.dumps({"noop": {"processes": processes}})
    with ExitStack() as stack:
        for host in hosts:
            stack.enter_context(beat_process(
                "worker", "--flows", "noop", prefix=host.command([]), DATABASE_URL=host.url(url),
                FLOW_OVERRIDES=overrides))
        yield


def _bench_hosts(url: str, hosts: list[Host], tasks: int, processes: int) -> Line:
    asyncio.run(_reset(url))
    with _workers(url, hosts, processes):
        return asyncio.run(_measure(url, hosts, tasks, processes))


async def _reset(url: str) -> None:
    conn = await asyncpg.connect(db.asyncpg_dsn(url))
    try:
        await conn.execute("TRUNCATE scrape_request_log, event_outbox")
    finally:
        await conn.close()


async def _measure(url: str, hosts: list[Host], tasks: int, processes: int) -> Line:
    pool = await db.create_pool(url, max_size=2)
    peaks = {host.name: 0 for host in hosts}
    sampler = asyncio.create_task(_count_connections(hosts, service_address(url), peaks))
    try:
        await wait_for_listeners(pool, len(hosts) * processes)
        seconds = await drain(pool, tasks)
    finally:
        sampler.cancel()
        await pool.close()
    return {"hosts": len(hosts), "seconds": seconds, "tasks_per_s": tasks / seconds,
            "pg_connections": sum(peaks.values()), "pg_connections_per_host": max(peaks.values())}


async def _count_connections(hosts: list[Host], database: tuple[str, int],
                             peaks: dict[str, int]) -> None:
    """The most connections each host held to PostgreSQL at once, sampled."""
    upstream = f"{database[0]}:{database[1]}"
    while True:
        for host in hosts:
            peaks[host.name] = max(peaks[host.name], host.connections()[upstream])
        await asyncio.sleep(SAMPLE_S)
