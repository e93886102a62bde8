"""A task's checkpoint: saved by the claim that holds the task, handed to the next attempt, and
cleared when the task is requeued to run from scratch."""

import asyncpg
import pytest

from core.checkpoint import Checkpoint, task_checkpoint
from core.errors import LeaseLost
from core.queue import NewTask, Queue, sql


async def claim(pool: asyncpg.Pool, worker_id: str) -> asyncpg.Record:
    [row] = await pool.fetch(sql("claim_batch"), "sleep", 1, 30, worker_id)
    return row


async def release(pool: asyncpg.Pool, task_id: int) -> None:
    """What the reaper does to a task whose worker died: back to PENDING, checkpoint kept."""
    await pool.execute("UPDATE scrape_request_log SET status = 'PENDING', worker_id = NULL, "
                       "lease_until = NULL WHERE id = $1", task_id)


async def test_the_next_attempt_starts_from_the_saved_state(pool: asyncpg.Pool,
                                                            queue: Queue) -> None:
    task, _ = await queue.enqueue(NewTask("sleep", {"seconds": 1}))
    first = await claim(pool, "w1")
    assert first["checkpoint"] is None
    checkpoint = task_checkpoint(pool, sql("set_checkpoint"), task.id, first["lease_token"],
                                 first["checkpoint"])
    await checkpoint.save({"cursor": "page-3", "stored": 300})
    await release(pool, task.id)

    second = await claim(pool, "w2")
    assert second["checkpoint"] == {"cursor": "page-3", "stored": 300}
    resumed = task_checkpoint(pool, sql("set_checkpoint"), task.id, second["lease_token"],
                              second["checkpoint"])
    assert resumed.state == {"cursor": "page-3", "stored": 300}


async def test_a_run_that_lost_its_task_cannot_move_the_cursor(pool: asyncpg.Pool,
                                                               queue: Queue) -> None:
    task, _ = await queue.enqueue(NewTask("sleep", {"seconds": 1}))
    first = await claim(pool, "w1")
    stale = task_checkpoint(pool, sql("set_checkpoint"), task.id, first["lease_token"], None)
    await stale.save({"cursor": "a"})
    await release(pool, task.id)
    second = await claim(pool, "w2")
    holder = task_checkpoint(pool, sql("set_checkpoint"), task.id, second["lease_token"],
                             second["checkpoint"])
    await holder.save({"cursor": "b"})

    with pytest.raises(LeaseLost):
        await stale.save({"cursor": "z"})
    assert await pool.fetchval("SELECT checkpoint FROM scrape_request_log WHERE id = $1",
                               task.id) == {"cursor": "b"}


async def test_a_requeued_task_starts_over(pool: asyncpg.Pool, queue: Queue) -> None:
    task, _ = await queue.enqueue(NewTask("sleep", {"seconds": 1}))
    row = await claim(pool, "w1")
    await task_checkpoint(pool, sql("set_checkpoint"), task.id, row["lease_token"],
                          None).save({"cursor": "a"})
    await pool.execute("UPDATE scrape_request_log SET status = 'FAILED', worker_id = NULL, "
                       "lease_until = NULL, scraped_at = now() WHERE id = $1", task.id)
    await queue.requeue(task.id)
    again = await claim(pool, "w1")
    assert again["checkpoint"] is None


async def test_outside_a_worker_the_state_is_kept_in_memory() -> None:
    checkpoint = Checkpoint()
    assert checkpoint.state is None
    await checkpoint.save({"cursor": "x"})
    assert checkpoint.state == {"cursor": "x"}
