"""The dashboard over HTTP: its numbers are the database's, requeueing changes rows, and it is
guarded like the API (the key in a cookie for /dashboard only, admin for actions)."""

import re
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from pydantic import SecretStr

from core.api.app import create_app
from core.api.dashboard import charts, data
from core.config import Settings
from core.errors import SourceUnavailable
from core.queue import NewTask, Queue, sql
from core.ratelimit import RateLimiter, parse_limit
from core.sources import Director
from tests.api.support import ADMIN, ADMIN_KEY, enqueue, row

CALLER_KEY = "caller-key-for-dashboard-tests"


def search(pattern: str, text: str) -> re.Match[str] | None:
    return re.search(pattern, text, re.DOTALL)


def cell(html: str, flow: str, field: str) -> str:
    """The text of the flows table's cell `field` in the row of `flow`."""
    row_html = search(rf'<tr data-flow="{re.escape(flow)}".*?</tr>', html)
    assert row_html, f"no row for {flow}"
    found = re.search(rf'data-field="{field}">([^<]*)<', row_html.group(0))
    assert found, f"no {field} in the row of {flow}"
    return found.group(1).strip()


def percentile(values: list[float], q: float) -> float:
    """PostgreSQL's percentile_cont: linear interpolation between the closest ranks."""
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


async def finish(pool: asyncpg.Pool, task_id: int, status: str, seconds: float,
                 minutes_ago: float = 0.0, error: str | None = None) -> None:
    """A task that ran `seconds` and ended `minutes_ago` with `status` (as an ack leaves it)."""
    await pool.execute(
        "UPDATE scrape_request_log SET status = $2, scraped_at = now() - $4::interval, "
        "picked_at = now() - $4::interval - $3::interval, retry_count = 1, last_error = $5, "
        "error_kind = CASE WHEN $5::text IS NULL THEN NULL ELSE 'permanent' END WHERE id = $1",
        task_id, status, timedelta(seconds=seconds), timedelta(minutes=minutes_ago), error)


async def test_flows_panel_shows_the_databases_numbers(client: httpx.AsyncClient,
                                                       pool: asyncpg.Pool) -> None:
    ids = [(await enqueue(client, params={"i": i}))["id"] for i in range(30)]
    durations = [0.1 * (i + 1) for i in range(20)]
    for task_id, seconds in zip(ids[:20], durations, strict=True):
        await finish(pool, task_id, "COMPLETE", seconds, minutes_ago=seconds)  # spread over 2m
    for task_id in ids[20:23]:
        await finish(pool, task_id, "FAILED", 1.0, error="boom")
    await finish(pool, ids[23], "TIMEOUT", 60.0, minutes_ago=90)  # before the last hour
    claimed = await pool.fetch(sql("claim_batch"), "noop", 2, 30.0, "host-1:123")
    assert len(claimed) == 2

    html = (await client.get("/dashboard")).text
    stats = {r["flow"]: r for r in await pool.fetch("SELECT * FROM queue_stats")}["noop"]
    assert cell(html, "noop", "pending") == str(stats["pending"]) == "4"
    assert cell(html, "noop", "processing") == str(stats["processing"]) == "2"
    assert cell(html, "noop", "failed_last_hour") == str(stats["failed_last_hour"]) == "3"
    assert cell(html, "noop", "completed_last_hour") == "20"
    for q, field in ((0.5, "p50"), (0.95, "p95"), (0.99, "p99")):
        assert cell(html, "noop", field) == data.duration(percentile(durations, q)), field
    assert 'data-idle="sleep"' in html  # a registered flow with nothing going on: listed as idle
    # The chart: one bar group per minute that saw tasks (minutes 0, 1 and 2 here).
    chart = search(r'<tr data-flow="noop".*?(<svg.*?</svg>)', html)
    assert chart and chart.group(1).count("<g>") == 3
    assert "20 completed, 3 failed in the last hour" in chart.group(1)

    workers = (await client.get("/dashboard/fragments/workers")).text
    assert search(r'data-worker="host-1:123".*?data-field="running">2<', workers)
    slow = (await client.get("/dashboard/fragments/slow")).text
    assert slow.index(f'data-task="{ids[19]}"') < slow.index(f'data-task="{ids[18]}"')


async def test_failed_tasks_can_be_requeued_one_or_per_flow(client: httpx.AsyncClient,
                                                            pool: asyncpg.Pool) -> None:
    noop = [(await enqueue(client, params={"i": i}))["id"] for i in range(3)]
    sleep = [(await enqueue(client, "sleep", params={"seconds": 1}))["id"] for _ in range(2)]
    for task_id in noop + sleep:
        await finish(pool, task_id, "FAILED", 0.5, error=f"error of <task {task_id}>")
    panel = (await client.get("/dashboard/fragments/failures")).text
    assert f"error of &lt;task {noop[0]}&gt;" in panel  # escaped, never markup
    assert 'data-field="failed_total">5<' in panel

    answer = await client.post(f"/dashboard/tasks/{noop[0]}/requeue",
                               headers={"X-Beat-Dashboard": "1"})
    assert (answer.status_code, answer.text) == (200, f"task {noop[0]} requeued")
    requeued = await row(pool, noop[0])
    assert (requeued["status"], requeued["last_error"], requeued["retry_count"]) == (
        "PENDING", None, 0)
    again = await client.post(f"/dashboard/tasks/{noop[0]}/requeue")
    assert again.status_code == 409 and "PENDING" in again.json()["detail"]
    assert (await client.post("/dashboard/tasks/999999/requeue")).status_code == 404

    answer = await client.post("/dashboard/requeue-failed", content="flow=sleep",
                               headers={"content-type": "application/x-www-form-urlencoded",
                                        "referer": "http://beat/dashboard?flow=sleep"})
    assert answer.status_code == 303 and answer.headers["location"] == "/dashboard?flow=sleep"
    statuses = {r["id"]: r["status"] for r in await pool.fetch(
        "SELECT id, status FROM scrape_request_log")}
    assert [statuses[i] for i in sleep] == ["PENDING", "PENDING"]
    assert [statuses[i] for i in noop[1:]] == ["FAILED", "FAILED"]  # another flow: untouched
    filtered = (await client.get("/dashboard/fragments/failures?flow=noop")).text
    assert 'data-field="failed_total">2<' in filtered


async def test_unknown_panel_and_cross_site_post_are_refused(client: httpx.AsyncClient) -> None:
    missing = await client.get("/dashboard/fragments/nope")
    assert missing.status_code == 404 and "flows" in missing.json()["detail"]
    task = await enqueue(client)
    cross = await client.post(f"/dashboard/tasks/{task['id']}/requeue",
                              headers={"origin": "http://evil.example"})
    assert cross.status_code == 403 and "cross-site" in cross.json()["detail"]
    proxied = await client.post(f"/dashboard/tasks/{task['id']}/requeue", headers={
        "origin": "https://beat.example", "x-forwarded-host": "beat.example"})
    assert proxied.status_code == 409  # let through: a pending task cannot be requeued
    assert "/dashboard" not in str((await client.get("/openapi.json")).json()["paths"])


@pytest.fixture
async def guarded(settings: Settings, pool: asyncpg.Pool) -> Any:
    tuned = settings.model_copy(update={"beat_admin_keys": [SecretStr(ADMIN_KEY)],
                                        "beat_api_keys": [SecretStr(CALLER_KEY)]})
    app = create_app(tuned)
    async with app.router.lifespan_context(app):
        yield httpx.ASGITransport(app=app, raise_app_exceptions=False)


async def test_signing_in_keeps_the_key_in_a_dashboard_cookie(guarded: Any,
                                                              pool: asyncpg.Pool) -> None:
    failed = (await Queue(pool).enqueue(NewTask("noop", {})))[0].id
    await finish(pool, failed, "FAILED", 1.0, error="boom")
    async with httpx.AsyncClient(transport=guarded, base_url="http://beat") as browser:
        first = await browser.get("/dashboard")
        assert first.status_code == 303 and first.headers["location"] == "/dashboard/login"
        assert (await browser.get("/dashboard/login")).status_code == 200
        form = {"content-type": "application/x-www-form-urlencoded"}
        wrong = await browser.post("/dashboard/login", content="key=nope", headers=form)
        assert wrong.status_code == 401 and "not a valid API key" in wrong.text
        signed = await browser.post("/dashboard/login", content=f"key={CALLER_KEY}",
                                    headers=form)
        assert signed.status_code == 303
        set_cookie = signed.headers["set-cookie"].lower()
        for attribute in ("httponly", "samesite=strict", "path=/dashboard"):
            assert attribute in set_cookie
        page = await browser.get("/dashboard")
        assert page.status_code == 200 and "Credentials are shown to admin keys only" in page.text
        buttons = re.findall(r"<button[^>]*requeue[^>]*>", page.text)
        assert len(buttons) == 2 and all("disabled" in b for b in buttons)  # one row, the batch
        # A caller key may look, not act; and the cookie opens nothing outside /dashboard.
        assert (await browser.post("/dashboard/requeue-failed")).status_code == 403
        assert (await browser.get("/queue/stats")).status_code == 401
        browser.cookies.clear()
        assert (await browser.get("/dashboard/fragments/flows",
                                  headers={"X-Beat-Dashboard": "1"})).status_code == 401
        as_admin = await browser.get("/dashboard", headers=ADMIN)
        buttons = re.findall(r"<button[^>]*requeue[^>]*>", as_admin.text)
        assert len(buttons) == 2 and not any("disabled" in b for b in buttons)
        assert (await browser.post(f"/dashboard/tasks/{failed}/requeue",
                                   headers=ADMIN)).status_code == 303


async def test_sources_panel_shows_open_circuits_and_headroom(settings: Settings,
                                                              pool: asyncpg.Pool) -> None:
    tuned = settings.model_copy(update={"source_limits": {"dash_src": ["10/min"]}})
    limiter = RateLimiter.from_url(str(tuned.redis_url), prefix=tuned.rate_limit_prefix)

    class Down:
        name, capabilities, needs_credential = "dash_src", frozenset({"x"}), False

        async def call(self, capability: str, **params: Any) -> Any:
            raise SourceUnavailable("down")

    director = Director([Down()], limiter=limiter, limits={"dash_src": [
        parse_limit("source:dash_src:10/min")]})
    for _ in range(5):
        with pytest.raises(Exception, match="dash_src: down"):
            await director.fetch("x")
    app = create_app(tuned)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://beat") as client:
                panel = (await client.get("/dashboard/fragments/sources")).text
    finally:
        await limiter.aclose()
    circuit = search(r'data-source="dash_src".*?data-field="circuit">([^<]*)<', panel)
    assert circuit and circuit.group(1).startswith("open (")
    used = search(r'data-limit="source:dash_src:10/60s".*?data-field="used">([^<]+)<.*?'
                  r'data-field="left">([^<]+)<', panel)
    assert used and used.groups() == ("5/10", "5")


def test_chart_scales_to_the_busiest_minute() -> None:
    completed, failed = [0] * 60, [0] * 60
    completed[0], failed[0], completed[59] = 4, 4, 2
    svg = charts.throughput(completed, failed, "x")
    heights = [float(h) for h in re.findall(r'height="([\d.]+)"', svg)[1:]]
    # minute 0 (8 tasks, the peak): half completed, half failed; minute 59: 2 of 8
    assert heights == [charts.HEIGHT / 2, charts.HEIGHT / 2, charts.HEIGHT / 4]
