"""The report job without workers: every input line gets a row and a status, unique items are
enqueued once each under their refresh's idempotency key, a refresh still queued at the
deadline says "timed out", finished tasks map to their reasons, and thumbnails go to the asset
flow (waited for only while a worker takes them)."""

import asyncio
import time
from datetime import UTC, datetime

import asyncpg
import pytest

from core.config import Settings
from core.links import Link
from core.platforms import registry
from core.queue import Queue, Status, Task
from core.reports import job as job_module
from core.reports.job import (
    Item,
    Job,
    failure,
    read_all,
    retryable,
    run_report,
    store_thumbnails,
)
from tests.e2e.procs import free_port

VIDEO = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
TWEET = "https://x.com/beatnews/status/1234567890"
LINES = [VIDEO, "youtu.be/dQw4w9WgXcQ", TWEET, "https://example.com/a/post",
         "just words", "https://www.youtube.com/playlist?list=PL" + "b" * 30,
         "https://t.co/abcdef1234"]


def task(status: Status, kind: str | None = None, error: str | None = None) -> Task:
    now = datetime.now(UTC)
    return Task(id=1, flow="f", platform="X", status=status, params={}, priority=1,
                retry_count=1, max_attempts=3, idempotency_key=None, account_id=None,
                created_at=now, picked_at=None, scraped_at=None, expires_at=None, run_after=now,
                last_error=error, error_kind=kind, worker_id=None, lease_until=None)


async def test_every_line_has_a_status_and_each_item_is_enqueued_once(
        pool: asyncpg.Pool, settings: Settings) -> None:
    closed = f"http://127.0.0.1:{free_port()}"  # share links cannot be followed
    seen: list[tuple[str, int, int]] = []
    rows = await run_report(pool, settings.model_copy(update={"sandbox_url": closed}), LINES,
                            progress=lambda *p: seen.append(p), timeout=0.5)
    statuses = [row.status for row in rows]
    assert statuses[:3] == ["timed out"] * 3
    assert statuses[3] == "unsupported platform"
    assert statuses[4].startswith("unsupported URL: ")
    assert statuses[5].startswith("unsupported URL: a playlist has no figures")
    assert statuses[6].startswith("needs resolution: ")
    assert [row.platform for row in rows] == ["youtube", "youtube", "x", None, None, "youtube",
                                              "x"]
    keys = await pool.fetch("SELECT idempotency_key, priority FROM scrape_request_log "
                            "ORDER BY idempotency_key")
    assert [(k["idempotency_key"], k["priority"]) for k in keys] == [
        ("beat:x:post:1234567890", 50), ("beat:yt:post:dQw4w9WgXcQ", 50)]
    assert ("routing", len(LINES), len(LINES)) in seen
    assert ("refreshing", 0, 2) in seen


@pytest.mark.parametrize(("kind", "expected"), [
    ("not_found", "not found / deleted"), ("deleted", "not found / deleted"),
    ("private", "private"), ("not_visible", "not found / deleted or private"),
    ("source_unavailable", "source failed: HTTP 503 from the source")])
def test_a_failed_refresh_says_why(kind: str, expected: str) -> None:
    assert failure(task(Status.FAILED, kind, "HTTP 503 from the source")) == expected


@pytest.mark.parametrize(("status", "kind", "again"), [
    (Status.FAILED, "source_unavailable", True), (Status.FAILED, "all_sources_failed", True),
    (Status.TIMEOUT, "timeout", True), (Status.FAILED, "not_found", False),
    (Status.FAILED, "private", False), (Status.FAILED, "deleted", False),
    (Status.COMPLETE, None, False), (Status.PENDING, None, False)])
def test_only_retryable_failures_get_a_second_pass(status: Status, kind: str | None,
                                                   again: bool) -> None:
    assert retryable(task(status, kind)) is again


# -- thumbnails ----------------------------------------------------------------------------------

THUMB = "https://i.ytimg.com/vi/dQw4w9WgXcQ/hqdefault.jpg"


async def read_video(pool: asyncpg.Pool, settings: Settings) -> tuple[Job, Item]:
    """The job and an item read ok: a stored video whose thumbnail is the platform's URL."""
    await pool.execute("INSERT INTO youtube_post (video_id, title, thumbnail_url) VALUES "
                       "('dQw4w9WgXcQ', 'A song', $1) ON CONFLICT (video_id) DO UPDATE SET "
                       "asset_url = NULL", THUMB)
    job = Job(pool, settings, platforms=registry(settings))
    found = job.platforms["youtube"].load_lookups()
    assert found is not None and found.link is not None and found.figures is not None
    item = Item(Link(VIDEO, "youtube", "video", "dQw4w9WgXcQ"), "YOUTUBE",
                found.link("video", "dQw4w9WgXcQ"), found.figures)
    item.task = task(Status.COMPLETE)
    await read_all(job, [item])
    assert item.outcome is not None and item.outcome[1] is not None
    assert (item.outcome[1].thumbnail_url, item.outcome[1].thumbnail_stored) == (THUMB, False)
    return job, item


async def test_thumbnails_not_taken_by_any_worker_leave_the_platforms_urls(
        pool: asyncpg.Pool, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(job_module, "THUMBNAIL_GRACE_S", 0.5)
    await pool.execute("DELETE FROM scrape_request_log")
    job, item = await read_video(pool, settings)
    started = time.monotonic()
    stored = await store_thumbnails(job, Queue(pool), [item], time.monotonic() + 60)
    assert stored == 0 and time.monotonic() - started < 5  # not the 60 s deadline
    task_row = await pool.fetchrow("SELECT flow, platform, params, idempotency_key, status "
                                   "FROM scrape_request_log")
    assert dict(task_row) == {
        "flow": "asset_upload_flow", "platform": "ASSETS", "status": "PENDING",
        "params": {"url": THUMB, "platform": "YOUTUBE", "kind": "video", "id": "dQw4w9WgXcQ"},
        "idempotency_key": "beat:asset:youtube:video:dQw4w9WgXcQ"}
    assert item.outcome is not None and item.outcome[1] is not None
    assert item.outcome[1].thumbnail_url == THUMB


async def test_a_stored_thumbnail_replaces_the_platforms_url_once_its_task_is_done(
        pool: asyncpg.Pool, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(job_module, "THUMBNAIL_GRACE_S", 0.5)
    await pool.execute("DELETE FROM scrape_request_log")
    job, item = await read_video(pool, settings)

    async def worker() -> None:  # takes the task, slower than the grace, stores the copy
        while not await pool.fetchval("SELECT count(*) FROM scrape_request_log"):
            await asyncio.sleep(0.05)
        await pool.execute("UPDATE scrape_request_log SET status = 'PROCESSING', "
                           "picked_at = now()")
        await asyncio.sleep(1.5)
        await pool.execute("UPDATE youtube_post SET asset_url = 'file:///store/ab/ab.jpg'")
        await pool.execute("UPDATE scrape_request_log SET status = 'COMPLETE'")

    running = asyncio.create_task(worker())
    stored = await store_thumbnails(job, Queue(pool), [item], time.monotonic() + 60)
    await running
    assert stored == 1
    assert item.outcome is not None and item.outcome[1] is not None
    assert (item.outcome[1].thumbnail_url, item.outcome[1].thumbnail_stored) == (
        "file:///store/ab/ab.jpg", True)
    # Read again, a stored copy asks for no task.
    await pool.execute("DELETE FROM scrape_request_log")
    assert await store_thumbnails(job, Queue(pool), [item], time.monotonic() + 60) == 0
    assert await pool.fetchval("SELECT count(*) FROM scrape_request_log") == 0
