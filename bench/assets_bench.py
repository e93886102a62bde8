"""`beat bench assets`: N sandbox images (JPEG, PNG and WebP in turn, 100 KB - 2 MB each)
stored by the real assets worker (`beat worker --flows asset_upload_flow`: guarded download,
Pillow thumbnail at quality 30, local store, asset_log, event), timed from the enqueue of the
first task to the last one finished; then, in the same run, the seed's way as a baseline: a
pool of 30 threads that download, thumbnail and write the same images with no guard, no
queue and no log.

The sandbox makes each image once before anything is timed, so neither line pays for image
generation. Each line: images, seconds, images_per_s, source_bytes, stored_bytes, bytes_saved
and saved_pct."""

import asyncio
import hashlib
import io
import json
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.scratch import beat_process, rounded, scratch_database
from core import db
from core.config import Settings
from core.queue import NewTask, Queue
from core.services import free_port

FORMATS = ("jpg", "png", "webp")
SEED_THREADS = 30  # the seed's ThreadPoolExecutor
Line = dict[str, Any]


def image_urls(sandbox_url: str, images: int) -> list[str]:
    return [f"{sandbox_url}/assets/images/{n}.{FORMATS[n % 3]}" for n in range(images)]


def run_assets_bench(settings: Settings, images: int, processes: int,
                     concurrency: int) -> list[Line]:
    """Two lines: Beat's assets worker and the seed-style thread pool."""
    assert settings.database_url
    if not 1 <= images <= 500:
        raise ValueError("--images: 1 to 500 (the sandbox keeps 512 images made)")
    port = free_port()
    sandbox_url = f"http://127.0.0.1:{port}"
    urls = image_urls(sandbox_url, images)
    with scratch_database(settings.database_url) as url, \
            beat_process("sandbox", "--port", str(port)), \
            tempfile.TemporaryDirectory(prefix="beat-bench-assets-") as scratch:
        source_bytes = asyncio.run(_warm(sandbox_url, urls))
        beat = _run_beat(url, sandbox_url, urls, processes, concurrency, Path(scratch, "beat"))
        seed = _run_threads(urls, Path(scratch, "threads"))
    lines = [{**beat, "processes": processes, "concurrency": concurrency},
             {**seed, "threads": SEED_THREADS}]
    return [rounded({**line, "source_bytes": source_bytes,
                     "bytes_saved": source_bytes - line["stored_bytes"],
                     "saved_pct": 100 * (1 - line["stored_bytes"] / source_bytes)})
            for line in lines]


async def _warm(sandbox_url: str, urls: list[str]) -> int:
    """Have the sandbox make every image (8 at a time); the bytes they add up to."""
    async with httpx.AsyncClient(timeout=120) as client:
        for _ in range(300):
            try:
                if (await client.get(f"{sandbox_url}/assets/hostile/no-og")).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
        gate = asyncio.Semaphore(8)

        async def size(url: str) -> int:
            async with gate:
                answer = await client.get(url)
                answer.raise_for_status()
                return len(answer.content)

        return sum(await asyncio.gather(*(size(u) for u in urls)))


def _run_beat(url: str, sandbox_url: str, urls: list[str], processes: int, concurrency: int,
              store: Path) -> Line:
    env = {"DATABASE_URL": url, "SANDBOX_URL": sandbox_url, "ASSETS_DIR": str(store),
           "FLOW_OVERRIDES": json.dumps({"asset_upload_flow": {
               "processes": processes, "concurrency": concurrency}})}
    with beat_process("worker", "--flows", "asset_upload_flow", "--no-maintenance", **env):
        return asyncio.run(_beat(url, urls, processes))


async def _beat(url: str, urls: list[str], processes: int) -> Line:
    pool = await db.create_pool(url)
    try:
        await _workers_listening(pool, processes)
        started = time.perf_counter()
        await Queue(pool).enqueue_many([NewTask("asset_upload_flow", {"url": u},
                                                max_attempts=1) for u in urls])
        deadline = time.monotonic() + 60 + len(urls)
        while await pool.fetchval("SELECT count(*) FROM scrape_request_log WHERE status IN "
                                  "('PENDING', 'PROCESSING')"):
            if time.monotonic() > deadline:
                raise RuntimeError("the assets worker did not finish in time")
            await asyncio.sleep(0.02)
        seconds = time.perf_counter() - started
        done = await pool.fetchrow("SELECT count(*) FILTER (WHERE status = 'STORED') AS stored, "
                                   "coalesce(sum(bytes), 0) AS bytes FROM asset_log")
        if done["stored"] != len(urls):
            errors = await pool.fetch("SELECT last_error FROM scrape_request_log WHERE status "
                                      "<> 'COMPLETE' LIMIT 3")
            raise RuntimeError(f"stored {done['stored']} of {len(urls)} images: "
                               f"{[e['last_error'] for e in errors]}")
    finally:
        await pool.close()
    return {"system": "beat", "images": len(urls), "seconds": seconds,
            "images_per_s": len(urls) / seconds, "stored_bytes": int(done["bytes"])}


async def _workers_listening(pool: asyncpg.Pool, processes: int) -> None:
    """Ready: each worker process holds its LISTEN connection."""
    for _ in range(600):
        listening = await pool.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND "
            "pid <> pg_backend_pid() AND (query ILIKE 'LISTEN%' OR query = 'SELECT 1')")
        if listening >= processes:
            return
        await asyncio.sleep(0.1)
    raise RuntimeError("the assets worker did not start")


def _run_threads(urls: list[str], store: Path) -> Line:
    """The seed's thumbnails: a thread pool, requests-style blocking downloads, Pillow at
    quality 30, files named by hash."""
    from PIL import Image

    store.mkdir(parents=True)

    def one(url: str) -> int:
        with httpx.Client(timeout=60) as client:
            data = client.get(url).content
        with Image.open(io.BytesIO(data)) as image:
            thumb = image.convert("RGB")
            thumb.thumbnail((1080, 1080))
            out = io.BytesIO()
            thumb.save(out, "JPEG", quality=30, optimize=True)
        body = out.getvalue()
        (store / f"{hashlib.sha256(body).hexdigest()}.jpg").write_bytes(body)
        return len(body)

    started = time.perf_counter()
    with ThreadPoolExecutor(SEED_THREADS) as pool:
        stored = sum(pool.map(one, urls))
    seconds = time.perf_counter() - started
    return {"system": "threads", "images": len(urls), "seconds": seconds,
            "images_per_s": len(urls) / seconds, "stored_bytes": stored}
