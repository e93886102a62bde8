"""Task progress: throttled writes with a final one, fenced on the attempt that holds the task,
and shown with the task."""

import asyncpg

from core.progress import Progress, ProgressReporter, task_progress
from core.queue import NewTask, Queue, sql


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_updates_are_written_at_most_every_interval_and_the_last_one_at_the_end() -> None:
    written: list[Progress] = []

    async def write(progress: Progress) -> None:
        written.append(progress)

    clock = Clock()
    reporter = ProgressReporter(write, interval=0.5, clock=clock)
    for step in range(1, 101):  # 100 updates over 1 s
        await reporter.update(step, 100, "videos")
        clock.now += 0.01
    assert [p.done for p in written] == [1, 51]
    await reporter.flush()
    assert written[-1] == Progress(done=100, total=100, unit="videos")
    await reporter.flush()
    assert len(written) == 3, "a flush with nothing new writes nothing"


async def test_the_unit_carries_over_and_the_line_reads_right() -> None:
    reporter = ProgressReporter()
    await reporter.update(3, None, "videos listed")
    await reporter.update(4)
    assert reporter.current == Progress(done=4, total=None, unit="videos listed")
    assert reporter.current.line() == "4 videos listed"
    assert Progress(done=12, total=50, unit="videos").line() == "12/50 videos (24%)"


async def test_a_failed_write_does_not_fail_the_task() -> None:
    async def write(progress: Progress) -> None:
        raise asyncpg.exceptions.DeadlockDetectedError("busy")

    reporter = ProgressReporter(write)
    await reporter.update(1, 2)
    await reporter.flush()


async def claim(pool: asyncpg.Pool, worker_id: str) -> asyncpg.Record:
    [row] = await pool.fetch(sql("claim_batch"), "sleep", 1, 30, worker_id)
    return row


async def test_progress_is_written_only_by_the_claim_that_holds_the_task(
        pool: asyncpg.Pool, queue: Queue) -> None:
    task, _ = await queue.enqueue(NewTask("sleep", {"seconds": 1}))
    row = await claim(pool, "w1")
    holder = task_progress(pool, sql("set_progress"), task.id, row["lease_token"])
    earlier = task_progress(pool, sql("set_progress"), task.id, row["lease_token"] - 1)

    await holder.update(3, 10, "videos")
    await earlier.update(8, 10, "videos")
    current = await queue.get(task.id)
    assert current is not None and current.progress == Progress(done=3, total=10, unit="videos")

    # Reaped, failed, requeued and claimed again by the same worker: the first run's reporter
    # must not write over the new claim's (fresh) progress.
    await pool.execute("UPDATE scrape_request_log SET status = 'FAILED', worker_id = NULL, "
                       "lease_until = NULL, scraped_at = now() WHERE id = $1", task.id)
    await queue.requeue(task.id)
    again = await claim(pool, "w1")
    fresh = await queue.get(task.id)
    assert fresh is not None and fresh.progress is None
    await holder.update(9, 10, "videos")
    await holder.flush()
    current = await queue.get(task.id)
    assert current is not None and current.progress is None
    second = task_progress(pool, sql("set_progress"), task.id, again["lease_token"])
    await second.update(1, 4, "videos")
    current = await queue.get(task.id)
    assert current is not None and current.progress == Progress(done=1, total=4, unit="videos")
