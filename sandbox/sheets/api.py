"""The Sheets API v4 endpoints Beat calls, under /sheets/ (the client's api_endpoint), and the
service account's token endpoint:

    POST /sheets/token                                       JWT bearer grant -> access token
    GET  /sheets/v4/spreadsheets/{id}                        properties and tabs
    GET  /sheets/v4/spreadsheets/{id}/values/{range}         a tab's values (as text)
    PUT  /sheets/v4/spreadsheets/{id}/values/{range}         write values (valueInputOption)
    POST /sheets/v4/spreadsheets/{id}:batchUpdate            addSheet answered; all stored

Every v4 call needs a token from /sheets/token (401 otherwise); an unknown spreadsheet is 404
NOT_FOUND, one not shared with the sandbox account 403 PERMISSION_DENIED, as Google answers."""

import secrets
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from sandbox.responses import GoogleJSON
from sandbox.sheets.account import JWT_BEARER, BadAssertion, ServiceAccount
from sandbox.sheets.store import ApiError, SheetsStore, Spreadsheet, Tab

router = APIRouter(prefix="/sheets")


@dataclass
class SheetsState:
    store: SheetsStore = field(default_factory=SheetsStore)
    account: ServiceAccount = field(default_factory=ServiceAccount.generate)


def sheets_of(request: Request) -> SheetsState:
    return cast(SheetsState, request.app.state.sheets)


@router.post("/token")
async def token(request: Request) -> Response:
    # parsed here: Starlette's form parser needs python-multipart, which Beat does not install
    form = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
    if form.get("grant_type") != JWT_BEARER:
        return JSONResponse({"error": "unsupported_grant_type",
                             "error_description": "Invalid grant_type"}, status_code=400)
    try:
        sheets_of(request).account.check(form.get("assertion", ""))
    except BadAssertion as exc:
        return JSONResponse({"error": "invalid_grant", "error_description": str(exc)},
                            status_code=400)
    access = "ya29.sandbox-" + secrets.token_urlsafe(24)
    sheets_of(request).store.tokens.add(access)
    return JSONResponse({"access_token": access, "expires_in": 3599, "token_type": "Bearer"})


@router.get("/v4/spreadsheets/{spreadsheet_id}")
async def get_spreadsheet(request: Request, spreadsheet_id: str) -> Response:
    def answer(sheet: Spreadsheet) -> dict[str, Any]:
        return {"spreadsheetId": sheet.spreadsheet_id,
                "properties": {"title": sheet.title, "locale": "en_US",
                               "timeZone": "Etc/GMT"},
                "sheets": [{"properties": tab.properties()} for tab in sheet.tabs],
                "spreadsheetUrl": sheet.url.partition("#")[0]}
    return _call(request, spreadsheet_id, answer)


@router.get("/v4/spreadsheets/{spreadsheet_id}/values/{a1:path}")
async def get_values(request: Request, spreadsheet_id: str, a1: str) -> Response:
    def answer(sheet: Spreadsheet) -> dict[str, Any]:
        tab, _, _ = sheet.resolve(a1)
        body: dict[str, Any] = {"range": _a1(tab), "majorDimension": "ROWS"}
        rows = _trimmed([[_text(v) for v in row] for row in tab.values])
        return {**body, "values": rows} if rows else body
    return _call(request, spreadsheet_id, answer)


@router.put("/v4/spreadsheets/{spreadsheet_id}/values/{a1:path}")
async def update_values(request: Request, spreadsheet_id: str, a1: str) -> Response:
    body = await request.json()
    option = request.query_params.get("valueInputOption")

    def answer(sheet: Spreadsheet) -> dict[str, Any]:
        if option not in ("RAW", "USER_ENTERED"):
            raise ApiError(400, "Invalid valueInputOption: INPUT_VALUE_OPTION_UNSPECIFIED",
                           "INVALID_ARGUMENT")
        tab, row, column = sheet.resolve(a1)
        values = body.get("values") or []
        cells = tab.write(row, column, values)
        return {"spreadsheetId": sheet.spreadsheet_id, "updatedRange": _a1(tab),
                "updatedRows": len(values), "updatedColumns": max(map(len, values), default=0),
                "updatedCells": cells}
    return _call(request, spreadsheet_id, answer)


@router.post("/v4/spreadsheets/{spreadsheet_id}:batchUpdate")
async def batch_update(request: Request, spreadsheet_id: str) -> Response:
    body = await request.json()

    def answer(sheet: Spreadsheet) -> dict[str, Any]:
        replies = [_apply(sheet, item) for item in body.get("requests") or []]
        return {"spreadsheetId": sheet.spreadsheet_id, "replies": replies}
    return _call(request, spreadsheet_id, answer)


def _apply(sheet: Spreadsheet, item: dict[str, Any]) -> dict[str, Any]:
    """addSheet makes a tab and answers its properties; the rest is stored as received, once
    the tab it names is known to exist."""
    if "addSheet" in item:
        properties = item["addSheet"].get("properties") or {}
        tab = sheet.add_tab(properties.get("title") or f"Sheet{len(sheet.tabs) + 1}",
                            properties.get("gridProperties"))
        sheet.requests.append(item)
        return {"addSheet": {"properties": tab.properties()}}
    for sheet_id in _sheet_ids(item):
        if sheet.tab_by_id(sheet_id) is None:
            raise ApiError(400, f"Invalid requests[0]: No grid with id: {sheet_id}",
                           "INVALID_ARGUMENT")
    sheet.requests.append(item)
    return {}


def _call(request: Request, spreadsheet_id: str, answer: Any) -> Response:
    state = sheets_of(request)
    bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
    try:
        if bearer not in state.store.tokens:
            raise ApiError(401, "Request had invalid authentication credentials. Expected "
                           "OAuth 2 access token, login cookie or other valid authentication "
                           "credential.", "UNAUTHENTICATED")
        return GoogleJSON(answer(state.store.open(spreadsheet_id)))
    except ApiError as exc:
        return GoogleJSON(exc.body(), status_code=exc.code)


def _sheet_ids(value: Any) -> list[int]:
    if isinstance(value, dict):
        found = [value["sheetId"]] if isinstance(value.get("sheetId"), int) else []
        return found + [i for v in value.values() for i in _sheet_ids(v)]
    if isinstance(value, list):
        return [i for v in value for i in _sheet_ids(v)]
    return []


def _a1(tab: Tab) -> str:
    return "'" + tab.title.replace("'", "''") + "'!A1:" + _letters(tab.grid["columnCount"]) \
        + str(tab.grid["rowCount"])


def _letters(count: int) -> str:
    letters = ""
    while count:
        count, rest = divmod(count - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _text(value: Any) -> str:
    """A cell as FORMATTED_VALUE shows it (whole numbers without a decimal point)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _trimmed(rows: list[list[str]]) -> list[list[str]]:
    """Trailing empty cells and rows dropped, as the API leaves them out."""
    rows = [row[:max((i + 1 for i, v in enumerate(row) if v), default=0)] for row in rows]
    while rows and not rows[-1]:
        rows.pop()
    return rows
