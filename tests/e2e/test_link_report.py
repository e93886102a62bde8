"""The links report end to end: the sandbox, a worker for all four platforms and the assets flow,
and `beat links INPUT -o out.xlsx` as real processes. A sheet of 200+ links
(tests/e2e/link_sheet_data.py) mixing YouTube, Instagram, Facebook and X in every URL form their
routers accept, with duplicates, share links followed through the sandbox, dead and private
items, refused links, junk and unsupported hosts; every cell of the XLSX is checked against the
stored rows, and every status reason; every thumbnail link is the stored copy of the platform's
image."""

import asyncio
import csv
import io
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from openpyxl import Workbook, load_workbook

from core import db
from core.reports.report import COLUMNS
from instagram.settings import SANDBOX_GRAPH_TOKENS, SANDBOX_RAPIDAPI_KEYS
from sandbox.youtube.world import build_world as yt_world
from tests import beat_cli
from tests.e2e.link_sheet_data import SHEET
from tests.e2e.procs import (
    BeatProcess,
    Launcher,
    free_port,
    wait_server_ready,
    wait_worker_ready,
)
from x.settings import SANDBOX_BEARER

ROOT = Path(__file__).parents[2]
FLOWS = ("refresh_yt_posts,refresh_yt_profiles,refresh_post_by_shortcode,"
         "refresh_profile_by_handle,refresh_profile_basic,refresh_stories_posts,refresh_fb_post,"
         "refresh_fb_video,refresh_fb_page,refresh_x_post,refresh_x_profile,build_link_report,"
         "asset_upload_flow")


@pytest.fixture(scope="module")
async def stack(launcher: Launcher, database_url: str) -> dict[str, str]:
    return await start_stack(launcher, database_url)


async def start_stack(launcher: Launcher, database_url: str) -> dict[str, str]:
    """The sandbox and a worker for every flow the report needs; the environment they share
    (each test module that uses it starts its own, under its own launcher)."""
    sandbox_port = free_port()
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    sandbox = launcher.spawn("sandbox", ["sandbox", "--port", str(sandbox_port)], launcher.env())
    settings: dict[str, Any] = {
        "SANDBOX_URL": sandbox_url, "YOUTUBE_API_KEYS": "sandbox-key-1,sandbox-key-2",
        "INSTAGRAM_GRAPH_TOKENS": ",".join(SANDBOX_GRAPH_TOKENS),
        "INSTAGRAM_RAPIDAPI_KEYS": ",".join(SANDBOX_RAPIDAPI_KEYS),
        "FACEBOOK_GRAPH_TOKENS": "sandbox-graph-token", "X_BEARER_TOKEN": SANDBOX_BEARER,
        "ASSETS_DIR": launcher.workdir / "assets",
        # Instagram's provider answers every post lookup at once (unpaced: a private post's
        # task would otherwise wait for it to rest, the web being unable to tell).
        "SOURCE_LIMITS": '{"instagram_rapidapi": []}'}
    # One process per platform, as `beat up` runs them: YouTube, Instagram, Facebook, X, the
    # report itself and the assets.
    worker = launcher.worker(FLOWS, WORKER_PROCESS_CAP=1, WORKER_PROCESSES_PER="platform",
                             QUEUE_LEASE_SECONDS=2, QUEUE_MAINTENANCE_INTERVAL=0.5,
                             QUEUE_POLL_INTERVAL=0.5, **settings)
    await wait_worker_ready(worker, database_url, workers=6)
    await sandbox_ready(sandbox, sandbox_url)
    async with httpx.AsyncClient(timeout=10) as client:
        unpaced = await client.post(f"{sandbox_url}/_sandbox/instagram/limits", json={
            "provider_windows": [[1_000_000, 1.0]], "reset": True})
        unpaced.raise_for_status()
    return launcher.env(**settings)


async def sandbox_ready(sandbox: BeatProcess, url: str, timeout: float = 30) -> None:
    """The sandbox answers (the workers may be ready before it is)."""
    async with httpx.AsyncClient(timeout=2) as client:
        for _ in range(int(timeout / 0.1)):
            try:
                if (await client.get(f"{url}/_sandbox/faults")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if not sandbox.alive():
                raise sandbox.fail(f"exited with {sandbox.returncode} before it answered")
            await asyncio.sleep(0.1)
    raise sandbox.fail(f"did not answer in {timeout}s")


def write_sheet(path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["State", "Post Link", "Page Name"])
    for number, (url, *_) in enumerate(SHEET):
        sheet.append(["UP" if number % 2 else "MP", url, f"page {number}"])
    sheet.append(["KA", None, "a row without a link"])  # skipped: no input line
    book.save(path)


async def stored(pool: asyncpg.Pool, key: tuple[str, str]) -> dict[str, Any]:
    """The report cells (platform .. thumbnail) a stored row and its author's row make."""
    table, ident = key
    queries = {
        "yt": ("SELECT p.channel_title AS author, a.subscribers AS followers, p.likes, "
               "p.comments, NULL::bigint AS shares, p.views, p.title AS caption, "
               "p.published_at AS date, coalesce(p.asset_url, p.thumbnail_url) AS thumb, "
               "p.thumbnail_url AS source_thumb FROM youtube_post p LEFT JOIN "
               "youtube_account a USING (channel_id) WHERE p.video_id = $1"),
        "ytc": ("SELECT title AS author, subscribers AS followers, NULL::bigint AS likes, "
                "NULL::bigint AS comments, NULL::bigint AS shares, views, description AS "
                "caption, published_at AS date, coalesce(asset_url, thumbnail_url) AS thumb, "
                "thumbnail_url AS source_thumb FROM youtube_account "
                "WHERE channel_id = $1"),
        "ig": ("SELECT p.handle AS author, a.followers, p.likes, p.comments, p.shares, "
               "coalesce(p.views, p.plays) AS views, p.caption, p.publish_time AS date, "
               "coalesce(p.asset_url, p.thumbnail_url, p.display_url) AS thumb, "
               "coalesce(p.thumbnail_url, p.display_url) AS source_thumb FROM instagram_post p "
               "LEFT JOIN instagram_account a USING (profile_id) WHERE p.shortcode = $1"),
        "igs": ("SELECT p.handle AS author, a.followers, p.likes, p.comments, p.shares, "
                "coalesce(p.views, p.plays) AS views, p.caption, p.publish_time AS date, "
                "coalesce(p.asset_url, p.thumbnail_url, p.display_url) AS thumb, "
               "coalesce(p.thumbnail_url, p.display_url) AS source_thumb FROM instagram_post p "
                "LEFT JOIN instagram_account a USING (profile_id) WHERE p.post_id = $1"),
        "igp": ("SELECT handle AS author, followers, NULL::bigint AS likes, NULL::bigint AS "
                "comments, NULL::bigint AS shares, NULL::bigint AS views, biography AS "
                "caption, NULL::timestamptz AS date, coalesce(asset_url, profile_pic_url) "
                "AS thumb, profile_pic_url AS source_thumb FROM instagram_account "
                "WHERE handle = $1"),
        "fb": ("SELECT coalesce(p.author, g.name) AS author, coalesce(g.followers, "
               "g.fan_count) AS followers, p.likes, p.comments, p.shares, p.views, "
               "coalesce(p.message, p.title) AS caption, p.publish_time AS date, "
               "coalesce(p.asset_url, p.thumbnail_url) AS thumb, p.thumbnail_url AS source_thumb "
               "FROM facebook_post p LEFT JOIN facebook_page g "
               "USING (page_id) "
               "WHERE p.post_id = $1"),
        "fbp": ("SELECT name AS author, coalesce(followers, fan_count) AS followers, "
                "NULL::bigint AS likes, NULL::bigint AS comments, NULL::bigint AS shares, "
                "NULL::bigint AS views, NULL AS caption, NULL::timestamptz AS date, "
                "coalesce(asset_url, picture_url) AS thumb, picture_url AS source_thumb FROM "
                "facebook_page WHERE page_id = $1"),
        "x": ("SELECT coalesce(a.name, p.handle) AS author, a.followers, p.likes, p.comments, "
              "p.shares, p.views, p.text AS caption, p.published_at AS date, "
              "coalesce(p.asset_url, p.thumbnail_url) AS thumb, p.thumbnail_url AS source_thumb "
              "FROM x_post p LEFT JOIN x_account a USING (user_id) WHERE p.tweet_id = $1"),
        "xp": ("SELECT coalesce(name, handle) AS author, followers, NULL::bigint AS likes, "
               "NULL::bigint AS comments, NULL::bigint AS shares, NULL::bigint AS views, "
               "description AS caption, NULL::timestamptz AS date, coalesce(asset_url, "
               "profile_image_url) AS thumb, profile_image_url AS source_thumb FROM x_account "
               "WHERE handle = $1"),
    }
    row = await pool.fetchrow(queries[table], ident)
    assert row is not None, f"{key} is not stored"
    return dict(row)


def expected_cells(url: str, platform: str | None, row: dict[str, Any] | None, status: str
                   ) -> list[Any]:
    if row is None:
        return [url.strip(), platform] + [None] * 10 + [status]
    counts = [row["likes"], row["comments"], row["shares"]]
    known = [n for n in counts if n is not None]
    date = row["date"].astimezone(UTC).replace(tzinfo=None, microsecond=0) if row["date"] \
        else None
    return [url.strip(), platform, row["author"], row["followers"], *counts, row["views"],
            sum(known) if known else None, row["caption"], date, row["thumb"], status]


async def test_a_sheet_of_links_becomes_a_checked_report(
        stack: dict[str, str], database_url: str, tmp_path: Path) -> None:
    sheet, out = tmp_path / "links.xlsx", tmp_path / "out.xlsx"
    write_sheet(sheet)
    result = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "core.cli", "links", str(sheet), "-o", str(out),
                         "--timeout", "120"], cwd=ROOT, env=stack, capture_output=True,
        text=True, timeout=180, check=False)
    assert result.returncode == 0, result.stderr
    book = load_workbook(out).active
    assert [c.value for c in book[1]] == list(COLUMNS)
    cells = [[cell.value for cell in row] for row in book.iter_rows(min_row=2)]
    assert len(cells) == len(SHEET)
    pool = await db.create_pool(database_url)
    try:
        for got, (url, platform, key, status) in zip(cells, SHEET, strict=True):
            row = await stored(pool, key) if key else None
            if got[10] is not None:
                got[10] = got[10].replace(microsecond=0)
            assert got == expected_cells(url, platform, row, status), url
    finally:
        await pool.close()
    ok = sum(status.startswith("ok") for *_, status in SHEET)
    assert result.stdout.startswith(f"{len(SHEET)} rows, {ok} ok, {len(SHEET) - ok} failed (")
    for line in cells:  # the stored numbers are real: every ok row has some
        assert line[-1] and (not line[-1].startswith("ok") or line[8] is not None
                             or line[3] is not None), line
    # Every post's author was refreshed for its followers: only a channel hiding its
    # subscriber count has none.
    hidden = {c.title for c in yt_world(1).channels if c.hidden_subscribers}
    assert {line[2] for line in cells if line[-1].startswith("ok") and line[3] is None} <= hidden
    with_thumbnail = {line[1] for line in cells if line[-1].startswith("ok") and line[-2]}
    assert with_thumbnail == {"youtube", "instagram", "facebook", "x"}
    await check_stored_thumbnails(database_url, cells, Path(stack["ASSETS_DIR"]))


async def check_stored_thumbnails(database_url: str, cells: list[list[Any]], store: Path
                                  ) -> None:
    """Every thumbnail link of the report is a stored copy (a JPEG in the assets directory)
    that the assets worker made from the platform's own image URL of that row."""
    pool = await db.create_pool(database_url)
    checked: set[str] = set()
    try:
        for url, platform, key, status in SHEET:
            if not status.startswith("ok") or key is None:
                continue
            row = await stored(pool, key)
            if row["source_thumb"] is None:
                continue
            checked.add(platform)
            link = next(line[11] for line in cells if line[0] == url.strip())
            assert link.startswith("file://"), (url, link)
            path = Path(link.removeprefix("file://"))
            assert path.is_relative_to(store) and path.read_bytes()[:3] == b"\xff\xd8\xff", link
            source = await pool.fetchval(
                "SELECT source_url FROM asset_log WHERE url = $1 AND status = 'STORED' AND "
                "lower(platform) = $2 LIMIT 1", link, platform)
            assert source == row["source_thumb"], (url, link)
    finally:
        await pool.close()
    assert checked == {"youtube", "instagram", "facebook", "x"}


@pytest.fixture(scope="module")
async def api(launcher: Launcher, stack: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    port = free_port()
    server = launcher.server(port)
    await wait_server_ready(server, port)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        yield client


async def test_the_same_report_over_http(api: httpx.AsyncClient, database_url: str) -> None:
    started = await api.post("/links", json={"urls": [url for url, *_ in SHEET],
                                             "timeout_s": 120})
    assert started.status_code == 202, started.text
    job = started.json()
    assert job["links"] == len(SHEET) and job["status"] in ("PENDING", "PROCESSING")
    early = await api.get(f"/links/{job['job_id']}/report.xlsx")
    assert early.status_code in (200, 409)  # 409 while it runs, saying how far it is
    for _ in range(1800):
        job = (await api.get(f"/links/{job['job_id']}")).json()
        if job["status"] not in ("PENDING", "PROCESSING"):
            break
        await asyncio.sleep(0.1)
    assert job["status"] == "COMPLETE", job
    ok = sum(status.startswith("ok") for *_, status in SHEET)
    report_csv = (await api.get(f"/links/{job['job_id']}/report.csv")).text
    assert job["summary"]["rows"] == len(SHEET) and job["summary"]["ok"] == ok, \
        [line for line in report_csv.splitlines() if "source failed" in line]
    answer = await api.get(f"/links/{job['job_id']}/report.xlsx")
    assert answer.status_code == 200 and answer.content[:2] == b"PK"
    book = load_workbook(io.BytesIO(answer.content)).active
    assert [c.value for c in book[1]] == list(COLUMNS)
    cells = [[cell.value for cell in row] for row in book.iter_rows(min_row=2)]
    pool = await db.create_pool(database_url)
    try:
        for got, (url, platform, key, status) in zip(cells, SHEET, strict=True):
            row = await stored(pool, key) if key else None
            if got[10] is not None:
                got[10] = got[10].replace(microsecond=0)
            assert got == expected_cells(url, platform, row, status), url
    finally:
        await pool.close()
    csv_answer = await api.get(f"/links/{job['job_id']}/report.csv")
    assert csv_answer.status_code == 200
    csv_rows = list(csv.reader(io.StringIO(csv_answer.text)))  # captions hold line breaks
    assert csv_rows[0] == list(COLUMNS) and len(csv_rows) == len(SHEET) + 1
    assert [line[-1] for line in csv_rows[1:]] == [row[-1] for row in cells]
    assert (await api.get("/links/999999999")).status_code == 404
    assert (await api.get(f"/links/{job['job_id']}/report.pdf")).status_code == 404


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    cases = [([str(tmp_path / "missing.csv"), "-o", str(tmp_path / "r.xlsx")], "no such file"),
             ([str(tmp_path / "missing.csv"), "-o", str(tmp_path / "r.pdf")], ".xlsx or .csv"),
             ([str(tmp_path / "nourl.csv"), "-o", str(tmp_path / "r.csv")], "no URL column")]
    (tmp_path / "nourl.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    for args, message in cases:
        result = beat_cli.run(["links", *args], dict(os.environ))
        assert result.returncode == 2 and message in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
