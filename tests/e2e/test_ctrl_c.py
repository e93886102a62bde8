"""Ctrl-C on a real `beat worker`: the first says what it waits for, the second hands running
tasks back to the queue at once, without spending their attempt."""

import asyncio
import re
import signal
import time

import asyncpg

from tests.e2e.procs import Launcher, wait_worker_ready
from tests.e2e.support import enqueue, overrides, wait_for

GRACE = 30


async def test_a_second_ctrl_c_hands_running_tasks_back_now(
        beat: Launcher, e2e_db: str, pool: asyncpg.Pool) -> None:
    sup = beat.worker("e2e_runlog", WORKER_SHUTDOWN_GRACE=GRACE, QUEUE_LEASE_SECONDS=10,
                      FLOW_OVERRIDES=overrides(e2e_runlog={"processes": 1, "concurrency": 5}))
    await wait_worker_ready(sup, e2e_db, workers=1)
    [task_id] = await enqueue(pool, "e2e_runlog", [{"sleep": 120.0}])

    async def running() -> bool:
        return bool(await pool.fetchval("SELECT count(*) FROM e2e_run_log"))

    await wait_for(running, 30, "the task running", sup)
    sup.signal(signal.SIGINT)
    await sup.wait_log(r"supervisor got SIGINT: stopping; running tasks get up to 30s to finish "
                       r"\(Ctrl-C again hands them back to the queue now\)")
    await sup.wait_log(r"waiting up to 30s for 1 running task to finish \(a second Ctrl-C")
    await asyncio.sleep(1)
    assert sup.alive(), "the first Ctrl-C must wait for the running task"
    sent = time.monotonic()
    sup.signal(signal.SIGINT)
    assert await sup.wait_exit(10) == 0
    took = time.monotonic() - sent
    assert took < 5, f"the second Ctrl-C took {took:.1f}s to stop the worker"

    row = await pool.fetchrow("SELECT status, retry_count, worker_id, lease_until "
                              "FROM scrape_request_log WHERE id = $1", task_id)
    assert dict(row) == {"status": "PENDING", "retry_count": 0, "worker_id": None,
                         "lease_until": None}
    log = sup.log()
    assert "supervisor got SIGINT again: handing running tasks back to the queue now" in log
    assert "handed 1 unfinished task back to the queue" in log
    assert not re.search(r"got SIGTERM|SIGKILL|did not stop in time", log)
