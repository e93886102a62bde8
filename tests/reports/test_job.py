"""The report job without workers: every input line gets a row and a status, unique items are
enqueued once each under their refresh's idempotency key, a refresh still queued at the
deadline says "timed out", and finished tasks map to their reasons."""

from datetime import UTC, datetime

import asyncpg
import pytest

from core.config import Settings
from core.queue import Status, Task
from core.reports.job import failure, retryable, run_report
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
