"""Google Sheets for the links report (Sheets API v4 through google-api-python-client, as a
service account): read the links of a sheet's tab (the first, or the one the URL's #gid= names;
the URL column found as for an XLSX) and write the report to a new tab, formatted in one
batchUpdate. The client is synchronous (httplib2): the async helpers run it in a thread. Every
failure a user can fix is a SheetsError whose str() is one line."""

import asyncio
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from core.config import Settings
from core.platforms import sandboxed
from core.reports.inputs import InputError, url_column
from core.reports.report import COLUMNS, ReportRow
from core.reports.sheet_format import cell_values, format_requests, tab_title

SCOPES = ["https://www.googleapis.com/auth/spreadsheets"]
TIMEOUT_S = 60.0
RETRIES = 2  # googleapiclient retries 429 and 5xx answers, with backoff
_SHEET_URL = re.compile(r"^https?://docs\.google\.com/spreadsheets/(?:u/\d+/)?d/([\w-]{10,})",
                        re.IGNORECASE)


class SheetsError(Exception):
    """The sheet cannot be read or written; str() is one line for the user."""


@dataclass(frozen=True, slots=True)
class SheetRef:
    url: str
    spreadsheet_id: str
    gid: int | None  # the tab the URL shows; None: the first


def parse_sheet_url(url: str) -> SheetRef:
    """The spreadsheet id and tab of a Google Sheets URL; SheetsError for anything else."""
    match = _SHEET_URL.match(url.strip())
    if match is None:
        raise SheetsError(f"{url}: not a Google Sheets URL (https://docs.google.com/"
                          "spreadsheets/d/ID/edit...)")
    parts = urlsplit(url.strip())
    gids = parse_qs(parts.fragment).get("gid") or parse_qs(parts.query).get("gid") or [""]
    return SheetRef(url.strip(), match.group(1), int(gids[0]) if gids[0].isdigit() else None)


def service_account_info(settings: Settings) -> dict[str, Any]:
    """The service account's JSON key: GOOGLE_SERVICE_ACCOUNT_JSON, else the file
    GOOGLE_SERVICE_ACCOUNT_FILE names, else in sandbox mode the sandbox's own account."""
    if settings.google_service_account_json is not None:
        text, name = settings.google_service_account_json.get_secret_value(), \
            "GOOGLE_SERVICE_ACCOUNT_JSON"
    elif settings.google_service_account_file is not None:
        path = settings.google_service_account_file.expanduser()
        try:
            text, name = path.read_text(encoding="utf-8"), str(path)
        except OSError as exc:
            raise SheetsError(f"GOOGLE_SERVICE_ACCOUNT_FILE: cannot read {path}: "
                              f"{exc.strerror}") from None
    elif settings.sandbox_url:
        return _sandbox_account(settings.sandbox_url)
    else:
        raise SheetsError("no Google credentials: set GOOGLE_SERVICE_ACCOUNT_FILE (the path of "
                          "a service account's JSON key) or GOOGLE_SERVICE_ACCOUNT_JSON, and "
                          "share the sheet with the account's email")
    try:
        info = json.loads(text)
    except ValueError:
        info = None
    if not isinstance(info, dict) or not all(
            info.get(k) for k in ("client_email", "private_key", "token_uri")):
        raise SheetsError(f"{name}: not a service account's JSON key (client_email, "
                          "private_key and token_uri are needed)")
    return info


def _sandbox_account(sandbox_url: str) -> dict[str, Any]:
    import httpx

    try:
        answer = httpx.get(f"{sandbox_url.rstrip('/')}/_sandbox/sheets/service-account",
                           timeout=10)
        answer.raise_for_status()
        return dict(answer.json())
    except (httpx.HTTPError, ValueError) as exc:
        raise SheetsError(f"the sandbox at {sandbox_url} gave no service account ({exc}); "
                          "set GOOGLE_SERVICE_ACCOUNT_FILE") from None


class SheetsClient:
    """The Sheets API v4 calls the report makes, errors turned into SheetsError."""

    def __init__(self, info: dict[str, Any], base_url: str) -> None:
        import google_auth_httplib2
        import httplib2
        from google.oauth2 import service_account
        from googleapiclient.discovery import build

        try:
            credentials = service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
                info, scopes=SCOPES)
        except (ValueError, KeyError) as exc:
            raise SheetsError(f"the service account's key cannot be used: {exc}") from None
        # it warns of every 403 and retried 429/5xx; the SheetsError says it once, in one line
        logging.getLogger("googleapiclient.http").setLevel(logging.ERROR)
        self.email = str(info["client_email"])
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        http = google_auth_httplib2.AuthorizedHttp(credentials,
                                                   http=httplib2.Http(timeout=TIMEOUT_S))
        self.api = build("sheets", "v4", http=http, static_discovery=True,
                         cache_discovery=False,
                         client_options={"api_endpoint": self.base_url})

    @classmethod
    def from_settings(cls, settings: Settings) -> "SheetsClient":
        base = sandboxed(settings, "sheets", settings.sheets_api_url)
        return cls(service_account_info(settings), base)

    def tabs(self, ref: SheetRef) -> list[dict[str, Any]]:
        """The properties of every tab (sheetId, title, gridProperties), in order."""
        fields = "sheets.properties(sheetId,title,index,gridProperties)"
        answer = self._run(ref, self.api.spreadsheets().get(
            spreadsheetId=ref.spreadsheet_id, fields=fields))
        return [sheet["properties"] for sheet in answer.get("sheets", [])]

    def values(self, ref: SheetRef, title: str) -> list[list[Any]]:
        answer = self._run(ref, self.api.spreadsheets().values().get(
            spreadsheetId=ref.spreadsheet_id, range=_quoted(title) + "!A:ZZ",
            majorDimension="ROWS"))
        return list(answer.get("values", []))

    def add_tab(self, ref: SheetRef, title: str, rows: int) -> int:
        """Add a tab of `rows` rows and the report's columns; its sheetId."""
        body = {"requests": [{"addSheet": {"properties": {
            "title": title, "gridProperties": {"rowCount": max(rows, 1),
                                               "columnCount": len(COLUMNS)}}}}]}
        answer = self._run(ref, self.api.spreadsheets().batchUpdate(
            spreadsheetId=ref.spreadsheet_id, body=body), retries=0)  # not idempotent
        return int(answer["replies"][0]["addSheet"]["properties"]["sheetId"])

    def update(self, ref: SheetRef, title: str, values: list[list[Any]]) -> None:
        self._run(ref, self.api.spreadsheets().values().update(
            spreadsheetId=ref.spreadsheet_id, range=_quoted(title) + "!A1",
            valueInputOption="RAW", body={"values": values}))

    def batch_update(self, ref: SheetRef, requests: list[dict[str, Any]]) -> None:
        self._run(ref, self.api.spreadsheets().batchUpdate(
            spreadsheetId=ref.spreadsheet_id, body={"requests": requests}))

    def _run(self, ref: SheetRef, request: Any, retries: int = RETRIES) -> dict[str, Any]:
        from google.auth.exceptions import GoogleAuthError
        from googleapiclient.errors import HttpError
        from httplib2 import HttpLib2Error

        try:
            return dict(request.execute(num_retries=retries))
        except HttpError as exc:
            raise SheetsError(self._refusal(ref, exc.status_code, exc.reason)) from None
        except GoogleAuthError as exc:
            raise SheetsError(f"the service account {self.email} got no token: "
                              f"{_one_line(str(exc))}") from None
        except (HttpLib2Error, OSError) as exc:
            raise SheetsError(f"cannot reach the Sheets API at {self.base_url}: "
                              f"{_one_line(str(exc)) or type(exc).__name__}") from None

    def _refusal(self, ref: SheetRef, status: int, reason: str) -> str:
        if status == 404:
            return f"{ref.url}: no such spreadsheet (check the URL)"
        if status == 403:
            return (f"{ref.url}: the service account {self.email} may not open it; share the "
                    "sheet with that email as an editor")
        return f"{ref.url}: the Sheets API answered HTTP {status}: {_one_line(reason)}"


async def read_sheet_links(client: SheetsClient, ref: SheetRef) -> list[str]:
    """The links in the URL column of the sheet's tab (the #gid= one, else the first)."""
    tabs = await asyncio.to_thread(client.tabs, ref)
    if ref.gid is None:
        tab = tabs[0] if tabs else None
    else:
        tab = next((t for t in tabs if t.get("sheetId") == ref.gid), None)
    if tab is None:
        raise SheetsError(f"{ref.url}: no tab with gid {ref.gid}")
    rows = await asyncio.to_thread(client.values, ref, tab["title"])
    try:
        return url_column(rows, f"{ref.url} (tab {tab['title']!r})")
    except InputError as exc:
        raise SheetsError(str(exc)) from None


async def write_report_tab(client: SheetsClient, ref: SheetRef, rows: Sequence[ReportRow],
                           now: datetime | None = None) -> str:
    """A new tab holding the report, formatted; its title."""
    taken = [t["title"] for t in await asyncio.to_thread(client.tabs, ref)]
    title = tab_title((now or datetime.now(UTC)).astimezone(UTC), taken)
    sheet_id = await asyncio.to_thread(client.add_tab, ref, title, len(rows) + 1)
    await asyncio.to_thread(client.update, ref, title, cell_values(rows))
    await asyncio.to_thread(client.batch_update, ref, format_requests(sheet_id, len(rows)))
    return title


def _quoted(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


def _one_line(text: str) -> str:
    return " ".join(text.split())
