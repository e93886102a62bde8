"""The assets worker end to end: the sandbox and `beat worker --platform ASSETS` (what
assets_worker.py runs) as real processes. Images and pages are stored once per picture; every
hostile URL fails its task for good with the reason, and the worker keeps running (no process
died or was restarted) and serves the next task."""

import asyncio
import json
import time
from pathlib import Path
from urllib.parse import quote

import asyncpg
import httpx

from tests.e2e.procs import BeatProcess, Launcher, free_port, wait_worker_ready
from tests.e2e.support import enqueue, wait_all_finished

HOSTILE = {  # path under the sandbox, or a URL -> (error kind, words of the reason)
    "http://127.0.0.1:5432/": ("refused", "refused 127.0.0.1: loopback address"),
    "http://10.1.2.3/a.jpg": ("refused", "refused 10.1.2.3: private address"),
    "http://169.254.169.254/latest/meta-data/": ("refused", "cloud metadata address"),
    "http://[::1]:8080/a.jpg": ("refused", "refused ::1: loopback address"),
    "http://0x7f.1/": ("refused", "loopback address"),
    "PUBLIC/assets/redirect?to=" + quote("http://10.0.0.1/secret.jpg", safe=""):
        ("refused", "refused 10.0.0.1: private address"),
    "/assets/hostile/huge.jpg": ("refused", "the body is 5368709120 bytes, over the cap"),
    "/assets/hostile/endless.jpg": ("refused", "the body passed the cap"),
    "/assets/hostile/html-as-jpeg.jpg": ("refused", "not an image: sent as image/jpeg"),
    "/assets/hostile/truncated.jpg": ("bad_image", "corrupt JPEG image"),
    "/assets/hostile/bomb.png": ("bad_image", "decompression bomb"),
}


async def wait_answers(proc: BeatProcess, url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2) as client:
        while True:
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if not proc.alive() or time.monotonic() > deadline:
                raise proc.fail(f"{url} did not answer")
            await asyncio.sleep(0.05)


async def test_hostile_urls_fail_with_reasons_and_the_worker_keeps_running(
        beat: Launcher, pool: asyncpg.Pool, e2e_db: str, tmp_path: Path) -> None:
    port = free_port()
    sandbox = f"http://127.0.0.1:{port}"
    public = f"http://images.example.com:{port}"  # in no DNS: ASSETS_RESOLVE names it
    await wait_answers(beat.spawn("sandbox", ["sandbox", "--port", str(port)], beat.env()),
                       f"{sandbox}/assets/hostile/no-og")
    store = tmp_path / "store"
    worker = beat.spawn("assets-worker", ["worker", "--platform", "ASSETS"], beat.env(
        SANDBOX_URL=sandbox, WORKER_PROCESS_CAP=1, WORKER_SHUTDOWN_GRACE=5,
        QUEUE_POLL_INTERVAL=0.5, ASSETS_DIR=store, ASSETS_MAX_BYTES=4 * 1024 * 1024,
        ASSETS_RESOLVE=json.dumps({"images.example.com": "127.0.0.1"})))
    await wait_worker_ready(worker, e2e_db, workers=2)
    started = dict(worker.started_children())

    def url(path: str) -> str:
        return path.replace("PUBLIC", public) if path.startswith("PUBLIC") else \
            path if path.startswith("http") else sandbox + path

    good = [f"{sandbox}/assets/images/20.jpg", f"{public}/assets/pages/20",
            f"{sandbox}/assets/redirect?to=/assets/images/20.jpg",
            f"{sandbox}/assets/images/21.png"]
    ids = await enqueue(pool, "asset_upload_flow", [{"url": u} for u in good], max_attempts=3)
    ids += await enqueue(pool, "asset_upload_flow_stories",
                         [{"url": f"{sandbox}/assets/images/22.webp"}], max_attempts=3)
    hostile_ids = await enqueue(pool, "asset_upload_flow",
                                [{"url": url(p)} for p in HOSTILE], max_attempts=3)
    await wait_all_finished(pool, len(ids) + len(hostile_ids), 120, worker)

    rows = {r["id"]: r for r in await pool.fetch("SELECT * FROM scrape_request_log")}
    assert [rows[i]["status"] for i in ids] == ["COMPLETE"] * 5, [rows[i]["last_error"]
                                                                  for i in ids]
    data = [rows[i]["data"] for i in ids]
    keys = [(json.loads(d) if isinstance(d, str) else d)["key"] for d in data]
    assert len(set(keys[:3])) == 1 and len(set(keys)) == 3, "one picture, one key"
    stored = sorted(p.relative_to(store).as_posix() for p in store.rglob("*") if p.is_file())
    assert stored == sorted(set(keys))
    for task_id, (path, (kind, reason)) in zip(hostile_ids, HOSTILE.items(), strict=True):
        row = rows[task_id]
        assert (row["status"], row["error_kind"], row["retry_count"]) == ("FAILED", kind, 1), \
            (path, row["last_error"])
        assert reason in row["last_error"], (path, row["last_error"])
    failed = await pool.fetchval("SELECT count(*) FROM asset_log WHERE status = 'FAILED'")
    assert failed == len(HOSTILE)
    assert await pool.fetchval("SELECT count(*) FROM event_outbox WHERE type = 'asset.stored'") \
        == len(ids)

    # Still the same processes, and still serving.
    assert worker.alive() and worker.started_children() == started
    [again] = await enqueue(pool, "asset_upload_flow", [{"url": f"{public}/assets/pages/23"}])
    await wait_all_finished(pool, len(ids) + len(hostile_ids) + 1, 60, worker)
    assert await pool.fetchval("SELECT status FROM scrape_request_log WHERE id = $1",
                               again) == "COMPLETE"
