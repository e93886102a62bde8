"""Every way a task ends or is retried records what its last error was as a kind (`error_kind`,
core/errors.py) next to last_error: on the task, in `beat task` and in its task.* event.
Callers test the kind, never the message."""

import asyncio
import inspect
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from core import errors
from core.config import Settings
from core.events import expand, finished_tasks
from core.flows import Flow, StrictParams, TaskContext
from core.follow import task_lines
from core.maintenance import Maintenance
from core.parsing import UnknownShape
from core.queue import FINISHED, NewTask, Queue, Status, Task, sql
from core.ratelimit import RateLimiterUnavailable
from core.worker_runtime import WorkerRuntime

# -- The kinds of the error classes -------------------------------------------------------------

ERROR_CLASSES = [cls for _, cls in inspect.getmembers(errors, inspect.isclass)
                 if issubclass(cls, errors.BeatError)] + [UnknownShape, RateLimiterUnavailable]


def test_every_error_class_names_its_own_snake_case_kind() -> None:
    kinds = [cls.__dict__.get("kind") for cls in ERROR_CLASSES]
    assert all(isinstance(k, str) and re.fullmatch(r"[a-z]+(_[a-z]+)*", k) for k in kinds), kinds
    assert len(set(kinds)) == len(kinds), "two classes share a kind"
    assert not set(kinds) & set(errors.KINDS), "a class takes a kind the queue uses for itself"


@pytest.mark.parametrize("error, kind", [
    (errors.NotFound("no such video"), "not_found"),
    (errors.BadParams(), "bad_params"),
    (errors.Permanent(), "permanent"),
    (errors.NotAuthorised("no owner authorisation for UC1"), "not_authorised"),
    (errors.RateLimited(5), "rate_limited"),
    (errors.SourceUnavailable(), "source_unavailable"),
    (errors.CredentialInvalid(), "credential_invalid"),
    (errors.Unsupported(), "unsupported"),
    (errors.AllSourcesFailed(), "all_sources_failed"),
    (errors.Retryable(), "retryable"),
    (UnknownShape("?"), "unknown_shape"),
    (RateLimiterUnavailable(), "rate_limiter_unavailable"),
    (errors.KeyConflict("taken", position=3), "key_conflict"),
    (KeyError("x"), "unexpected"),
])
def test_the_kind_a_task_records_for_an_exception(error: Exception, kind: str) -> None:
    assert errors.kind_of(error) == kind


def test_a_key_conflict_is_a_beat_error_refused_before_any_task_exists() -> None:
    conflict = errors.KeyConflict("an active task holds this idempotency_key", position=2)
    assert isinstance(conflict, errors.BeatError)
    assert not isinstance(conflict, (errors.Retryable, errors.Permanent))
    assert (str(conflict), conflict.position) == ("an active task holds this idempotency_key", 2)


# -- What the worker records -------------------------------------------------------------------

class ProbeParams(StrictParams):
    outcome: str


async def probe(params: ProbeParams, ctx: TaskContext) -> Any:
    """Ends the way `outcome` says."""
    match params.outcome:
        case "not_found":
            raise errors.NotFound("no such item")
        case "unknown_shape":
            raise UnknownShape("not a shape the parser knows")
        case "rate_limited":
            raise errors.RateLimited(600)
        case "bug":
            return {}["missing"]
        case "hang":
            await asyncio.sleep(30)
        case "unstorable":
            return {"views": float("nan")}
    return {"ok": True}


PROBE = Flow("error_kinds_probe", ProbeParams, probe, max_attempts=1, timeout_s=0.5,
             concurrency=20)
EXPECTED = {  # params -> (status, error_kind)
    "ok": (Status.COMPLETE, None),
    "not_found": (Status.FAILED, "not_found"),
    "unknown_shape": (Status.FAILED, "unknown_shape"),
    "rate_limited": (Status.PENDING, "rate_limited"),
    "bug": (Status.FAILED, "unexpected"),
    "hang": (Status.TIMEOUT, "timeout"),
    "unstorable": (Status.FAILED, "unstorable_result"),
    "invalid params": (Status.FAILED, "bad_params"),
}


def settled(task: Task) -> bool:
    return task.status in FINISHED or (task.status == Status.PENDING and task.retry_count == 0
                                       and task.error_kind is not None)


async def run_until_settled(settings: Settings, queue: Queue, ids: list[int]) -> list[Task]:
    runtime = WorkerRuntime(settings, [PROBE])
    running = asyncio.create_task(runtime.run())
    try:
        for _ in range(300):
            tasks = [await queue.get(task_id) for task_id in ids]
            if all(t is not None and settled(t) for t in tasks):
                break
            await asyncio.sleep(0.05)
    finally:
        runtime.stop()
        await asyncio.wait_for(running, 20)
    return [t for t in tasks if t is not None]


async def task_events(pool: asyncpg.Pool) -> dict[int, dict[str, Any]]:
    rows = await pool.fetch("SELECT * FROM event_outbox WHERE type = 'task.finished'")
    return {int(e.entity_key or 0): e.changes for row in rows for e in expand(row)}


async def test_the_worker_records_the_kind_of_every_outcome_in_the_task_and_its_event(
        queue: Queue, pool: asyncpg.Pool, settings: Settings) -> None:
    await pool.execute("TRUNCATE event_outbox")
    ids = {}
    for outcome in EXPECTED:
        params = {} if outcome == "invalid params" else {"outcome": outcome}
        task, _ = await queue.enqueue(NewTask(PROBE.name, params, max_attempts=1))
        ids[outcome] = task.id
    tasks = await run_until_settled(settings, queue, list(ids.values()))
    assert {outcome: (t.status, t.error_kind) for outcome, t in zip(ids, tasks)} == EXPECTED
    events = await task_events(pool)
    assert {task_id: event["error_kind"] for task_id, event in events.items()} == {
        ids[outcome]: kind for outcome, (status, kind) in EXPECTED.items()
        if status != Status.PENDING}, "a retry writes no task.finished event"


async def test_a_retry_that_then_succeeds_keeps_the_kind_of_its_last_error(
        queue: Queue, pool: asyncpg.Pool) -> None:
    from core.acks import Ack, AckBuffer

    task, _ = await queue.enqueue(NewTask("noop", {}, max_attempts=3))
    [row] = await pool.fetch(sql("claim_batch"), "noop", 1, 30, "w1")
    acks = AckBuffer(pool, "w1", flush_ms=1)
    runner = asyncio.create_task(acks.run())
    acks.add(Ack(task.id, row["lease_token"], Status.PENDING, error="SourceUnavailable: 503",
                 error_kind="source_unavailable"))
    await acks.close()
    await asyncio.wait_for(runner, 5)
    await pool.execute("UPDATE scrape_request_log SET run_after = now() WHERE id = $1", task.id)
    [row] = await pool.fetch(sql("claim_batch"), "noop", 1, 30, "w1")
    acks = AckBuffer(pool, "w1", flush_ms=1)
    runner = asyncio.create_task(acks.run())
    acks.add(Ack(task.id, row["lease_token"], Status.COMPLETE, data={"ok": True}))
    await acks.close()
    await asyncio.wait_for(runner, 5)
    done = await queue.get(task.id)
    assert done and done.status == Status.COMPLETE
    assert (done.last_error, done.error_kind) == ("SourceUnavailable: 503", "source_unavailable")


# -- What the queue records --------------------------------------------------------------------

async def test_reaper_expiry_and_cancel_record_their_kinds_and_a_requeue_clears_them(
        queue: Queue, pool: asyncpg.Pool, settings: Settings) -> None:
    await pool.execute("TRUNCATE event_outbox")
    spent, _ = await queue.enqueue(NewTask("noop", {}, max_attempts=1))
    again, _ = await queue.enqueue(NewTask("noop", {}, max_attempts=2))
    await pool.fetch(sql("claim_batch"), "noop", 2, 0.01, "w1")
    late, _ = await queue.enqueue(NewTask("noop", {},
                                          expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    dropped, _ = await queue.enqueue(NewTask("sleep", {"seconds": 1}))
    await queue.cancel(dropped.id)
    await asyncio.sleep(0.05)
    async with pool.acquire() as conn:
        await Maintenance(settings).tick(conn)
    found = {t.id: (t.status, t.error_kind) for t in
             [await queue.get(i) for i in (spent.id, again.id, late.id, dropped.id)] if t}
    assert found == {spent.id: (Status.FAILED, "lease_expired"),
                     again.id: (Status.PENDING, "lease_expired"),
                     late.id: (Status.EXPIRED, "expired"),
                     dropped.id: (Status.CANCELLED, "cancelled")}
    events = await task_events(pool)
    assert {i: events[i]["error_kind"] for i in events} == {
        spent.id: "lease_expired", late.id: "expired", dropped.id: "cancelled"}

    requeued = await queue.requeue(spent.id)
    assert requeued and requeued.error_kind is None and requeued.last_error is None
    assert await queue.requeue_where(Status.EXPIRED) == 1
    assert (await queue.get(late.id)).error_kind is None  # type: ignore[union-attr]


def test_an_event_row_written_before_error_kind_reads_it_as_none() -> None:
    changes = {"id": [7, 8], "flow": ["noop"] * 2, "platform": [None, "youtube"],
               "status": ["COMPLETE", "FAILED"], "attempt": [1, 3], "account_id": [None] * 2,
               "last_error": [None, "NotFound: gone"]}
    tasks = finished_tasks(changes)
    assert [t["error_kind"] for t in tasks] == [None, None]
    assert tasks[1] == {"id": 8, "flow": "noop", "platform": "youtube", "status": "FAILED",
                        "attempt": 3, "account_id": None, "last_error": "NotFound: gone",
                        "error_kind": None}
    with pytest.raises(KeyError):
        finished_tasks({k: v for k, v in changes.items() if k != "status"})


def test_beat_task_shows_the_error_kind() -> None:
    now = datetime.now(UTC)
    task = Task(id=5, flow="refresh_yt_posts", platform="YOUTUBE", status=Status.FAILED,
                params={}, priority=1, retry_count=1, max_attempts=3, idempotency_key=None,
                account_id=None, created_at=now, picked_at=now, scraped_at=now,
                expires_at=None, run_after=now, last_error="NotFound: no such video",
                error_kind="not_found", worker_id=None, lease_until=None)
    assert "error_kind  not_found" in task_lines(task)
