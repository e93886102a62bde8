"""The task queue on `scrape_request_log`: enqueue, claim, ack, lease upkeep and ops actions.

Every statement lives in core/sql/queue.sql; this module binds them to typed Python calls.
"""

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import asyncpg
from pydantic import BaseModel

from core import metrics, sqlfile
from core.errors import KeyConflict
from core.progress import Progress

SQL_FILE = Path(__file__).with_name("sql") / "queue.sql"
NOTIFY_CHANNEL = "beat_queue"


class Status(StrEnum):
    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    COMPLETE = "COMPLETE"
    FAILED = "FAILED"
    TIMEOUT = "TIMEOUT"
    EXPIRED = "EXPIRED"
    CANCELLED = "CANCELLED"


FINISHED = (Status.COMPLETE, Status.FAILED, Status.TIMEOUT, Status.EXPIRED, Status.CANCELLED)


def queries() -> dict[str, str]:
    return sqlfile.load(SQL_FILE)


def sql(name: str) -> str:
    return queries()[name]


class Task(BaseModel):
    id: int
    flow: str
    platform: str | None
    status: Status
    params: dict[str, Any]
    data: Any = None
    priority: int
    retry_count: int
    max_attempts: int
    idempotency_key: str | None
    account_id: str | None
    created_at: datetime
    picked_at: datetime | None
    scraped_at: datetime | None
    expires_at: datetime | None
    run_after: datetime
    last_error: str | None
    error_kind: str | None = None  # what last_error is (core/errors.py): test this, not the text
    worker_id: str | None
    lease_until: datetime | None
    progress: Progress | None = None

    @classmethod
    def from_record(cls, record: asyncpg.Record) -> "Task":
        present = set(record.keys())
        return cls.model_validate({key: record[key] for key in cls.model_fields
                                   if key in present})


@dataclass(frozen=True, slots=True)
class NewTask:
    flow: str
    params: dict[str, Any]
    platform: str | None = None
    priority: int = 1
    idempotency_key: str | None = None
    expires_at: datetime | None = None
    account_id: str | None = None
    max_attempts: int = 3


class Queue:
    """Producer and ops side of the queue, over an asyncpg pool (jsonb codec installed)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def enqueue(self, task: NewTask,
                      may_share: Callable[[Task], bool] | None = None) -> tuple[Task, bool]:
        """Insert a task; returns (task, created). A repeat of an active key returns the
        original, unless `may_share` refuses it: then KeyConflict."""
        args = (task.flow, task.platform, task.params, task.priority, task.idempotency_key,
                task.expires_at, task.account_id, task.max_attempts)
        async with self.pool.acquire() as conn:
            for _ in range(5):
                row = await conn.fetchrow(sql("enqueue"), *args)
                if row is not None:
                    metrics.task_enqueued(task.flow)
                    return Task.from_record(row), True
                existing = await conn.fetch(sql("get_active_by_keys"), [task.idempotency_key])
                if existing:
                    holder = Task.from_record(existing[0])
                    _check_shared(0, holder, may_share)
                    return holder, False
                # The holder of the key finished between the two statements: insert again.
        raise RuntimeError(f"could not enqueue {task.idempotency_key!r}: key keeps changing state")

    async def enqueue_many(self, tasks: list[NewTask],
                           may_share: Callable[[Task], bool] | None = None
                           ) -> list[tuple[Task, bool]]:
        """Insert many tasks in one statement; result i belongs to tasks[i]. When `may_share`
        refuses the active task that holds some task's key, nothing is stored: KeyConflict."""
        columns = list(zip(*[(t.flow, t.platform, json.dumps(t.params), t.priority,
                              t.idempotency_key, t.expires_at, t.account_id, t.max_attempts)
                             for t in tasks]))
        keys = [t.idempotency_key for t in tasks if t.idempotency_key is not None]
        async with self.pool.acquire() as conn:
            for _ in range(5):
                try:
                    results = await self._insert_many(conn, columns, tasks, keys, may_share)
                except _Retry:
                    continue  # a task holding one of the keys finished meanwhile: insert again
                for flow, count in Counter(t.flow for t, created in results if created).items():
                    metrics.task_enqueued(flow, count)
                return results
        raise RuntimeError("could not enqueue: idempotency keys keep changing state")

    async def _insert_many(self, conn: asyncpg.Connection, columns: list[tuple[Any, ...]],
                           tasks: list[NewTask], keys: list[str],
                           may_share: Callable[[Task], bool] | None
                           ) -> list[tuple[Task, bool]]:
        async with conn.transaction():
            inserted = [Task.from_record(r)
                        for r in await conn.fetch(sql("enqueue_many"), *columns)]
            await conn.execute(sql("notify_flows"), sorted({t.flow for t in inserted}))
            active = [Task.from_record(r)
                      for r in await conn.fetch(sql("get_active_by_keys"), keys)]
            results = _match_results(tasks, inserted, active)
            if results is None:
                raise _Retry()
            for position, (task, created) in enumerate(results):
                if not created:
                    _check_shared(position, task, may_share)  # raising rolls the insert back
            return results

    async def get(self, task_id: int) -> Task | None:
        row = await self.pool.fetchrow(sql("get_task"), task_id)
        return Task.from_record(row) if row else None

    async def get_many(self, task_ids: list[int]) -> dict[int, Task]:
        """The tasks still stored among `task_ids`, by id (one statement)."""
        rows = await self.pool.fetch(sql("get_tasks"), task_ids)
        return {task.id: task for task in map(Task.from_record, rows)}

    async def list_by_account(self, account_id: str, limit: int,
                              before_id: int | None = None) -> list[Task]:
        rows = await self.pool.fetch(sql("list_by_account"), account_id, before_id, limit)
        return [Task.from_record(r) for r in rows]

    async def cancel(self, task_id: int) -> Task | None:
        """Cancel a PENDING task; None when it is not pending (or does not exist)."""
        row = await self.pool.fetchrow(sql("cancel"), task_id)
        return Task.from_record(row) if row else None

    async def cancel_where(self, flow: str) -> int:
        """Cancel every PENDING task of `flow`; how many were."""
        return len(await self.pool.fetch(sql("cancel_where"), flow))

    async def recent_failures(self, flow: str | None, limit: int) -> list[dict[str, Any]]:
        """The latest FAILED and TIMEOUT tasks (of `flow`), newest first: id, flow, status,
        retry_count, max_attempts, error_kind, last_error, scraped_at, age_s."""
        return [dict(r) for r in await self.pool.fetch(sql("recent_failures"), flow, limit)]

    async def requeue(self, task_id: int) -> Task | None:
        """Run a finished task again; None when it is not finished (or does not exist).

        Raises KeyConflict when another active task holds its idempotency key.
        """
        try:
            row = await self.pool.fetchrow(sql("requeue"), task_id)
        except asyncpg.UniqueViolationError as exc:
            raise KeyConflict(f"cannot requeue task {task_id}: another active task holds "
                              "its idempotency_key") from exc
        return Task.from_record(row) if row else None

    async def requeue_where(self, status: Status, flow: str | None = None) -> int:
        rows = await self.pool.fetch(sql("requeue_where"), status.value, flow)
        return len(rows)

    async def set_priority(self, task_id: int, priority: int) -> Task | None:
        row = await self.pool.fetchrow(sql("set_priority"), task_id, priority)
        return Task.from_record(row) if row else None

    async def stats(self) -> list[dict[str, Any]]:
        return [dict(r) for r in await self.pool.fetch(sql("queue_stats"))]

    async def outbox_stats(self) -> list[dict[str, Any]]:
        """The event outbox backlog: status, events, oldest_age_s (the outbox_stats view)."""
        return [dict(r) for r in await self.pool.fetch(sql("outbox_stats"))]


def _check_shared(position: int, holder: Task, may_share: Callable[[Task], bool] | None) -> None:
    """KeyConflict when the caller may not be answered with `holder`, the active task that
    holds the key it sent (say, another account's task)."""
    if may_share is not None and not may_share(holder):
        raise KeyConflict("an active task of another account holds this idempotency_key",
                          position)


class _Retry(Exception):
    """Internal: roll the bulk insert back and try again."""


def _match_results(tasks: list[NewTask], inserted: list[Task],
                   active: list[Task]) -> list[tuple[Task, bool]] | None:
    """Pair each requested task with the row that now stands for it, or None if they disagree.

    INSERT ... RETURNING gives rows in input order, skipping the deduplicated ones; a skipped
    task is answered with the active task that holds its key.
    """
    by_key = {t.idempotency_key: t for t in active}
    new_ids = {t.id for t in inserted}
    fresh = iter(inserted)
    results: list[tuple[Task, bool]] = []
    seen_keys: set[str] = set()
    for task in tasks:
        key = task.idempotency_key
        holder = by_key.get(key) if key is not None else None
        if key is not None and (key in seen_keys or (holder and holder.id not in new_ids)):
            if holder is None:
                return None
            results.append((holder, False))
            continue
        row = next(fresh, None)
        if row is None:
            return None
        if key is not None:
            seen_keys.add(key)
        results.append((row, True))
    return results if next(fresh, None) is None else None
