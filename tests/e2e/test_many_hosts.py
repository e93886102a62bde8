"""Many worker hosts against one PostgreSQL, one of them cut off the network mid-run.

Three real `beat worker` hosts, each in its own network namespace with its own host name,
reach PostgreSQL and Redis (on 127.0.0.1 only) through forwarders on their veth's root-side
address (bench/netns.py). 20,000 tasks run across them, and mid-run the link of the host that
leads maintenance goes down: its connections hang, nothing is closed. The server ends its
silent leader session and another host takes the lead; the cut host's leases expire, the new
leader reaps its tasks, and the other two hosts finish them. Then the link comes back: the
host's late acks are refused and logged and change nothing, and it claims new tasks again.

Needs root (network namespaces); run as anyone else it fails saying so, it never skips.
"""

import asyncio
import json
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any

import asyncpg
import pytest

from bench.netns import Host, HostNetwork, NotRoot, require_root, service_address
from tests.conftest import REDIS_URL
from tests.e2e.flows import HOST_RUN_LOG_DDL
from tests.e2e.procs import BeatProcess, Launcher
from tests.e2e.support import enqueue, overrides, status_counts

TASKS = 20_000
REJOIN_TASKS = 2_000
PROCESSES = 2  # worker processes per host
SETTINGS = {
    # A live host renews its leases every third of one: 4 s leave a loaded machine room to
    # renew every one of them in time, so that only the cut host loses any.
    "QUEUE_LEASE_SECONDS": 4, "QUEUE_MAINTENANCE_INTERVAL": 0.25, "QUEUE_POLL_INTERVAL": 0.5,
    "WORKER_SHUTDOWN_GRACE": 2,
    "FLOW_OVERRIDES": overrides(e2e_hosts={"processes": PROCESSES, "concurrency": 100}),
}
FINISHED_EVENTS = """
SELECT (changes -> 'id' ->> i)::bigint AS id, changes -> 'status' ->> i AS status
  FROM event_outbox, generate_series(0, jsonb_array_length(changes -> 'id') - 1) AS i
 WHERE type = 'task.finished'
"""


@pytest.fixture
def network(e2e_db: str) -> Iterator[HostNetwork]:
    try:
        require_root("the many-hosts test")
    except NotRoot as exc:
        pytest.fail(str(exc), pytrace=False)
    upstreams = [service_address(e2e_db), service_address(REDIS_URL)]
    with HostNetwork(3, upstreams) as net:
        yield net


def start_host(beat: Launcher, host: Host, e2e_db: str) -> BeatProcess:
    env = beat.env(host.url(e2e_db), REDIS_URL=host.url(REDIS_URL), E2E_HOST=host.namespace,
                   **SETTINGS)
    return beat.spawn(host.name, ["worker", "--flows", "e2e_hosts"], env,
                      prefix=host.command([]))


async def wait(check: Any, timeout: float, what: str, *procs: BeatProcess) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := await check()):
        for proc in procs:
            if not proc.alive():
                raise proc.fail(f"exited with {proc.returncode} while waiting for {what}")
        if time.monotonic() > deadline:
            raise (procs[0].fail(f"no {what} after {timeout}s") if procs
                   else AssertionError(f"no {what} after {timeout}s"))
        await asyncio.sleep(0.05)
    return result


async def snapshot(pool: asyncpg.Pool, ids: list[int]) -> dict[int, tuple[Any, ...]]:
    rows = await pool.fetch(
        "SELECT id, status, data, lease_token, retry_count, scraped_at, worker_id, lease_until "
        "FROM scrape_request_log WHERE id = ANY($1::bigint[])", ids)
    return {r["id"]: tuple(r) for r in rows}


async def test_a_host_cut_off_mid_run_loses_nothing_is_fenced_and_rejoins(
        network: HostNetwork, beat: Launcher, e2e_db: str, pool: asyncpg.Pool) -> None:
    await pool.execute(HOST_RUN_LOG_DDL)
    first, second, cut = network.hosts
    procs: list[BeatProcess] = []
    try:
        # The host to be cut off starts first and leads maintenance (the reaper).
        procs.append(start_host(beat, cut, e2e_db))
        await procs[0].wait_log("this host leads queue maintenance", timeout=30)
        procs += [start_host(beat, host, e2e_db) for host in (first, second)]
        cut_proc, others = procs[0], procs[1:]
        for proc in procs:
            await proc.wait_log(r"worker \S+ started: flows", PROCESSES, timeout=30)

        ids = await enqueue(pool, "e2e_hosts", [{"sleep": 0.02, "i": i} for i in range(TASKS)])
        started = time.monotonic()

        async def cut_host_busy() -> bool:
            done = (await status_counts(pool)).get("COMPLETE", 0)
            ran = await pool.fetchval("SELECT count(*) FROM e2e_host_run_log WHERE host = $1",
                                      cut.namespace)
            return done >= TASKS // 4 and ran >= 500

        await wait(cut_host_busy, 60, "quarter of the tasks done", *procs)
        database = ":".join(map(str, service_address(e2e_db)))
        connections = {h.name: h.connections()[database] for h in network.hosts}
        cut.cut()
        before_cut = await status_counts(pool)
        assert before_cut.get("COMPLETE", 0) < TASKS, "the drain ended before the cut"

        async def all_complete() -> bool:
            return (await status_counts(pool)).get("COMPLETE", 0) == TASKS

        await wait(all_complete, 60, f"all {TASKS} tasks complete", *procs)
        drained_s = time.monotonic() - started
        assert await status_counts(pool) == {"COMPLETE": TASKS}
        assert cut_proc.alive(), "the cut host's supervisor must ride out the outage"

        # Another host took the lead; its leases expired and the new leader reaped them,
        # naming the host's workers.
        leaders = [p for p in others if "this host leads queue maintenance" in p.log()]
        assert len(leaders) == 1 and "reaped" in leaders[0].log(), [p.name for p in leaders]
        reaped = await pool.fetchval(
            "SELECT count(*) FROM scrape_request_log WHERE error_kind = 'lease_expired' "
            "AND last_error LIKE $1", f"lease expired: worker {cut.namespace}:%")
        assert reaped > 0, "no task of the cut host was reaped"

        await check_each_task_completed_once(pool, ids, cut.namespace)
        before = await snapshot(pool, ids)
        events_before = await pool.fetchval("SELECT count(*) FROM event_outbox")

        # Back on the network: its late acks are refused (and logged), and change nothing.
        cut.restore()
        refused = await cut_proc.wait_log(r"(\d+) acks refused, their leases are gone",
                                          timeout=45)
        assert sum(map(int, refused)) > 0
        assert "lost its lease" in cut_proc.log()  # it stopped the runs it could not renew
        await asyncio.sleep(1)  # any ack still on its way lands meanwhile
        assert await snapshot(pool, ids) == before
        assert await pool.fetchval("SELECT count(*) FROM event_outbox") == events_before

        # ... and it rejoins: it claims and completes some of a new batch.
        more = await enqueue(pool, "e2e_hosts",
                             [{"sleep": 0.05, "j": j} for j in range(REJOIN_TASKS)])

        async def rejoined() -> bool:
            return (await status_counts(pool)).get("COMPLETE", 0) == TASKS + REJOIN_TASKS

        await wait(rejoined, 60, "the second batch complete", *procs)
        by_host = Counter(r["host"] for r in await pool.fetch(
            "SELECT data ->> 'host' AS host FROM scrape_request_log WHERE id = ANY($1)", more))
        assert by_host[cut.namespace] > 0, by_host
        await check_each_task_completed_once(pool, ids + more, cut.namespace)
        print(json.dumps({"tasks": TASKS, "drain_s": round(drained_s, 2),
                          "reaped_from_cut_host": reaped, "late_acks_refused": sum(
                              map(int, refused)),
                          "pg_connections_per_host": connections, "rejoin_batch": by_host}))
    finally:
        for proc in procs:
            proc.stop()


async def check_each_task_completed_once(pool: asyncpg.Pool, ids: list[int],
                                         cut_host: str) -> None:
    """Every task COMPLETE, by its last claim (the row's data names the claim whose ack wrote
    it), with one task.finished event; every other run was one the cut host lost."""
    rows = await pool.fetch("SELECT id, status, data, lease_token, worker_id, lease_until "
                            "FROM scrape_request_log WHERE id = ANY($1::bigint[])", ids)
    assert len(rows) == len(ids)
    assert {(r["status"], r["worker_id"], r["lease_until"]) for r in rows} == {
        ("COMPLETE", None, None)}
    wrong = [dict(r) for r in rows if r["data"]["lease_token"] != r["lease_token"]]
    assert wrong == [], f"completed by an earlier claim than the last: {wrong[:5]}"

    completions = Counter(r["id"] for r in await pool.fetch(FINISHED_EVENTS)
                          if r["status"] == "COMPLETE")
    assert {i: n for i, n in completions.items() if n != 1} == {}
    assert set(completions) >= set(ids)

    completed_by = {r["id"]: (r["data"]["host"], r["lease_token"]) for r in rows}
    runs: dict[int, list[asyncpg.Record]] = defaultdict(list)
    for run in await pool.fetch("SELECT * FROM e2e_host_run_log WHERE task_id = ANY($1)", ids):
        runs[run["task_id"]].append(run)
    assert set(runs) == set(ids), "a task has no run"
    lost = []
    for task_id, task_runs in runs.items():
        winner = completed_by[task_id]
        assert sum((r["host"], r["lease_token"]) == winner for r in task_runs) == 1, task_runs
        lost += [r for r in task_runs if (r["host"], r["lease_token"]) != winner]
    assert {r["host"] for r in lost} <= {cut_host}, "only the cut host may have lost claims"
    hosts = Counter(host for host, _ in completed_by.values())
    assert len(hosts) == 3, f"every host should have completed tasks: {hosts}"
