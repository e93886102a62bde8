"""The queue's contract on real PostgreSQL: dedupe, priority, expiry, claim, ack, leases."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from core.acks import MAX_RETRY_DELAY_S, Ack, AckBuffer, Claim
from core.config import Settings
from core.events import finished_tasks
from core.flows import load_flows
from core.maintenance import Maintenance
from core.queue import NewTask, Queue, Status, sql
from core.worker_runtime import RECYCLE_EXIT_CODE, WorkerRuntime


async def claim(pool: asyncpg.Pool, flow: str = "noop", n: int = 10, lease: float = 30,
                worker: str = "w1") -> list[asyncpg.Record]:
    return await pool.fetch(sql("claim_batch"), flow, n, lease, worker)


async def test_enqueue_returns_existing_task_for_active_key(queue: Queue) -> None:
    first, created = await queue.enqueue(NewTask("noop", {"a": 1}, idempotency_key="k1"))
    again, created_again = await queue.enqueue(NewTask("noop", {"a": 2}, idempotency_key="k1"))
    assert created and not created_again
    assert again.id == first.id and again.params == {"a": 1}


async def test_finished_key_can_be_enqueued_again(queue: Queue, pool: asyncpg.Pool) -> None:
    first, _ = await queue.enqueue(NewTask("noop", {}, idempotency_key="k2"))
    await pool.execute("UPDATE scrape_request_log SET status = 'COMPLETE' WHERE id = $1", first.id)
    second, created = await queue.enqueue(NewTask("noop", {}, idempotency_key="k2"))
    assert created and second.id != first.id


async def test_bulk_enqueue_dedupes_within_batch_and_against_table(queue: Queue) -> None:
    existing, _ = await queue.enqueue(NewTask("noop", {}, idempotency_key="old"))
    results = await queue.enqueue_many([
        NewTask("noop", {"i": 0}), NewTask("noop", {"i": 1}, idempotency_key="old"),
        NewTask("noop", {"i": 2}, idempotency_key="new"),
        NewTask("noop", {"i": 3}, idempotency_key="new"), NewTask("sleep", {"seconds": 0})])
    assert [created for _, created in results] == [True, False, True, False, True]
    assert results[1][0].id == existing.id
    assert results[3][0].id == results[2][0].id
    assert [t.params for t, _ in results] == [{"i": 0}, {}, {"i": 2}, {"i": 2}, {"seconds": 0}]


async def test_claim_takes_higher_priority_first_then_oldest(queue: Queue,
                                                             pool: asyncpg.Pool) -> None:
    low, _ = await queue.enqueue(NewTask("noop", {}, priority=1))
    high, _ = await queue.enqueue(NewTask("noop", {}, priority=5))
    low2, _ = await queue.enqueue(NewTask("noop", {}, priority=1))
    rows = await claim(pool, n=2)
    assert [r["id"] for r in rows] == [high.id, low.id]
    assert (await claim(pool))[0]["id"] == low2.id


async def test_claim_only_takes_its_flow_and_runnable_rows(queue: Queue,
                                                           pool: asyncpg.Pool) -> None:
    await queue.enqueue(NewTask("sleep", {"seconds": 1}))
    later, _ = await queue.enqueue(NewTask("noop", {}))
    await pool.execute("UPDATE scrape_request_log SET run_after = now() + interval '1 hour' "
                       "WHERE id = $1", later.id)
    assert await claim(pool) == []


async def test_expired_task_is_not_run_and_maintenance_marks_it_expired(
        queue: Queue, pool: asyncpg.Pool, settings: Settings) -> None:
    past = datetime.now(UTC) - timedelta(seconds=1)
    task, _ = await queue.enqueue(NewTask("noop", {}, expires_at=past))
    fresh, _ = await queue.enqueue(NewTask("noop", {}))
    assert [r["id"] for r in await claim(pool)] == [fresh.id]
    async with pool.acquire() as conn:
        await Maintenance(settings).tick(conn)
    stored = await queue.get(task.id)
    assert stored is not None and stored.status == Status.EXPIRED and stored.scraped_at
    assert stored.retry_count == 0, "an expired task never ran"


async def test_concurrent_claims_never_share_a_task(queue: Queue, pool: asyncpg.Pool) -> None:
    await queue.enqueue_many([NewTask("noop", {"i": i}) for i in range(500)])
    batches = await asyncio.gather(*(claim(pool, n=40, worker=f"w{i}") for i in range(8)))
    ids = [r["id"] for batch in batches for r in batch]
    assert len(ids) == len(set(ids)) == 320


async def test_acks_complete_retry_and_ignore_stale_attempts(queue: Queue,
                                                             pool: asyncpg.Pool) -> None:
    a, _ = await queue.enqueue(NewTask("noop", {}))
    b, _ = await queue.enqueue(NewTask("noop", {}))
    await claim(pool, worker="w1")
    acks = AckBuffer(pool, "w1", flush_ms=1)
    runner = asyncio.create_task(acks.run())
    acks.add(Ack(a.id, 1, Status.COMPLETE, data={"ok": True}))
    acks.add(Ack(b.id, 1, Status.PENDING, error="Retryable: boom", delay=60))
    acks.add(Ack(b.id, 7, Status.COMPLETE))  # a stale attempt: must not win
    await acks.close()
    await runner
    assert (acks.flushed, acks.refused) == (3, 1)  # the stale one was refused, and counted
    done, retry = await queue.get(a.id), await queue.get(b.id)
    assert done and done.status == Status.COMPLETE and done.data == {"ok": True}
    assert retry and retry.status == Status.PENDING and retry.retry_count == 1
    assert retry.last_error == "Retryable: boom"
    assert retry.run_after > datetime.now(UTC) + timedelta(seconds=50)


async def test_a_batch_in_which_no_ack_has_a_result_or_error_is_written_all_the_same(
        queue: Queue, pool: asyncpg.Pool) -> None:
    """Columns no ack of a batch fills go to the statement as NULL, not as arrays of NULLs: the
    rows land as before, each keeping the error (and its kind) of an earlier attempt."""
    await pool.execute("TRUNCATE event_outbox")
    retried, _ = await queue.enqueue(NewTask("noop", {}, max_attempts=3))
    fresh, _ = await queue.enqueue(NewTask("noop", {}))
    await pool.execute("UPDATE scrape_request_log SET last_error = 'SourceUnavailable: 503', "
                       "error_kind = 'source_unavailable' WHERE id = $1", retried.id)
    rows = await claim(pool)
    acks = AckBuffer(pool, "w1", flush_ms=1)
    runner = asyncio.create_task(acks.run())
    for row in rows:
        acks.add(Ack(row["id"], row["lease_token"], Status.COMPLETE))
    await acks.close()
    await asyncio.wait_for(runner, 5)
    done = {t.id: t for t in [await queue.get(retried.id), await queue.get(fresh.id)] if t}
    assert {t.status for t in done.values()} == {Status.COMPLETE}
    assert all(t.data is None and t.worker_id is None for t in done.values())
    assert (done[retried.id].last_error, done[retried.id].error_kind) == (
        "SourceUnavailable: 503", "source_unavailable")
    assert (done[fresh.id].last_error, done[fresh.id].error_kind) == (None, None)
    finished = await pool.fetch("SELECT changes FROM event_outbox WHERE type = 'task.finished'")
    assert sorted(t["id"] for row in finished for t in finished_tasks(row["changes"])) == sorted(
        [retried.id, fresh.id])


async def test_a_stale_ack_from_an_earlier_claim_changes_nothing_after_a_requeue(
        queue: Queue, pool: asyncpg.Pool, settings: Settings) -> None:
    """Worker w1 claims, its lease is reaped (the task ends FAILED), the task is requeued and w1
    claims it again with the same attempt number: the ack w1 still had buffered from the first
    claim must not land, and the ack of the second claim must."""
    await pool.execute("TRUNCATE event_outbox")
    task, _ = await queue.enqueue(NewTask("noop", {}, max_attempts=1))
    [first] = await claim(pool, lease=0.05, worker="w1")
    await asyncio.sleep(0.1)
    async with pool.acquire() as conn:
        await Maintenance(settings).tick(conn)
    reaped = await queue.get(task.id)
    assert reaped and reaped.status == Status.FAILED
    assert await queue.requeue(task.id)
    [second] = await claim(pool, worker="w1")
    assert (first["retry_count"], second["retry_count"]) == (1, 1)
    assert second["lease_token"] > first["lease_token"]

    stale = Claim(task.id, first["lease_token"])
    await pool.execute(sql("heartbeat"), [task.id], [stale.lease_token], "w1", 0.01)
    await pool.execute(sql("release"), [task.id], [stale.lease_token], "w1")
    acks = AckBuffer(pool, "w1", flush_ms=1)
    runner = asyncio.create_task(acks.run())
    acks.add(Ack(*stale, Status.COMPLETE, data={"from": "the first claim"}))
    await asyncio.sleep(0.05)
    while acks:
        await asyncio.sleep(0.01)
    held = await queue.get(task.id)
    assert held and held.status == Status.PROCESSING and held.worker_id == "w1", held
    assert held.data is None and held.lease_until and held.lease_until > datetime.now(UTC) \
        + timedelta(seconds=20), "the stale heartbeat, release or ack touched the new claim"

    acks.add(Ack(task.id, second["lease_token"], Status.COMPLETE, data={"from": "the second"}))
    await acks.close()
    await runner
    done = await queue.get(task.id)
    assert done and done.status == Status.COMPLETE and done.data == {"from": "the second"}
    finished = await pool.fetch("SELECT changes FROM event_outbox WHERE type = 'task.finished'")
    statuses = [t["status"] for row in finished for t in finished_tasks(row["changes"])
                if t["id"] == task.id]
    assert statuses == ["FAILED", "COMPLETE"]


class Unprintable:
    def __str__(self) -> str:
        return "\x00"


@pytest.mark.parametrize(("data", "error", "status", "stored_error"), [
    ({"text": "a\x00b"}, None, Status.FAILED, "result.text contains a NUL character"),
    ({"text": "\ud800"}, None, Status.FAILED, "result.text contains a lone surrogate"),
    ({"views": float("nan")}, None, Status.FAILED, "result cannot be stored"),
    ({"nested": [{"x": float("inf")}]}, None, Status.FAILED, "result cannot be stored"),
    ({(1, 2): "tuple key"}, None, Status.FAILED, "result cannot be stored"),
    ({"object": Unprintable()}, None, Status.FAILED, "result.object contains a NUL"),
    (None, "ValueError: bad \x00 byte", Status.PENDING, "ValueError: bad \\x00 byte"),
    (None, "ValueError: \udc80 half", Status.PENDING, "ValueError: \\udc80 half"),
], ids=["nul", "surrogate", "nan", "inf", "tuple-key", "str-nul", "error-nul",
        "error-surrogate"])
async def test_an_ack_postgresql_cannot_store_does_not_hold_up_the_others(
        queue: Queue, pool: asyncpg.Pool, data: Any, error: str | None, status: Status,
        stored_error: str) -> None:
    """A result jsonb refuses (NUL, lone surrogates, NaN, keys JSON has no spelling for) fails
    its task saying why; error text with such characters is stored escaped. Either way the batch
    it shares with other acks is written at once, instead of being retried forever while the
    heartbeat keeps every one of its tasks PROCESSING."""
    await pool.execute("TRUNCATE event_outbox")
    bad, _ = await queue.enqueue(NewTask("noop", {}, max_attempts=3))
    good, _ = await queue.enqueue(NewTask("noop", {}))
    rows = {r["id"]: r for r in await claim(pool)}
    acks = AckBuffer(pool, "w1", flush_ms=1)
    runner = asyncio.create_task(acks.run())
    outcome = Status.COMPLETE if error is None else Status.PENDING
    acks.add(Ack(bad.id, rows[bad.id]["lease_token"], outcome, data=data, error=error))
    acks.add(Ack(good.id, rows[good.id]["lease_token"], Status.COMPLETE, data={"ok": True}))
    await asyncio.wait_for(acks.close(), 1)
    await asyncio.wait_for(runner, 1)
    stored, other = await queue.get(bad.id), await queue.get(good.id)
    assert other and other.status == Status.COMPLETE and other.data == {"ok": True}
    assert stored and stored.status == status and stored.worker_id is None, stored
    assert stored_error in (stored.last_error or ""), stored.last_error
    finished = await pool.fetch("SELECT changes FROM event_outbox WHERE type = 'task.finished'")
    ids = [t["id"] for row in finished for t in finished_tasks(row["changes"])]
    assert sorted(ids) == sorted([good.id] + ([bad.id] if status == Status.FAILED else []))


@pytest.mark.parametrize("delay", [float("inf"), 1e13, float("nan")])
async def test_a_retry_delay_beyond_what_postgresql_can_add_to_now_is_bounded(
        queue: Queue, pool: asyncpg.Pool, delay: float) -> None:
    """A rate-limited retry after an upstream's `Retry-After: inf` (or 1e13 s) is stored to run
    within MAX_RETRY_DELAY_S, instead of failing its batch with "interval out of range"."""
    task, _ = await queue.enqueue(NewTask("noop", {}))
    [row] = await claim(pool)
    acks = AckBuffer(pool, "w1", flush_ms=1)
    runner = asyncio.create_task(acks.run())
    acks.add(Ack(task.id, row["lease_token"], Status.PENDING, error="RateLimited: 429",
                 delay=delay, refund=True))
    await asyncio.wait_for(acks.close(), 1)
    await asyncio.wait_for(runner, 1)
    stored = await queue.get(task.id)
    assert stored and stored.status == Status.PENDING and stored.retry_count == 0, stored
    assert stored.run_after <= datetime.now(UTC) + timedelta(seconds=MAX_RETRY_DELAY_S)


async def test_requeue_where_takes_one_task_per_idempotency_key(queue: Queue,
                                                                 pool: asyncpg.Pool) -> None:
    """A key is reused once its task finished (a live refresh's key, say), so several failed
    tasks can share one: the bulk requeue runs the newest of them again and leaves the others,
    and leaves those whose key an active task holds, instead of failing as a whole."""
    await pool.execute("UPDATE scrape_request_log SET status = 'CANCELLED'")
    ids = {}
    for name, key in (("old", "k"), ("new", "k"), ("held", "k2"), ("keyless", None)):
        task, _ = await queue.enqueue(NewTask("noop", {}, idempotency_key=key))
        await pool.execute("UPDATE scrape_request_log SET status = 'FAILED' WHERE id = $1",
                           task.id)
        ids[name] = task.id
    holder, _ = await queue.enqueue(NewTask("noop", {}, idempotency_key="k2"))

    assert await queue.requeue_where(Status.FAILED) == 2
    statuses = {name: (await queue.get(task_id)).status  # type: ignore[union-attr]
                for name, task_id in ids.items()}
    assert statuses == {"old": Status.FAILED, "new": Status.PENDING, "held": Status.FAILED,
                        "keyless": Status.PENDING}
    assert (await queue.get(holder.id)).status == Status.PENDING  # type: ignore[union-attr]


async def test_reaper_returns_lost_tasks_and_fails_exhausted_ones(
        queue: Queue, pool: asyncpg.Pool, settings: Settings) -> None:
    retry, _ = await queue.enqueue(NewTask("noop", {}, max_attempts=2))
    spent, _ = await queue.enqueue(NewTask("noop", {}, max_attempts=1))
    await claim(pool, lease=0.05)
    await asyncio.sleep(0.1)
    async with pool.acquire() as conn:
        await Maintenance(settings).tick(conn)
    again, failed = await queue.get(retry.id), await queue.get(spent.id)
    assert again and again.status == Status.PENDING and again.worker_id is None
    assert failed and failed.status == Status.FAILED
    assert "lease expired" in (failed.last_error or "")


async def test_heartbeat_keeps_a_running_task_from_the_reaper(
        queue: Queue, pool: asyncpg.Pool, settings: Settings) -> None:
    task, _ = await queue.enqueue(NewTask("noop", {}))
    await claim(pool, lease=0.2)
    await pool.execute(sql("heartbeat"), [task.id], [1], "w1", 30.0)
    await asyncio.sleep(0.3)
    async with pool.acquire() as conn:
        await Maintenance(settings).tick(conn)
    stored = await queue.get(task.id)
    assert stored and stored.status == Status.PROCESSING


async def test_cancel_requeue_and_priority(queue: Queue, pool: asyncpg.Pool) -> None:
    task, _ = await queue.enqueue(NewTask("noop", {}))
    assert (await queue.set_priority(task.id, 9)).priority == 9  # type: ignore[union-attr]
    cancelled = await queue.cancel(task.id)
    assert cancelled and cancelled.status == Status.CANCELLED
    assert await queue.cancel(task.id) is None
    requeued = await queue.requeue(task.id)
    assert requeued and requeued.status == Status.PENDING and requeued.retry_count == 0
    assert await queue.requeue(task.id) is None


async def test_retention_prunes_only_old_finished_rows(
        queue: Queue, pool: asyncpg.Pool, settings: Settings) -> None:
    old, _ = await queue.enqueue(NewTask("noop", {}))
    new, _ = await queue.enqueue(NewTask("noop", {}))
    waiting, _ = await queue.enqueue(NewTask("noop", {}))
    await pool.execute("UPDATE scrape_request_log SET status = 'COMPLETE', scraped_at = now() - "
                       "interval '30 days' WHERE id = $1", old.id)
    await pool.execute("UPDATE scrape_request_log SET status = 'COMPLETE', scraped_at = now() "
                       "WHERE id = $1", new.id)
    async with pool.acquire() as conn:
        assert await Maintenance(settings).prune(conn) == 1
    assert await queue.get(old.id) is None
    assert await queue.get(new.id) and await queue.get(waiting.id)


async def test_queue_stats_view(queue: Queue, pool: asyncpg.Pool) -> None:
    await queue.enqueue_many([NewTask("noop", {}) for _ in range(3)])
    await claim(pool, n=1)
    stats = {row["flow"]: row for row in await queue.stats()}
    assert stats["noop"]["pending"] == 2 and stats["noop"]["processing"] == 1
    assert stats["noop"]["oldest_pending_age_s"] >= 0


async def test_worker_stops_a_task_whose_lease_it_cannot_renew(
        queue: Queue, pool: asyncpg.Pool, settings: Settings) -> None:
    """When the reaper took a task back (here: another worker id holds it), the worker running it
    stops it instead of letting it run twice, and neither acks nor hands it back."""
    from core.flows import load_flows
    from core.worker_runtime import WorkerRuntime

    task, _ = await queue.enqueue(NewTask("sleep", {"seconds": 30}))
    lease = settings.model_copy(update={"queue_lease_seconds": 0.6})
    runtime = WorkerRuntime(lease, [load_flows(lease)["sleep"]])
    running = asyncio.create_task(runtime.run())
    for _ in range(100):
        stored = await queue.get(task.id)
        if stored and stored.status == Status.PROCESSING:
            break
        await asyncio.sleep(0.02)
    await pool.execute("UPDATE scrape_request_log SET worker_id = 'someone-else' WHERE id = $1",
                       task.id)
    loop = runtime.loops["sleep"]
    for _ in range(100):
        if not loop.running:
            break
        await asyncio.sleep(0.02)
    assert not loop.running, "the task kept running after losing its lease"
    runtime.stop()
    await running
    stored = await queue.get(task.id)
    assert stored and stored.status == Status.PROCESSING and stored.worker_id == "someone-else"


async def test_poll_only_worker_runs_tasks_without_listening(
        queue: Queue, pool: asyncpg.Pool, settings: Settings) -> None:
    """QUEUE_POLL_ONLY (for PgBouncer in transaction mode): no LISTEN, tasks still run."""
    from core.flows import load_flows
    from core.worker_runtime import WorkerRuntime

    polling = settings.model_copy(update={"queue_poll_only": True, "queue_poll_interval": 0.1})
    runtime = WorkerRuntime(polling, [load_flows(polling)["sleep"]])
    running = asyncio.create_task(runtime.run())
    await asyncio.sleep(0.3)
    task, _ = await queue.enqueue(NewTask("sleep", {"seconds": 0}))
    for _ in range(100):
        stored = await queue.get(task.id)
        if stored and stored.status == Status.COMPLETE:
            break
        await asyncio.sleep(0.05)
    listening = runtime.listening
    runtime.stop()
    await running
    assert stored and stored.status == Status.COMPLETE
    assert not listening


async def test_every_way_a_task_finishes_writes_its_event(
        queue: Queue, pool: asyncpg.Pool, settings: Settings) -> None:
    from core.events import expand
    from core.queue import sql as queue_sql

    await pool.execute("TRUNCATE event_outbox")
    done, _ = await queue.enqueue(NewTask("noop", {}, account_id="acme"))
    lost, _ = await queue.enqueue(NewTask("noop", {}, max_attempts=1))
    late, _ = await queue.enqueue(NewTask("noop", {}, expires_at=datetime.now(UTC)
                                          - timedelta(seconds=1)))
    dropped, _ = await queue.enqueue(NewTask("sleep", {"seconds": 1}))
    await queue.cancel(dropped.id)
    await pool.execute("UPDATE scrape_request_log SET priority = 9 WHERE id = $1", done.id)
    await claim(pool, n=1, worker="w1")
    await pool.execute(queue_sql("ack_batch"), [done.id], [1], ["COMPLETE"], [None], [None],
                       [None], [0.0], [0], "w1")
    await claim(pool, n=1, lease=0.01, worker="w2")
    await asyncio.sleep(0.05)
    async with pool.acquire() as conn:
        await Maintenance(settings).tick(conn)
    rows = await pool.fetch("SELECT * FROM event_outbox ORDER BY id")
    events = {e.entity_key: e for row in rows for e in expand(row)}
    assert {k: e.type for k, e in events.items()} == {
        str(dropped.id): "task.cancelled", str(done.id): "task.complete",
        str(lost.id): "task.failed", str(late.id): "task.expired"}
    assert events[str(done.id)].changes["flow"] == "noop"
    assert events[str(done.id)].changes["account_id"] == "acme"
    assert len({e.event_id for e in events.values()}) == 4


class ClientStateFaults:
    """The worker's pool, except that the first run of each named statement fails the way
    asyncpg fails when the server goes away in the middle of an operation."""

    def __init__(self, pool: asyncpg.Pool, statements: list[str]) -> None:
        self._pool = pool
        self._failing = {sql(name): name for name in statements}
        self.failed: list[str] = []

    def _fail_once(self, query: str) -> None:
        name = self._failing.pop(query, None)
        if name is not None:
            self.failed.append(name)
            raise asyncpg.InternalClientError(
                "cannot switch to state 12; another operation (None) is in progress")

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        self._fail_once(query)
        return await self._pool.fetch(query, *args)

    async def execute(self, query: str, *args: Any) -> str:
        self._fail_once(query)
        return await self._pool.execute(query, *args)

    async def fetchval(self, query: str, *args: Any) -> Any:
        self._fail_once(query)
        return await self._pool.fetchval(query, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)


async def test_worker_rides_out_client_state_errors(
        queue: Queue, pool: asyncpg.Pool, settings: Settings,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """asyncpg's InternalClientError ("cannot switch to state ...") in a claim, a heartbeat or an
    ack flush is a passing database fault: the worker tries again and the task completes."""
    from core import worker_runtime
    from core.db import create_pool
    from core.flows import load_flows

    faulty: list[ClientStateFaults] = []

    async def connect(url: str, size: int) -> ClientStateFaults:
        faulty.append(ClientStateFaults(await create_pool(url, max_size=size),
                                        ["claim_batch", "heartbeat", "ack_batch"]))
        return faulty[0]

    monkeypatch.setattr(worker_runtime, "_connect_with_retry", connect)
    tuned = settings.model_copy(update={"queue_lease_seconds": 1.5, "queue_poll_interval": 0.1})
    task, _ = await queue.enqueue(NewTask("sleep", {"seconds": 1.2}))
    runtime = worker_runtime.WorkerRuntime(tuned, [load_flows(tuned)["sleep"]])
    running = asyncio.create_task(runtime.run())
    try:
        for _ in range(200):
            stored = await queue.get(task.id)
            if running.done() or (stored and stored.status == Status.COMPLETE):
                break
            await asyncio.sleep(0.05)
        assert not running.done(), running.exception()
    finally:
        runtime.stop()
        await asyncio.wait_for(running, 20)
    assert stored and stored.status == Status.COMPLETE and stored.retry_count == 1, stored
    assert sorted(faulty[0].failed) == ["ack_batch", "claim_batch", "heartbeat"]


async def test_no_ack_statement_runs_while_the_heartbeat_pauses_the_acks(
        queue: Queue, pool: asyncpg.Pool) -> None:
    """The heartbeat pauses the acks: beside an ack on the same rows, each statement locking
    them in its own order, it could deadlock."""
    task, _ = await queue.enqueue(NewTask("noop", {}))
    await claim(pool, worker="w1")
    acks = AckBuffer(pool, "w1", flush_ms=1, flushes=2)
    runner = asyncio.create_task(acks.run())
    async with acks.paused():
        acks.add(Ack(task.id, 1, Status.COMPLETE))
        await asyncio.sleep(0.2)
        held = await queue.get(task.id)
        assert held and held.status == Status.PROCESSING and len(acks) == 1
    await acks.close()
    await asyncio.wait_for(runner, 5)
    done = await queue.get(task.id)
    assert done and done.status == Status.COMPLETE


@pytest.mark.parametrize("flushes, lands_while_blocked", [(1, False), (2, True)])
async def test_a_slow_ack_statement_holds_back_others_only_without_spare_flushes(
        queue: Queue, pool: asyncpg.Pool, flushes: int, lands_while_blocked: bool) -> None:
    slow, _ = await queue.enqueue(NewTask("noop", {}))
    fast, _ = await queue.enqueue(NewTask("noop", {}))
    await claim(pool, worker="w1")
    acks = AckBuffer(pool, "w1", flush_ms=1, flushes=flushes)
    runner = asyncio.create_task(acks.run())
    async with pool.acquire() as locker, locker.transaction():
        # Another session holds the slow task's row: its ack statement waits for the lock.
        await locker.execute("SELECT 1 FROM scrape_request_log WHERE id = $1 FOR UPDATE",
                             slow.id)
        acks.add(Ack(slow.id, 1, Status.COMPLETE))
        await asyncio.sleep(0.2)
        acks.add(Ack(fast.id, 1, Status.COMPLETE))
        await asyncio.sleep(0.5)
        landed = await pool.fetchval("SELECT status FROM scrape_request_log WHERE id = $1",
                                     fast.id)
        assert (landed == "COMPLETE") is lands_while_blocked
        assert len(acks) == (1 if lands_while_blocked else 2)
    await acks.close()
    await asyncio.wait_for(runner, 10)
    assert {(await queue.get(t.id)).status for t in (slow, fast)} == {Status.COMPLETE}


def test_recycling_during_the_grace_period_does_not_hurry_the_other_tasks(
        settings: Settings) -> None:
    """A stuck run found while the worker drains recycles the process; the other running tasks
    keep their grace. Only a second stop request (Ctrl-C, SIGTERM) hands them back at once."""
    runtime = WorkerRuntime(settings, [load_flows(settings)["noop"]])
    runtime.recycle("stuck before any stop")
    assert runtime.stopping and not runtime.hurry.is_set()
    assert runtime.exit_code == RECYCLE_EXIT_CODE

    draining = WorkerRuntime(settings, [load_flows(settings)["noop"]])
    draining.stop()
    draining.recycle("stuck during the grace period")
    draining.recycle("another one")
    assert draining.stopping and not draining.hurry.is_set()
    draining.stop()
    assert draining.hurry.is_set()
