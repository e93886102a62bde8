"""The dashboard in a real browser (headless Chromium through Playwright) against real server
and worker processes: sign in with an admin key, see the database's numbers while tasks run,
watch a new failure appear without reloading, requeue one failed task and then every failed
task of a flow, and check the rows in PostgreSQL changed."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from playwright.async_api import Page, async_playwright, expect

from core.config import Settings
from core.queue import NewTask, Queue
from core.ratelimit import parse_limit, source_limits
from tests.conftest import REDIS_URL
from tests.e2e.browser import chromium
from tests.e2e.procs import Launcher, free_port, wait_server_ready, wait_worker_ready
from tests.e2e.support import enqueue

__all__ = ["chromium"]

ADMIN_KEY = "dashboard-admin-key-for-tests"
CALLER_KEY = "dashboard-caller-key-for-tests"
RUNNING, WAITING = 10, 2  # e2e_runlog runs 10 at once: 2 of 12 long tasks stay pending
PASSING, FAILING = 4, 3


async def wait_db(pool: asyncpg.Pool, query: str, *args: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not await pool.fetchval(query, *args):
        assert time.monotonic() < deadline, f"not true after {timeout}s: {query} {args}"
        await asyncio.sleep(0.1)


async def text(page: Page, selector: str) -> str:
    return (await page.locator(selector).inner_text()).strip()


@pytest.fixture
async def browser_page(chromium: str) -> AsyncIterator[Page]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, headless=True,
                                                   args=["--no-sandbox"])
        try:
            page = await browser.new_page(viewport={"width": 1400, "height": 1000})
            yield page
        finally:
            await browser.close()


@pytest.mark.timeout(900)  # the first run on a fresh machine installs Chromium
async def test_dashboard_in_a_browser(beat: Launcher, pool: asyncpg.Pool, browser_page: Page,
                                      e2e_db: str, tmp_path: Path) -> None:
    port = free_port()
    keys = {"BEAT_ADMIN_KEYS": ADMIN_KEY, "BEAT_API_KEYS": CALLER_KEY, "REDIS_URL": REDIS_URL,
            "RATE_LIMIT_PREFIX": f"beat-test:{uuid.uuid4().hex[:8]}"}
    server = beat.server(port, **keys)
    worker = beat.worker("e2e_runlog,e2e_progress", **keys)
    await wait_server_ready(server, port)
    await wait_worker_ready(worker, e2e_db, workers=2)

    await enqueue(pool, "e2e_runlog", [{"sleep": 300, "i": i} for i in range(RUNNING + WAITING)])
    await enqueue(pool, "e2e_progress", [{"steps": 1, "fail": i < FAILING}
                                         for i in range(PASSING + FAILING)], max_attempts=1)
    await wait_db(pool, "SELECT count(*) = $1 FROM scrape_request_log WHERE flow = "
                  "'e2e_progress' AND status IN ('COMPLETE', 'FAILED')", PASSING + FAILING)
    await wait_db(pool, "SELECT count(*) = $1 FROM scrape_request_log WHERE status = "
                  "'PROCESSING'", RUNNING)

    page = browser_page
    base = f"http://127.0.0.1:{port}"
    secret = "dashboard-secret-never-shown-a1b2"
    async with httpx.AsyncClient(base_url=base, headers={
            "Authorization": f"Bearer {ADMIN_KEY}"}) as api:
        stored = await api.post("/tokens", json={"source": "ytapi", "credentials": {
            "key": secret}, "handle": "dashboard-test"})
        assert stored.status_code == 201, stored.text
        rested = await api.post(f"/tokens/{stored.json()['id']}/disable", params={"ttl_s": 600})
        assert rested.status_code == 200, rested.text
    await page.goto(f"{base}/dashboard?refresh=1")
    assert page.url == f"{base}/dashboard/login"  # no key yet: the sign-in page
    await page.fill("#key", ADMIN_KEY)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base}/dashboard")
    await page.goto(f"{base}/dashboard?refresh=1")

    # The numbers are the database's (the long tasks keep running meanwhile).
    for flow in ("e2e_runlog", "e2e_progress"):
        stats = await pool.fetchrow("SELECT * FROM queue_stats WHERE flow = $1", flow)
        done = await pool.fetchval(
            "SELECT count(*) FROM scrape_request_log WHERE flow = $1 AND status = 'COMPLETE' "
            "AND scraped_at > now() - interval '1 hour'", flow)
        row = f'tr[data-flow="{flow}"]'
        for field in ("pending", "processing", "failed_last_hour"):
            assert await text(page, f'{row} [data-field="{field}"]') == str(stats[field]), field
        assert await text(page, f'{row} [data-field="completed_last_hour"]') == str(done)
    assert await text(page, 'tr[data-flow="e2e_runlog"] [data-field="processing"]') == "10"
    assert await text(page, 'tr[data-flow="e2e_progress"] [data-field="failed_last_hour"]') \
        == str(FAILING)
    assert await page.locator('tr[data-flow="e2e_progress"] svg.chart rect').count() == 2
    assert await text(page, 'tr[data-flow="e2e_progress"] [data-field="p50"]') != "-"
    failed = [r["id"] for r in await pool.fetch(
        "SELECT id FROM scrape_request_log WHERE status = 'FAILED' ORDER BY id")]
    shown = await page.locator("table.failures tr[data-task]").evaluate_all(
        "rows => rows.map(r => Number(r.dataset.task))")
    assert sorted(shown) == failed and len(failed) == FAILING
    holder = await pool.fetchval("SELECT worker_id FROM scrape_request_log "
                                 "WHERE status = 'PROCESSING' LIMIT 1")
    assert await text(page, f'tr[data-worker="{holder}"] [data-field="running"]') == "10"
    assert "failed on purpose" in await text(page, f'tr[data-task="{failed[0]}"] td.error')
    # Every source limit the platforms declare and the live-refresh limits, with all their
    # room (nothing called a source), as the budgets read them.
    defaults = Settings()
    declared = [*(limit for stack in source_limits(defaults).values() for limit in stack),
                *(parse_limit(f"live:{spec}") for spec in defaults.live_refresh_limits)]
    shown_limits = await page.locator("table.limits tr[data-limit]").evaluate_all(
        "rows => rows.map(r => [r.dataset.limit, r.querySelector('[data-field=left]')"
        ".textContent.trim()])")
    assert dict(shown_limits) == {str(limit): f"{limit.limit:,}" for limit in declared}
    assert declared

    credential = f'tr[data-credential="{stored.json()["id"]}"]'
    assert await text(page, f'{credential} [data-field="state"]') == "resting"
    assert "key=****a1b2" in await text(page, credential)
    assert secret not in await page.content()

    # Live: a failure that happens after the page loaded shows up without a reload.
    late = (await Queue(pool).enqueue(NewTask("e2e_progress", {"steps": 1, "fail": True},
                                              max_attempts=1)))[0].id
    await page.locator(f'table.failures tr[data-task="{late}"]').wait_for(timeout=15_000)
    # The panels refresh by separate requests: the flows panel may have been read a moment
    # before the failure the failures panel shows, and catches up on its next refresh.
    await expect(page.locator('tr[data-flow="e2e_progress"] [data-field="failed_last_hour"]')
                 ).to_have_text(str(FAILING + 1), timeout=15_000)

    # Requeue one: the row in PostgreSQL runs again (and, failing on purpose, fails anew).
    before = await pool.fetchrow("SELECT scraped_at FROM scrape_request_log WHERE id = $1",
                                 failed[0])
    await page.locator(f'tr[data-task="{failed[0]}"] button.requeue').click()
    await wait_db(pool, "SELECT status <> 'FAILED' OR scraped_at > $2 FROM scrape_request_log "
                  "WHERE id = $1", failed[0], before["scraped_at"])
    await page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)

    # Requeue every failed task of a flow, from the filtered page (after a confirmation).
    await page.select_option("#flow-filter", "e2e_progress")
    await page.wait_for_url("**/dashboard?flow=e2e_progress*")
    marks = {r["id"]: r["scraped_at"] for r in await pool.fetch(
        "SELECT id, scraped_at FROM scrape_request_log WHERE status = 'FAILED'")}
    page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await page.click("#requeue-all")
    await wait_db(pool, "SELECT bool_and(status <> 'FAILED' OR scraped_at > m.at) FROM "
                  "scrape_request_log t JOIN unnest($1::bigint[], $2::timestamptz[]) "
                  "AS m(id, at) USING (id)", list(marks), list(marks.values()))
    assert (tmp_path / "dashboard.png").stat().st_size > 10_000
    assert server.alive() and worker.alive()
