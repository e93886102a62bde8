"""The Google Sheets client against the sandbox served over HTTP (googleapiclient speaks
httplib2, so the app runs under uvicorn in a thread on a free port): the links read from a
sheet's URL column (first tab, or the #gid= one), the report written to a new tab (values as
numbers and serial dates, the formatting requests), and every error a user can fix as one
line."""

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from core.config import Settings
from core.lookups import LinkFigures
from core.reports.report import COLUMNS, ReportRow
from core.reports.sheet_format import ORANGE, cell_values
from core.reports.sheets import (
    SheetsClient,
    SheetsError,
    parse_sheet_url,
    read_sheet_links,
    service_account_info,
    write_report_tab,
)
from sandbox.app import create_sandbox_app
from sandbox.sheets.account import EMAIL, ServiceAccount, write_service_account

WHEN = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
ROWS = [
    ReportRow("https://youtu.be/dQw4w9WgXcQ", "ok", "youtube", LinkFigures(
        author="Beat TV", followers=1_234_567, likes=50, comments=7, views=1000,
        caption="=1+1 is not a formula", published_at=WHEN)),
    ReportRow("nonsense", "unsupported URL: malformed"),
]
LINKS = [["State", "Post Link", "Page"], ["UP", "https://youtu.be/dQw4w9WgXcQ", "a"],
         ["MP", "", "no link"], ["KA", "https://x.com/a/status/1", "b"]]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def sandbox() -> Iterator[tuple[str, FastAPI]]:
    app = create_sandbox_app()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=_free_port(),
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started
    yield f"http://127.0.0.1:{server.config.port}", app
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def settings(sandbox: tuple[str, FastAPI], tmp_path_factory: pytest.TempPathFactory
             ) -> Settings:
    key = write_service_account(tmp_path_factory.mktemp("sheets") / "sa.json", sandbox[0])
    return Settings(sandbox_url=sandbox[0], google_service_account_file=key)


def new_sheet(base: str, rows: list[list[Any]], shared: bool = True) -> dict[str, str]:
    answer = httpx.post(f"{base}/_sandbox/sheets", json={"rows": rows, "shared": shared})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def stored(base: str, spreadsheet_id: str) -> dict[str, Any]:
    return dict(httpx.get(f"{base}/_sandbox/sheets/{spreadsheet_id}").json())


def test_links_come_from_the_url_column_of_the_first_tab(
        sandbox: tuple[str, FastAPI], settings: Settings) -> None:
    made = new_sheet(sandbox[0], LINKS)
    client = SheetsClient.from_settings(settings)
    links = asyncio.run(read_sheet_links(client, parse_sheet_url(made["url"])))
    assert links == ["https://youtu.be/dQw4w9WgXcQ", "https://x.com/a/status/1"]


def test_the_gid_in_the_url_picks_the_tab(sandbox: tuple[str, FastAPI],
                                          settings: Settings) -> None:
    made = new_sheet(sandbox[0], LINKS)
    sheet = sandbox[1].state.sheets.store.spreadsheets[made["spreadsheet_id"]]
    tab = sheet.add_tab("Second")
    tab.write(0, 0, [["https://www.instagram.com/p/abc/"], ["https://x.com/b/status/2"]])
    url = made["url"].replace("gid=0", f"gid={tab.sheet_id}")
    client = SheetsClient.from_settings(settings)
    assert asyncio.run(read_sheet_links(client, parse_sheet_url(url))) == [
        "https://www.instagram.com/p/abc/", "https://x.com/b/status/2"]
    with pytest.raises(SheetsError, match="no tab with gid 12345"):
        asyncio.run(read_sheet_links(client, parse_sheet_url(
            made["url"].replace("gid=0", "gid=12345"))))


def test_the_report_goes_to_a_new_formatted_tab(sandbox: tuple[str, FastAPI],
                                                settings: Settings) -> None:
    made = new_sheet(sandbox[0], LINKS)
    client = SheetsClient.from_settings(settings)
    ref = parse_sheet_url(made["url"])
    title = asyncio.run(write_report_tab(client, ref, ROWS, now=WHEN))
    again = asyncio.run(write_report_tab(client, ref, ROWS, now=WHEN))
    assert (title, again) == ("Beat report 2026-03-01 12:30", "Beat report 2026-03-01 12:30 (2)")
    got = stored(sandbox[0], made["spreadsheet_id"])
    assert [t["title"] for t in got["tabs"]] == ["Sheet1", title, again]
    assert got["tabs"][0]["values"] == LINKS  # the input is left as it was
    tab = got["tabs"][1]
    assert tab["values"][0] == list(COLUMNS)
    first = tab["values"][1]
    assert first[3:9] == [1_234_567, 50, 7, "", 1000, 57]  # numbers as numbers
    assert first[9] == "=1+1 is not a formula"  # RAW: text is never a formula
    assert first[10] == pytest.approx(46082 + 12.5 / 24)  # 2026-03-01 12:30 as a serial date
    assert tab["values"][2] == ["nonsense", ""] + [""] * 10 + ["unsupported URL: malformed"]
    assert tab["values"] == json.loads(json.dumps(cell_values(ROWS)))
    check_formatting([r for r in got["requests"] if _sheet_of(r) == tab["sheetId"]],
                     tab["sheetId"], rows=len(ROWS))


def check_formatting(requests: list[dict[str, Any]], sheet_id: int, rows: int) -> None:
    """The requests style the tab as the seed's sheets: orange bold EB Garamond header,
    centered, black borders everywhere, frozen header, widths and number formats."""
    kinds = [next(iter(r)) for r in requests]
    assert kinds.count("repeatCell") >= 3 and "updateBorders" in kinds
    header = next(r["repeatCell"] for r in requests if "repeatCell" in r
                  and r["repeatCell"]["range"]["endRowIndex"] == 1)
    fmt = header["cell"]["userEnteredFormat"]
    assert fmt["backgroundColor"] == ORANGE == {"red": 1.0, "green": 165 / 255, "blue": 0.0}
    assert fmt["textFormat"] == {"bold": True, "fontFamily": "EB Garamond", "fontSize": 11}
    assert fmt["horizontalAlignment"] == "CENTER"
    assert header["range"]["endColumnIndex"] == len(COLUMNS)
    borders = next(r["updateBorders"] for r in requests if "updateBorders" in r)
    assert borders["range"]["endRowIndex"] == rows + 1
    for side in ("top", "bottom", "left", "right", "innerHorizontal", "innerVertical"):
        assert borders[side]["style"] == "SOLID"
        assert borders[side]["color"] == {"red": 0.0, "green": 0.0, "blue": 0.0}
    frozen = next(r["updateSheetProperties"] for r in requests if "updateSheetProperties" in r)
    assert frozen["properties"]["gridProperties"]["frozenRowCount"] == 1
    widths = [r["updateDimensionProperties"] for r in requests
              if "updateDimensionProperties" in r]
    assert sorted(w["range"]["startIndex"] for w in widths) == list(range(len(COLUMNS)))
    assert all(w["properties"]["pixelSize"] >= 50 for w in widths)
    formats = {r["repeatCell"]["range"]["startColumnIndex"]:
               r["repeatCell"]["cell"]["userEnteredFormat"]["numberFormat"]
               for r in requests if "repeatCell" in r
               and "numberFormat" in r["repeatCell"]["cell"]["userEnteredFormat"]}
    assert formats[COLUMNS.index("likes")] == {"type": "NUMBER", "pattern": "#,##0"}
    assert formats[COLUMNS.index("date")]["type"] == "DATE_TIME"
    assert len(formats) == 7  # six counts and the date


def _sheet_of(request: dict[str, Any]) -> int | None:
    body = next(iter(request.values()))
    place = body.get("range") or body.get("properties") or {}
    return place.get("sheetId")


def test_missing_and_closed_sheets_are_one_line_errors(sandbox: tuple[str, FastAPI],
                                                       settings: Settings) -> None:
    client = SheetsClient.from_settings(settings)
    closed = new_sheet(sandbox[0], LINKS, shared=False)
    with pytest.raises(SheetsError, match="account beat-sandbox@.* may not open it; share "):
        asyncio.run(read_sheet_links(client, parse_sheet_url(closed["url"])))
    missing = parse_sheet_url("https://docs.google.com/spreadsheets/d/" + "N" * 44 + "/edit")
    with pytest.raises(SheetsError, match="no such spreadsheet"):
        asyncio.run(read_sheet_links(client, missing))
    no_urls = new_sheet(sandbox[0], [["a", "b"], ["1", "2"]])
    with pytest.raises(SheetsError, match="no URL column"):
        asyncio.run(read_sheet_links(client, parse_sheet_url(no_urls["url"])))


def test_urls_and_credentials_are_checked(sandbox: tuple[str, FastAPI], settings: Settings,
                                          tmp_path: Path) -> None:
    for url in ("https://example.com/spreadsheets/d/abc", "not a url",
                "https://docs.google.com/document/d/1abcdefghijklmnop/edit"):
        with pytest.raises(SheetsError, match="not a Google Sheets URL"):
            parse_sheet_url(url)
    assert parse_sheet_url("https://docs.google.com/spreadsheets/u/0/d/1abcdefghijk_-/edit"
                           "?gid=7#gid=42").gid == 42
    with pytest.raises(SheetsError, match="no Google credentials: set GOOGLE_SERVICE_ACC"):
        service_account_info(Settings(sandbox_url=None))
    own = service_account_info(Settings(sandbox_url=sandbox[0]))  # sandbox mode, no key set
    assert own["client_email"] == EMAIL and own["token_uri"] == f"{sandbox[0]}/sheets/token"
    bad = tmp_path / "bad.json"
    bad.write_text('{"type": "service_account"}')
    with pytest.raises(SheetsError, match="not a service account's JSON key"):
        service_account_info(Settings(google_service_account_file=bad))
    # a key the sandbox does not know: its token endpoint refuses the signed JWT
    stranger = ServiceAccount.generate().info(sandbox[0])
    secret = Settings(sandbox_url=sandbox[0],
                      google_service_account_json=json.dumps(stranger))  # type: ignore[arg-type]
    assert "PRIVATE KEY" not in repr(secret) and "PRIVATE KEY" not in str(secret.model_dump())
    client = SheetsClient.from_settings(secret)
    made = new_sheet(sandbox[0], LINKS)
    with pytest.raises(SheetsError, match="got no token: .*Invalid JWT Signature"):
        asyncio.run(read_sheet_links(client, parse_sheet_url(made["url"])))


def test_the_sandbox_answers_as_google_does(sandbox: tuple[str, FastAPI]) -> None:
    base = sandbox[0]
    made = new_sheet(base, LINKS)
    api = f"{base}/sheets/v4/spreadsheets/{made['spreadsheet_id']}"
    unauthenticated = httpx.get(api)
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["error"]["status"] == "UNAUTHENTICATED"
    refused = httpx.post(f"{base}/sheets/token", data={
        "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": "a.b"})
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    assert httpx.get(f"{base}/_sandbox/sheets/nope").status_code == 404
