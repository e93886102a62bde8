"""`beat links --sheet SHEET_URL` end to end: the sandbox, a worker for all four platforms and
`beat links` as real processes, the links in a Google Sheet the sandbox holds (a header, the
links column between two others, a row without a link). The new tab must hold exactly the rows
the XLSX report holds (checked against the stored rows, as test_link_report does) and the
formatting requests must be there; bad sheets and missing credentials are one line, exit 2."""

import asyncio
import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from core import db
from core.reports.report import COLUMNS
from sandbox.sheets.account import write_service_account
from tests import beat_cli
from tests.e2e.link_sheet_data import SHEET
from tests.e2e.test_link_report import expected_cells, stack, stored
from tests.reports.test_sheets import check_formatting

EPOCH = datetime(1899, 12, 30)
__all__ = ["stack"]  # the same stack as the XLSX report's, a module's own


def beat_links(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return beat_cli.run(["links", *args], env, timeout=180)


def new_sheet(sandbox_url: str, rows: list[list[Any]], shared: bool = True) -> dict[str, str]:
    answer = httpx.post(f"{sandbox_url}/_sandbox/sheets", json={"rows": rows, "shared": shared})
    answer.raise_for_status()
    return dict(answer.json())


def as_read(cells: list[Any]) -> list[Any]:
    """A stored tab line as the XLSX report gives it: "" as None, the serial date a datetime."""
    line = [None if cell == "" else cell for cell in cells]
    if line[10] is not None:
        line[10] = (EPOCH + timedelta(days=line[10])).replace(microsecond=0)
    return line + [None] * (len(COLUMNS) - len(line))


async def test_a_google_sheet_of_links_gets_a_report_tab(
        stack: dict[str, str], database_url: str, tmp_path: Path) -> None:
    sandbox_url = stack["SANDBOX_URL"]
    rows = [["State", "Post Link", "Page Name"]]
    rows += [["UP" if n % 2 else "MP", url, f"page {n}"] for n, (url, *_) in enumerate(SHEET)]
    rows.append(["KA", "", "a row without a link"])
    made = new_sheet(sandbox_url, rows)
    env = {**stack, "GOOGLE_SERVICE_ACCOUNT_FILE": str(
        write_service_account(tmp_path / "service-account.json", sandbox_url))}
    result = await asyncio.to_thread(beat_links, env, "--sheet", made["url"], "--timeout", "120")
    assert result.returncode == 0, result.stderr
    ok = sum(status.startswith("ok") for *_, status in SHEET)
    assert result.stdout.startswith(f"{len(SHEET)} rows, {ok} ok, {len(SHEET) - ok} failed (")
    assert "-> tab 'Beat report " in result.stdout
    got = (await asyncio.to_thread(
        httpx.get, f"{sandbox_url}/_sandbox/sheets/{made['spreadsheet_id']}")).json()
    assert len(got["tabs"]) == 2 and got["tabs"][0]["values"] == rows
    tab = got["tabs"][1]
    assert tab["title"].startswith("Beat report ") and tab["title"] in result.stdout
    assert tab["values"][0] == list(COLUMNS) and len(tab["values"]) == len(SHEET) + 1
    pool = await db.create_pool(database_url)
    try:
        for cells, (url, platform, key, status) in zip(tab["values"][1:], SHEET, strict=True):
            row = await stored(pool, key) if key else None
            assert as_read(cells) == expected_cells(url, platform, row, status), url
    finally:
        await pool.close()
    check_formatting(got["requests"][1:], tab["sheetId"], rows=len(SHEET))
    assert got["requests"][0]["addSheet"]["properties"]["title"] == tab["title"]


def test_bad_sheets_are_one_line_and_exit_2(stack: dict[str, str], tmp_path: Path) -> None:
    sandbox_url = stack["SANDBOX_URL"]
    key = str(write_service_account(tmp_path / "sa.json", sandbox_url))
    with_key = {**stack, "GOOGLE_SERVICE_ACCOUNT_FILE": key}
    no_key = {k: v for k, v in stack.items() if k != "SANDBOX_URL"}
    closed = new_sheet(sandbox_url, [["url"], ["https://youtu.be/dQw4w9WgXcQ"]], shared=False)
    no_urls = new_sheet(sandbox_url, [["name", "state"], ["a", "UP"]])
    missing = "https://docs.google.com/spreadsheets/d/" + "M" * 44 + "/edit#gid=0"
    cases = [(with_key, "https://example.com/sheet.xlsx", "not a Google Sheets URL"),
             (no_key, missing, "no Google credentials: set GOOGLE_SERVICE_ACCOUNT_FILE"),
             (with_key, missing, "no such spreadsheet"),
             (with_key, closed["url"], "may not open it; share the sheet"),
             (with_key, no_urls["url"], "no URL column")]
    for env, url, message in cases:
        result = beat_links(env, "--sheet", url)
        assert result.returncode == 2 and message in result.stderr, (url, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
