"""Progress end to end: a real worker runs a long flow that reports progress, `beat enqueue
--wait` follows it to its end, `beat task` shows it; YouTube keys are imported once."""

import asyncio
import json
import subprocess
import time

import asyncpg

from tests.e2e.procs import ROOT, Launcher, beat_command, wait_worker_ready
from tests.e2e.support import enqueue, wait_for

# Counts every write of a task's progress column (test-only).
COUNT_WRITES = """
CREATE TABLE progress_writes (task_id bigint, progress jsonb, at timestamptz DEFAULT now());
CREATE FUNCTION log_progress() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.progress IS DISTINCT FROM OLD.progress THEN
        INSERT INTO progress_writes (task_id, progress) VALUES (NEW.id, NEW.progress);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER log_progress AFTER UPDATE ON scrape_request_log
   FOR EACH ROW EXECUTE FUNCTION log_progress();
"""


async def run_beat(beat: Launcher, *args: str) -> subprocess.CompletedProcess[str]:
    process = await asyncio.create_subprocess_exec(
        *beat_command(), *args, env=beat.env(), cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return subprocess.CompletedProcess(args, process.returncode, out.decode(), err.decode())


async def test_enqueue_wait_follows_progress_to_the_end_with_throttled_writes(
        beat: Launcher, e2e_db: str, pool: asyncpg.Pool) -> None:
    await pool.execute(COUNT_WRITES)
    sup = beat.worker("e2e_progress")
    await wait_worker_ready(sup, e2e_db, workers=1)
    started = time.monotonic()
    result = await run_beat(beat, "enqueue", "e2e_progress", "--params",
                            '{"steps": 40, "step_s": 0.05}', "--wait")
    took = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    task = json.loads(result.stdout)
    assert task["status"] == "COMPLETE" and task["data"] == {"steps": 40}
    assert task["progress"] == {"done": 40, "total": 40, "unit": "steps"}
    assert "40/40 steps" in result.stderr  # the bar's last state

    writes = [json.loads(r["progress"]) if isinstance(r["progress"], str) else r["progress"]
              for r in await pool.fetch("SELECT progress FROM progress_writes ORDER BY at")]
    # 40 updates over about 2 s: a write every 0.5 s at most, and the final one.
    assert 3 <= len(writes) <= took / 0.5 + 2, writes
    assert any(0 < w["done"] < 40 for w in writes) and writes[-1]["done"] == 40

    shown = await run_beat(beat, "task", str(task["id"]))
    assert shown.returncode == 0, shown.stderr
    lines = dict(line.split(None, 1) for line in shown.stdout.splitlines())
    assert lines["status"] == "COMPLETE (attempt 1 of 1)"
    assert lines["progress"] == "40/40 steps (100%)"
    assert lines["last_error"] == "-" and lines["task"] == f"{task['id']} e2e_progress"


async def test_enqueue_wait_exits_1_with_the_last_error_when_the_task_fails(
        beat: Launcher, e2e_db: str, pool: asyncpg.Pool) -> None:
    sup = beat.worker("e2e_progress")
    await wait_worker_ready(sup, e2e_db, workers=1)
    result = await run_beat(beat, "enqueue", "e2e_progress", "--params",
                            '{"steps": 3, "fail": true}', "--wait")
    assert result.returncode == 1
    task = json.loads(result.stdout)
    assert task["status"] == "FAILED" and task["progress"]["done"] == 3
    assert result.stderr.strip().endswith(
        f"beat: task {task['id']} ended FAILED: Permanent: e2e: failed on purpose after 3 steps")

    shown = await run_beat(beat, "task", str(task["id"]))
    assert "last_error  Permanent: e2e: failed on purpose after 3 steps" in shown.stdout
    missing = await run_beat(beat, "task", "999999")
    assert missing.returncode == 2 and missing.stderr.strip() == "beat: no task 999999"


async def test_sandbox_keys_are_imported_and_announced_once_not_per_worker(
        beat: Launcher, e2e_db: str, pool: asyncpg.Pool) -> None:
    sup = beat.worker("refresh_yt_profiles", SANDBOX_URL="http://127.0.0.1:9",
                      YOUTUBE_API_KEYS="sandbox-key-1,sandbox-key-2",
                      FLOW_OVERRIDES=json.dumps({"refresh_yt_profiles": {
                          "processes": 3, "concurrency": 1, "max_attempts": 1}}))
    await wait_worker_ready(sup, e2e_db, workers=3)
    assert await pool.fetchval("SELECT count(*) FROM credential") == 2
    ids = await enqueue(pool, "refresh_yt_profiles",
                        [{"channel_ids": [f"UC{i:022d}"]} for i in range(9)], max_attempts=1)

    async def all_tried() -> bool:
        return not await pool.fetchval("SELECT count(*) FROM scrape_request_log WHERE id = "
                                       "ANY($1::bigint[]) AND status = 'PENDING'", ids)

    await wait_for(all_tried, 60, "every task tried", sup)
    log = sup.log()
    assert log.count("with its built-in test keys") == 1, log
    assert "imported" not in log and log.count("(youtube_data_api) added") == 2, log
