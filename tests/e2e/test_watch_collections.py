"""Watched collections end to end: the sandbox and a worker as real processes, the scheduler's
ticks run here on a clock the test moves. A YouTube playlist (added by URL) and an Instagram
hashtag (added by platform, kind and id) are refreshed by the first tick's tasks (the playlist
within the quota units its platform declares) and turn fresh once the next tick reads that they
completed; a playlist the platform does not have fails as
not found and is not enqueued again until its backoff is over, then with a doubled wait."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest

from core import db
from core.config import Settings
from core.platforms import registry
from core.ratelimit import RateLimiter
from core.scheduler.outcomes import PERMANENT_FACTOR
from core.scheduler.tick import Watchers, run_tick
from core.watchlists import store
from core.watchlists.freshness import freshness
from core.watchlists.items import ItemIn, resolve_items
from instagram.settings import SANDBOX_GRAPH_TOKENS, SANDBOX_RAPIDAPI_KEYS
from sandbox.youtube.world import build_world
from tests.e2e.procs import BeatProcess, Launcher, free_port, wait_worker_ready
from tests.e2e.support import FINISHED, wait_for
from youtube.settings import SANDBOX_KEYS

FLOWS = "refresh_yt_posts_by_playlist_id,fetch_hashtag_posts"
MISSING = "PL" + "Z" * 30
HASHTAG = "coffee"


class Stack:
    def __init__(self, pool: asyncpg.Pool, worker: BeatProcess, settings: Settings,
                 limiter: RateLimiter) -> None:
        self.pool, self.worker, self.settings, self.limiter = pool, worker, settings, limiter
        self.watchers = Watchers.of(settings)

    async def tick(self, at: datetime) -> int:
        _, created = await run_tick(self.pool, self.settings, self.limiter, at, self.watchers)
        return created

    async def quota_used(self) -> int:
        async with httpx.AsyncClient(timeout=10) as client:
            usage = (await client.get(f"{self.settings.sandbox_url}/_sandbox/usage")).json()
        return int(usage["quota"]["keys"][SANDBOX_KEYS[0]]["used"])

    async def graph_requests(self) -> int:
        async with httpx.AsyncClient(timeout=10) as client:
            usage = (await client.get(
                f"{self.settings.sandbox_url}/_sandbox/instagram/graph/usage")).json()
        return int(usage["calls"]["app"])

    async def all_finished(self) -> list[asyncpg.Record]:
        async def over() -> list[asyncpg.Record] | None:
            rows = await self.pool.fetch("SELECT * FROM scrape_request_log ORDER BY id")
            return rows if all(r["status"] in FINISHED for r in rows) else None

        found: list[asyncpg.Record] = await wait_for(over, 60, "refreshes finished",
                                                     self.worker)
        return found


@pytest.fixture(scope="module")
async def stack(launcher: Launcher, database_url: str, settings: Settings
                ) -> AsyncIterator[Stack]:
    sandbox_url = f"http://127.0.0.1:{free_port()}"
    launcher.spawn("sandbox", ["sandbox", "--port", sandbox_url.rpartition(":")[2]],
                   launcher.env())
    worker = launcher.worker(FLOWS, maintenance=False, WORKER_PROCESS_CAP=1,
                             QUEUE_POLL_INTERVAL=0.2, SANDBOX_URL=sandbox_url,
                             YOUTUBE_API_KEYS=SANDBOX_KEYS[0],
                             INSTAGRAM_GRAPH_TOKENS=",".join(SANDBOX_GRAPH_TOKENS),
                             INSTAGRAM_RAPIDAPI_KEYS=",".join(SANDBOX_RAPIDAPI_KEYS))
    await wait_worker_ready(worker, database_url, workers=2)
    pool = await db.create_pool(database_url, max_size=4)

    async def key_imported() -> bool:
        return bool(await pool.fetchval(
            "SELECT count(*) FROM credential WHERE source = 'youtube_data_api'"))

    await wait_for(key_imported, 30, "the sandbox key imported", worker)
    own = settings.model_copy(update={"rate_limit_prefix": launcher.rate_limit_prefix,
                                      "sandbox_url": sandbox_url, "scheduler_interval": 3600})
    assert own.redis_url
    limiter = RateLimiter.from_url(own.redis_url, prefix=own.rate_limit_prefix)
    try:
        yield Stack(pool, worker, own, limiter)
    finally:
        await limiter.aclose()
        await pool.close()


async def test_a_playlist_and_a_hashtag_turn_fresh_and_a_missing_playlist_backs_off(
        stack: Stack) -> None:
    playlist = next(p for p in build_world(1).playlists
                    if not p.uploads and 0 < len(p.video_ids) <= 200)
    given = [ItemIn(url=f"https://www.youtube.com/playlist?list={playlist.playlist_id}"),
             ItemIn(platform="instagram", kind="hashtag", id=HASHTAG),
             ItemIn(platform="youtube", kind="playlist", id=MISSING)]
    items, rejected = await resolve_items(stack.settings, registry(stack.settings), given)
    assert rejected == [] and len(items) == 3
    await store.create(stack.pool, "collections")
    await store.add_items(stack.pool, "collections", items)
    start = datetime.now(UTC)

    assert await stack.tick(start) == 3
    tasks = {(r["flow"], r["params"].get("playlist_id") or r["params"].get("hashtag")): r
             for r in await stack.all_finished()}
    assert tasks[("refresh_yt_posts_by_playlist_id", playlist.playlist_id)]["status"] \
        == "COMPLETE"
    assert tasks[("fetch_hashtag_posts", HASHTAG)]["status"] == "COMPLETE"
    missing = tasks[("refresh_yt_posts_by_playlist_id", MISSING)]
    assert (missing["status"], missing["error_kind"]) == ("FAILED", "not_found")
    stored = await stack.pool.fetchval("SELECT count(*) FROM youtube_post "
                                       "WHERE video_id = ANY($1::text[])",
                                       list(playlist.video_ids))
    assert stored == len(playlist.video_ids)
    linked = await stack.pool.fetchval("SELECT count(*) FROM instagram_post_link "
                                       "WHERE kind = 'hashtag' AND key = $1", HASHTAG)
    assert linked == tasks[("fetch_hashtag_posts", HASHTAG)]["data"]["posts"] > 0
    # the sandbox's own count: a page of playlistItems and a call of videos per 50 videos, and
    # the missing playlist's one page at most; within what the platform declares a refresh costs
    pages = -(-len(playlist.video_ids) // 50)
    cost = stack.watchers.costs()["refresh_yt_posts_by_playlist_id"]
    assert 2 * pages <= await stack.quota_used() <= 2 * pages + 1 <= 2 * cost.units
    # and the hashtag's Graph API requests (the search and its pages), the only ones made
    hashtag_cost = stack.watchers.costs()["fetch_hashtag_posts"]
    assert 2 <= await stack.graph_requests() <= hashtag_cost.requests

    # the next tick reads the outcomes: nothing goes out again
    seen = start + timedelta(minutes=1)
    assert await stack.tick(seen) == 0
    report = await freshness(stack.pool, stack.settings, stack.limiter, "collections", seen)
    assert (report.items, report.fresh, report.never_refreshed) == (3, 2, 1)
    assert report.backing_off == 1
    [worst] = report.worst
    assert (worst["id"], worst["failures"], worst["error_kind"]) == (MISSING, 1, "not_found")
    wait = timedelta(seconds=stack.settings.scheduler_backoff_s * PERMANENT_FACTOR)
    assert datetime.fromisoformat(worst["retry_at"]) == seen + wait

    # just before its backoff is over, still nothing; at its end, only the missing playlist
    assert await stack.tick(seen + wait - timedelta(seconds=1)) == 0
    assert await stack.tick(seen + wait) == 1
    [again] = [r for r in await stack.all_finished() if r["id"] not in
               {t["id"] for t in tasks.values()}]
    assert (again["params"]["playlist_id"], again["status"]) == (MISSING, "FAILED")
    later = seen + wait + timedelta(minutes=1)
    assert await stack.tick(later) == 0
    report = await freshness(stack.pool, stack.settings, stack.limiter, "collections", later)
    assert report.fresh == 2 and report.worst[0]["failures"] == 2
    assert datetime.fromisoformat(report.worst[0]["retry_at"]) == later + 2 * wait
