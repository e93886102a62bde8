"""`beat bench scrape --platform instagram`: refresh N business profiles with their recent posts
through the real server and workers against the sandbox (50 ms a call), one
refresh_profile_by_handle task per profile as a scheduler would enqueue them; then, in the same
run, the bare ceiling: plain httpx asking the Graph API's business_discovery for the same
profiles at the same number of calls in flight, one upsert of the profile and one executemany of
its posts per answer, nothing else.

Beat's line also counts the Graph API calls per profile (business_discovery brings the profile
and its recent media together: one call)."""

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx

from bench.queue_bench import schedule
from bench.scrape_bench import _median_run, _ready
from bench.scratch import beat_process, rounded, scratch_database
from core import db
from core.config import Settings
from core.services import free_port
from instagram.settings import SANDBOX_GRAPH_TOKENS

ENQUEUE_CHUNK = 10_000
CONCURRENCY = 25  # tasks per worker process
RECENT_POSTS = 12
SEED = 1
FLOW = "refresh_profile_by_handle"
GRAPH_VERSION = "v19.0"
PROFILE_FIELDS = ("id,ig_id,username,name,biography,website,followers_count,follows_count,"
                  "media_count,profile_picture_url")
MEDIA_FIELDS = ("id,ig_id,caption,comments_count,like_count,media_type,media_product_type,"
                "permalink,timestamp,media_url,thumbnail_url")
Line = dict[str, Any]


def handles(items: int) -> list[str]:
    from sandbox.instagram.world import build_world

    return list(build_world(SEED).business_handles(items))


def run_instagram_bench(settings: Settings, items: int, processes: int, latency_ms: float,
                        repeat: int = 1) -> list[Line]:
    """Two lines, Beat's and the bare loop's, each the median of `repeat` runs."""
    assert settings.database_url
    if repeat < 1:
        raise ValueError("repeat must be at least 1")
    names = handles(items)
    sandbox_port = free_port()
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    in_flight = processes * CONCURRENCY
    runs: dict[str, list[Line]] = {"beat": [], "bare": []}
    with scratch_database(settings.database_url) as url, \
            beat_process("sandbox", "--port", str(sandbox_port), "--quota", "100000000",
                         "--latency-ms", str(latency_ms)):
        asyncio.run(_warm(sandbox_url, names, in_flight))
        systems: dict[str, Callable[[], Line]] = {
            "beat": lambda: _run_beat(url, sandbox_url, names, processes),
            "bare": lambda: asyncio.run(_bare(url, sandbox_url, names, in_flight))}
        for name in schedule(list(systems), repeat):
            asyncio.run(_reset(url))
            runs[name].append(systems[name]())
    beat, bare = _median_run(runs["beat"]), _median_run(runs["bare"])
    beat["ratio_to_bare"] = beat["items_per_s"] / bare["items_per_s"]
    beat["ratio_to_bare_by_round"] = [round(b["items_per_s"] / a["items_per_s"], 3)
                                      for b, a in zip(runs["beat"], runs["bare"])]
    return [rounded({**line, "platform": "instagram", "concurrency": in_flight,
                     "latency_ms": latency_ms}) for line in (beat, bare)]


async def _reset(url: str) -> None:
    conn = await asyncpg.connect(db.asyncpg_dsn(url))
    try:
        await conn.execute("TRUNCATE scrape_request_log, event_outbox, instagram_account, "
                           "instagram_post, profile_log, post_log")
        await conn.execute("DROP TABLE IF EXISTS bare_profile, bare_post")
    finally:
        await conn.close()


def _run_beat(url: str, sandbox_url: str, names: list[str], processes: int) -> Line:
    """One Beat run: a fresh server and worker supervisor around the measurement."""
    server_port = free_port()
    env = {"DATABASE_URL": url, "SANDBOX_URL": sandbox_url,
           "INSTAGRAM_GRAPH_TOKENS": ",".join(SANDBOX_GRAPH_TOKENS),
           # One sandbox token: its 200 calls an hour would pace the run, not measure Beat.
           "CREDENTIAL_LIMITS": json.dumps({"instagram_graph_api": []}),
           "FLOW_OVERRIDES": json.dumps({FLOW: {"processes": processes,
                                                "concurrency": CONCURRENCY}})}
    with beat_process("server", "--port", str(server_port), **env), \
            beat_process("worker", "--flows", FLOW, **env):
        return asyncio.run(_beat(url, sandbox_url, f"http://127.0.0.1:{server_port}", names))


async def _prepare(client: httpx.AsyncClient, sandbox_url: str) -> None:
    """A sandbox with its counters zeroed and a Graph usage budget no run comes near (the
    benchmark measures throughput, not the platform's throttling)."""
    await client.post(f"{sandbox_url}/_sandbox/reset")
    await client.post(f"{sandbox_url}/_sandbox/instagram/graph/reset")
    relaxed = await client.post(f"{sandbox_url}/_sandbox/instagram/graph/usage", json={
        "app_calls": 100_000_000, "token_calls": 100_000_000, "business_calls": 100_000_000,
        "insights_calls": 100_000_000, "reset": True})
    relaxed.raise_for_status()


async def _graph_calls(client: httpx.AsyncClient, sandbox_url: str) -> int:
    usage = (await client.get(f"{sandbox_url}/_sandbox/usage")).json()
    return sum(n for route, n in usage["calls"].items() if " /graph/" in route)


async def _beat(url: str, sandbox_url: str, server_url: str, names: list[str]) -> Line:
    async with httpx.AsyncClient(timeout=120) as client:
        await _ready(client, f"{sandbox_url}/_sandbox/world")
        await _ready(client, f"{server_url}/heartbeat")
        await _prepare(client, sandbox_url)
        started = time.perf_counter()
        for start in range(0, len(names), ENQUEUE_CHUNK):
            tasks = [{"flow": FLOW, "params": {"handle": h, "posts": RECENT_POSTS}}
                     for h in names[start:start + ENQUEUE_CHUNK]]
            answer = await client.post(f"{server_url}/scrape_request_log/flows",
                                       json={"tasks": tasks})
            answer.raise_for_status()
        await _drained(url, len(names))
        seconds = time.perf_counter() - started
        calls = await _graph_calls(client, sandbox_url)
    return {"system": "beat", "items": len(names), "seconds": seconds,
            "items_per_s": len(names) / seconds, "graph_calls": calls,
            "graph_calls_per_profile": calls / len(names)}


async def _drained(url: str, items: int) -> None:
    conn = await asyncpg.connect(db.asyncpg_dsn(url))
    try:
        deadline = time.monotonic() + max(300.0, items / 10)
        while await conn.fetchval("SELECT count(*) FROM scrape_request_log WHERE status IN "
                                  "('PENDING', 'PROCESSING')"):
            if time.monotonic() > deadline:
                raise RuntimeError("beat did not finish the refresh in time")
            await asyncio.sleep(0.05)
        stored = await conn.fetchval("SELECT count(*) FROM instagram_account "
                                     "WHERE averages_posts IS NOT NULL")
        if stored != items:
            failed = await conn.fetch("SELECT status, last_error FROM scrape_request_log "
                                      "WHERE status <> 'COMPLETE' LIMIT 3")
            raise RuntimeError(f"beat stored {stored} of {items} profiles: {failed}")
    finally:
        await conn.close()


BARE_TABLES = ("""CREATE TABLE bare_profile (profile_id text PRIMARY KEY, handle text,
                  followers bigint, following bigint, media_count bigint)""",
               """CREATE TABLE bare_post (post_id text PRIMARY KEY, profile_id text,
                  caption text, likes bigint, comments bigint, published_at text)""")
BARE_PROFILE = """INSERT INTO bare_profile VALUES ($1, $2, $3, $4, $5)
                  ON CONFLICT (profile_id) DO UPDATE SET followers = EXCLUDED.followers"""
BARE_POST = """INSERT INTO bare_post VALUES ($1, $2, $3, $4, $5, $6)
               ON CONFLICT (post_id) DO UPDATE SET likes = EXCLUDED.likes,
               comments = EXCLUDED.comments"""


async def _bare(url: str, sandbox_url: str, names: list[str], in_flight: int) -> Line:
    pool = await asyncpg.create_pool(db.asyncpg_dsn(url), min_size=4, max_size=20)
    assert pool is not None
    queue = list(names)
    # One client per CONCURRENCY calls in flight, as each Beat worker process has its own:
    # httpcore's pool costs grow with its connections, and one pool of them all would make
    # the ceiling lower than it is.
    clients = [_client(CONCURRENCY) for _ in range(max(1, in_flight // CONCURRENCY))]
    async with contextlib.AsyncExitStack() as stack:
        for client in clients:
            await stack.enter_async_context(client)
        for statement in BARE_TABLES:
            await pool.execute(statement)
        await _prepare(clients[0], sandbox_url)
        started = time.perf_counter()
        await asyncio.gather(*(_bare_loop(clients[n % len(clients)], pool, sandbox_url, queue)
                               for n in range(in_flight)))
        seconds = time.perf_counter() - started
        calls = await _graph_calls(clients[0], sandbox_url)
    stored = await pool.fetchval("SELECT count(*) FROM bare_profile")
    await pool.close()
    if stored != len(names):
        raise RuntimeError(f"bare stored {stored} of {len(names)} profiles")
    return {"system": "bare", "items": len(names), "seconds": seconds,
            "items_per_s": len(names) / seconds, "graph_calls": calls,
            "graph_calls_per_profile": calls / len(names)}


def _client(in_flight: int) -> httpx.AsyncClient:
    """A client that keeps every connection it opens (httpx keeps 20 by default: with more in
    flight it would open and close connections all run long)."""
    return httpx.AsyncClient(timeout=120, limits=httpx.Limits(
        max_connections=in_flight, max_keepalive_connections=in_flight))


async def _warm(sandbox_url: str, names: list[str], in_flight: int) -> None:
    """Every profile asked for once before the runs, untimed: the sandbox generates a
    profile's media on first use, and neither system should pay for that in its run."""
    queue = list(names)
    async with _client(in_flight) as client:
        await _ready(client, f"{sandbox_url}/_sandbox/world")
        await _prepare(client, sandbox_url)
        await asyncio.gather(*(_fetch_loop(client, sandbox_url, queue)
                               for _ in range(in_flight)))


async def _fetch_loop(client: httpx.AsyncClient, sandbox_url: str, queue: list[str]) -> None:
    while queue:
        await _discover(client, sandbox_url, queue.pop())


async def _discover(client: httpx.AsyncClient, sandbox_url: str, handle: str) -> Any:
    owner, token = SANDBOX_GRAPH_TOKENS[0].split(":", 1)
    fields = (f"business_discovery.username({handle}){{{PROFILE_FIELDS},"
              f"media.limit({RECENT_POSTS}){{{MEDIA_FIELDS}}}}}")
    answer = await client.get(f"{sandbox_url}/graph/{GRAPH_VERSION}/{owner}",
                              params={"fields": fields, "access_token": token})
    return answer.json()["business_discovery"]


async def _bare_loop(client: httpx.AsyncClient, pool: asyncpg.Pool, sandbox_url: str,
                     queue: list[str]) -> None:
    while queue:
        found = await _discover(client, sandbox_url, queue.pop())
        profile_id = found.get("ig_id") or found["id"]
        async with pool.acquire() as conn:
            await conn.execute(BARE_PROFILE, str(profile_id), found["username"],
                               found.get("followers_count"), found.get("follows_count"),
                               found.get("media_count"))
            await conn.executemany(BARE_POST, [
                (str(m.get("ig_id") or m["id"]), str(profile_id), m.get("caption"),
                 m.get("like_count"), m.get("comments_count"), m.get("timestamp"))
                for m in found.get("media", {}).get("data", [])])
