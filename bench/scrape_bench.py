"""`beat bench scrape --platform youtube`: refresh N videos through the real server and workers
against the sandbox (50 ms a call), one task per video as a scheduler would enqueue them; then,
in the same run, the bare ceiling: plain httpx fetching the same 50-id pages at the same number
of calls in flight, one executemany upsert per page, nothing else.

With `repeat`, Beat and the bare loop run that many times each, alternating (the order flips
every round), from the same empty tables; each line is the median run, with every run's rate,
and Beat's line says which share of the bare rate it reached, overall and in each round."""

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx

from bench.queue_bench import schedule
from bench.scratch import beat_process, rounded, scratch_database
from core import db
from core.config import Settings
from core.services import free_port
from youtube.settings import SANDBOX_KEYS

ENQUEUE_CHUNK = 10_000
CONCURRENCY = 50  # tasks per worker process: one 50-id videos.list in flight per process
SEED = 1
Line = dict[str, Any]


def video_ids(items: int) -> list[str]:
    from sandbox.youtube.world import build_world

    world = build_world(SEED)
    ids = [v for c in world.channels for v in world.videos_of(c.channel_id)]
    if items > len(ids):
        raise ValueError(f"the sandbox world has {len(ids)} videos; ask for fewer items")
    return ids[:items]


def run_scrape_bench(settings: Settings, items: int, processes: int,
                     latency_ms: float, repeat: int = 1) -> list[dict[str, Any]]:
    """Two lines, Beat's and the bare loop's, each the median of `repeat` runs."""
    assert settings.database_url
    if repeat < 1:
        raise ValueError("repeat must be at least 1")
    ids = video_ids(items)
    sandbox_port = free_port()
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    runs: dict[str, list[Line]] = {"beat": [], "bare": []}
    with scratch_database(settings.database_url) as url, \
            beat_process("sandbox", "--port", str(sandbox_port), "--quota", "100000000",
                         "--latency-ms", str(latency_ms)):
        systems: dict[str, Callable[[], Line]] = {
            "beat": lambda: _run_beat(url, sandbox_url, ids, processes),
            "bare": lambda: asyncio.run(_bare(url, sandbox_url, ids, processes))}
        for name in schedule(list(systems), repeat):
            asyncio.run(_reset(url))
            runs[name].append(systems[name]())
    beat, bare = _median_run(runs["beat"]), _median_run(runs["bare"])
    beat["ratio_to_bare"] = beat["items_per_s"] / bare["items_per_s"]
    beat["ratio_to_bare_by_round"] = [round(b["items_per_s"] / a["items_per_s"], 3)
                                      for b, a in zip(runs["beat"], runs["bare"])]
    return [rounded({**line, "concurrency": processes, "latency_ms": latency_ms})
            for line in (beat, bare)]


def _median_run(runs: list[Line]) -> Line:
    """The run with the median duration (the slower middle one of an even count), with the
    rate of every run."""
    middle = sorted(runs, key=lambda run: run["seconds"])[len(runs) // 2]
    return {**middle, "runs": [round(run["items_per_s"], 1) for run in runs]}


async def _reset(url: str) -> None:
    """Every run starts from empty task, event and video tables."""
    conn = await asyncpg.connect(db.asyncpg_dsn(url))
    try:
        await conn.execute("TRUNCATE scrape_request_log, event_outbox, youtube_post, post_log")
        await conn.execute("DROP TABLE IF EXISTS bare_video")
    finally:
        await conn.close()


def _run_beat(url: str, sandbox_url: str, ids: list[str], processes: int) -> Line:
    """One Beat run: a fresh server and worker supervisor around the measurement."""
    server_port = free_port()
    env = {"DATABASE_URL": url, "SANDBOX_URL": sandbox_url,
           "YOUTUBE_API_KEYS": ",".join(SANDBOX_KEYS),
           # As the sandbox's own quota: a run is not cut short by a day's units.
           "CREDENTIAL_QUOTAS": json.dumps({"youtube_data_api": "100000000/day"}),
           "FLOW_OVERRIDES": json.dumps(
               {"refresh_yt_posts": {"processes": processes, "concurrency": CONCURRENCY}})}
    with beat_process("server", "--port", str(server_port), **env), \
            beat_process("worker", "--flows", "refresh_yt_posts", **env):
        return asyncio.run(_beat(url, sandbox_url, f"http://127.0.0.1:{server_port}", ids))


async def _ready(client: httpx.AsyncClient, url: str) -> None:
    for _ in range(300):
        try:
            if (await client.get(url)).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


async def _usage(client: httpx.AsyncClient, sandbox_url: str) -> tuple[int, int]:
    usage = (await client.get(f"{sandbox_url}/_sandbox/usage")).json()
    units = sum(key["used"] for key in usage["quota"]["keys"].values())
    return sum(usage["calls"].values()), units


async def _beat(url: str, sandbox_url: str, server_url: str, ids: list[str]) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=120) as client:
        await _ready(client, f"{sandbox_url}/_sandbox/world")
        await _ready(client, f"{server_url}/heartbeat")
        await client.post(f"{sandbox_url}/_sandbox/reset")
        started = time.perf_counter()
        for start in range(0, len(ids), ENQUEUE_CHUNK):
            tasks = [{"flow": "refresh_yt_posts", "params": {"video_ids": [i]}}
                     for i in ids[start:start + ENQUEUE_CHUNK]]
            answer = await client.post(f"{server_url}/scrape_request_log/flows",
                                       json={"tasks": tasks})
            answer.raise_for_status()
        await _drained(url, len(ids))
        seconds = time.perf_counter() - started
        calls, units = await _usage(client, sandbox_url)
    return {"system": "beat", "items": len(ids), "seconds": seconds,
            "items_per_s": len(ids) / seconds, "upstream_calls": calls, "quota_units": units}


async def _drained(url: str, items: int) -> None:
    conn = await asyncpg.connect(db.asyncpg_dsn(url))
    try:
        deadline = time.monotonic() + max(300.0, items / 20)
        while await conn.fetchval("SELECT count(*) FROM scrape_request_log WHERE status IN "
                                  "('PENDING', 'PROCESSING')"):
            if time.monotonic() > deadline:
                raise RuntimeError("beat did not finish the refresh in time")
            await asyncio.sleep(0.05)
        stored = await conn.fetchval("SELECT count(*) FROM youtube_post")
        if stored != items:
            failed = await conn.fetch("SELECT status, last_error FROM scrape_request_log "
                                      "WHERE status <> 'COMPLETE' LIMIT 3")
            raise RuntimeError(f"beat stored {stored} of {items} videos: {failed}")
    finally:
        await conn.close()


BARE_TABLE = """CREATE TABLE bare_video (video_id text PRIMARY KEY, title text, views bigint,
                likes bigint, comments bigint, published_at text)"""
BARE_UPSERT = """INSERT INTO bare_video VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (video_id) DO UPDATE SET title = EXCLUDED.title,
                 views = EXCLUDED.views, likes = EXCLUDED.likes, comments = EXCLUDED.comments"""


async def _bare(url: str, sandbox_url: str, ids: list[str], concurrency: int) -> dict[str, Any]:
    pool = await asyncpg.create_pool(db.asyncpg_dsn(url), min_size=concurrency,
                                     max_size=concurrency)
    assert pool is not None
    pages = [ids[i:i + 50] for i in range(0, len(ids), 50)]
    async with httpx.AsyncClient(timeout=120) as client:
        await pool.execute(BARE_TABLE)
        await client.post(f"{sandbox_url}/_sandbox/reset")
        started = time.perf_counter()
        await asyncio.gather(*(_bare_loop(client, pool, sandbox_url, pages)
                               for _ in range(concurrency)))
        seconds = time.perf_counter() - started
        calls, units = await _usage(client, sandbox_url)
    stored = await pool.fetchval("SELECT count(*) FROM bare_video")
    await pool.close()
    if stored != len(ids):
        raise RuntimeError(f"bare stored {stored} of {len(ids)} videos")
    return {"system": "bare", "items": len(ids), "seconds": seconds,
            "items_per_s": len(ids) / seconds, "upstream_calls": calls, "quota_units": units}


async def _bare_loop(client: httpx.AsyncClient, pool: asyncpg.Pool, sandbox_url: str,
                     pages: list[list[str]]) -> None:
    while pages:
        page = pages.pop()
        answer = await client.get(f"{sandbox_url}/youtube/v3/videos", params={
            "part": "snippet,statistics,contentDetails", "id": ",".join(page),
            "key": SANDBOX_KEYS[0]})
        rows = [(v["id"], v["snippet"]["title"], _count(v, "viewCount"), _count(v, "likeCount"),
                 _count(v, "commentCount"), v["snippet"]["publishedAt"])
                for v in answer.json()["items"]]
        await pool.executemany(BARE_UPSERT, rows)


def _count(video: dict[str, Any], name: str) -> int | None:
    value = video.get("statistics", {}).get(name)
    return None if value is None else int(value)
