"""Backoff of items whose refreshes keep failing, over simulated hourly ticks against real
PostgreSQL (tests/scheduler/flaky.py: a post refreshed one by one, a playlist as a collection):
a failing item is enqueued with doubling gaps, capped, not every tick; a permanent failure
(not found) starts further out; a success ends the backoff and, for a collection, is its
freshness; `GET /watchlists/{name}/freshness`, `/items`, `beat watch status` and
`beat watch list` show the items backing off with their last error."""

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from core.config import Settings
from core.platforms import register, unregister
from core.scheduler.plan import Watched
from core.scheduler.tick import Watchers, run_tick
from core.watchlists import store
from core.watchlists.items import Item
from tests.api.support import admin_client
from tests.scheduler.flaky import LOOKUPS, PLATFORM
from tests.test_cli import beat, beat_env

HOUR = timedelta(hours=1)
START = datetime(2020, 1, 1, tzinfo=UTC)  # simulated ticks are after any task's real times
FLAKY = "tests.scheduler.flaky:PLATFORM"


@pytest.fixture
def tuned(settings: Settings) -> Settings:
    return settings.model_copy(update={"scheduler_interval": 3600, "scheduler_backoff_s": 3600,
                                       "scheduler_backoff_max_s": 12 * 3600})


@pytest.fixture
def flaky() -> Iterator[Watchers]:
    register(PLATFORM)
    try:
        yield Watchers({"flaky": PLATFORM}, {"flaky": LOOKUPS})
    finally:
        unregister("flaky")


async def watching(pool: asyncpg.Pool, *items: Item) -> None:
    await pool.execute("TRUNCATE watchlist, watch_item_state RESTART IDENTITY CASCADE")
    await store.create(pool, "flaky")
    await store.add_items(pool, "flaky", list(items))


async def finish(pool: asyncpg.Pool, flow: str, status: str, kind: str | None = None) -> int:
    """What a worker would do: the flow's tasks that are queued end with `status`."""
    done = await pool.fetch(
        "UPDATE scrape_request_log SET status = $2, error_kind = $3, scraped_at = now(), "
        "last_error = CASE WHEN $2 = 'FAILED' THEN 'no such post: gone' END "
        "WHERE flow = $1 AND status = 'PENDING' RETURNING id", flow, status, kind)
    return len(done)


async def hours_enqueued(pool: asyncpg.Pool, settings: Settings, watchers: Watchers,
                         flow: str, hours: range, status: str, kind: str | None = None
                         ) -> list[int]:
    """Run a tick each simulated hour; the flow's tasks end with `status` by the next."""
    enqueued = []
    for hour in hours:
        await run_tick(pool, settings, None, START + hour * HOUR, watchers)
        if await finish(pool, flow, status, kind):
            enqueued.append(hour)
    return enqueued


async def state(pool: asyncpg.Pool, kind: str) -> asyncpg.Record:
    row: asyncpg.Record = await pool.fetchrow(
        "SELECT * FROM watch_item_state WHERE platform = 'flaky' AND kind = $1", kind)
    return row


async def test_a_failing_item_is_tried_with_doubling_gaps_up_to_the_cap(
        pool: asyncpg.Pool, tuned: Settings, flaky: Watchers) -> None:
    await watching(pool, Item("flaky", "post", "gone"))
    hours = await hours_enqueued(pool, tuned, flaky, "flaky_post", range(48), "FAILED",
                                 "source_unavailable")
    # failures seen an hour after each attempt; waits of 1, 2, 4, 8 hours, then 12 (the cap)
    assert hours == [0, 2, 5, 10, 19, 32, 45]
    row = await state(pool, "post")
    assert (row["failures"], row["error_kind"], row["last_error"]) == (
        7, "source_unavailable", "no such post: gone")
    assert row["retry_at"] == START + 58 * HOUR and row["task_id"] is None


async def test_a_permanent_failure_waits_longer_and_a_success_resets_it(
        pool: asyncpg.Pool, tuned: Settings, flaky: Watchers) -> None:
    await watching(pool, Item("flaky", "post", "gone"))
    failed = await hours_enqueued(pool, tuned, flaky, "flaky_post", range(20), "FAILED",
                                  "not_found")
    assert failed == [0, 5, 14]  # 4 hours, then 8, then 12 (the cap)
    # it is back: the next attempt goes through, the success is read at the next tick, and
    # the item (never fresh on this platform) is tried every tick again
    back = await hours_enqueued(pool, tuned, flaky, "flaky_post", range(27, 31), "COMPLETE")
    assert back == [27, 28, 29, 30]
    row = await state(pool, "post")
    assert (row["failures"], row["retry_at"], row["error_kind"]) == (0, None, None)
    # failing again, it starts over from the first wait (4 hours), not the cap
    again = await hours_enqueued(pool, tuned, flaky, "flaky_post", range(31, 40), "FAILED",
                                 "not_found")
    assert again == [31, 36]


async def test_a_collection_is_fresh_from_its_refresh_completing_to_its_target_age(
        pool: asyncpg.Pool, tuned: Settings, flaky: Watchers) -> None:
    await watching(pool, Item("flaky", "playlist", "hits", max_age_s=10 * 3600))
    assert await state(pool, "playlist") is None
    hours = await hours_enqueued(pool, tuned, flaky, "flaky_playlist", range(20), "COMPLETE")
    # refreshed as seen at hour 1, due again at 0.8 of 10 hours: hour 9; seen at 10, due at 18
    assert hours == [0, 9, 18]
    row = await state(pool, "playlist")
    assert row["refreshed_at"] == START + 19 * HOUR and row["failures"] == 0
    # removed from the watchlist, it is forgotten at the next tick
    await store.remove_items(pool, "flaky", [Item("flaky", "playlist", "hits")])
    await run_tick(pool, tuned, None, START + 20 * HOUR, flaky)
    assert await state(pool, "playlist") is None


async def test_the_api_and_the_cli_show_the_items_backing_off(
        pool: asyncpg.Pool, tuned: Settings, flaky: Watchers, tmp_path: Path) -> None:
    await watching(pool, Item("flaky", "post", "gone", importance=2),
                   Item("flaky", "playlist", "hits"))
    now = datetime.now(UTC)
    await run_tick(pool, tuned, None, now, flaky)
    assert await finish(pool, "flaky_post", "FAILED", "not_found") == 1
    assert await finish(pool, "flaky_playlist", "COMPLETE") == 1
    await run_tick(pool, tuned, None, now + timedelta(minutes=1), flaky)
    async with admin_client(tuned) as api:
        report = (await api.get("/watchlists/flaky/freshness")).json()
        items = (await api.get("/watchlists/flaky/items")).json()["items"]
    assert (report["items"], report["fresh"], report["never_refreshed"]) == (2, 1, 1)
    assert report["backing_off"] == 1
    [worst] = report["backing_off_worst"]
    retry_at = now + timedelta(minutes=1, hours=4)
    assert worst == {"platform": "flaky", "kind": "post", "id": "gone", "failures": 1,
                     "retry_at": retry_at.isoformat().replace("+00:00", "Z"),
                     "error_kind": "not_found", "last_error": "no such post: gone"}
    post, playlist = sorted(items, key=lambda i: i["kind"] != "post")
    assert (post["failures"], post["error_kind"]) == (1, "not_found") and post["retry_at"]
    assert (playlist["failures"], playlist["retry_at"]) == (0, None)

    assert tuned.database_url and tuned.redis_url
    env = beat_env(DATABASE_URL=tuned.database_url, REDIS_URL=tuned.redis_url,
                   BEAT_HOME=str(tmp_path), BEAT_PLATFORMS=FLAKY)
    status = beat("watch", "status", "flaky", env=env)
    assert status.returncode == 0, status.stderr
    lines = status.stdout.splitlines()
    assert lines[0].startswith("flaky: 2 items, 1 within their target age (50.0%")
    at = lines.index("backing off: 1 item whose refreshes keep failing (worst first)")
    # 4 hours after the second tick, a minute after `now`: less what this test took so far
    assert re.fullmatch(r"  flaky post gone: 1 failed, next in (4h00m|3h[0-5]\dm) "
                        r"\(not_found\): no such post: gone", lines[at + 1]), lines[at + 1]
    listed = beat("watch", "list", "flaky", env=env)
    assert listed.returncode == 0, listed.stderr
    rows = [line.split() for line in listed.stdout.splitlines()]
    assert rows[0] == ["PLATFORM", "KIND", "ID", "IMPORTANCE", "MAX", "AGE", "FAILING"]
    assert rows[1] == ["flaky", "playlist", "hits", "1", "1d00h", "-"]
    assert rows[2][:8] == ["flaky", "post", "gone", "2", "1d00h", "1", "failed,", "next"]
    assert rows[2][-1] == "(not_found)"


def test_an_item_refreshed_since_its_failure_is_not_held_back() -> None:
    failed, retry = START, START + 4 * HOUR
    held = Watched("flaky", "post", "x", 1, 3600, None, 1, retry, failed)
    assert held.backing_off(START + HOUR) and not held.backing_off(retry)
    older = Watched("flaky", "post", "x", 1, 3600, failed - HOUR, 1, retry, failed)
    assert older.backing_off(START + HOUR)
    # refreshed on demand after the failure was seen: the backoff is over
    since = Watched("flaky", "post", "x", 1, 3600, failed + HOUR, 1, retry, failed)
    assert not since.backing_off(START + HOUR)
