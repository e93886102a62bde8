"""The spreadsheets the sandbox holds: tabs of values (as written, RAW), the batchUpdate
requests received, and who may open them. Range parsing covers what Beat sends: a whole tab
("'Tab'!A:ZZ", "Tab"), or a tab and its top-left cell ("'Tab'!A1")."""

import re
import secrets
from dataclasses import dataclass, field
from typing import Any

DEFAULT_ROWS, DEFAULT_COLUMNS = 1000, 26
_CELL = re.compile(r"^([A-Z]+)(\d*)(?::[A-Z]*\d*)?$")


class ApiError(Exception):
    """An answer as the Sheets API gives it: {"error": {"code", "message", "status"}}."""

    def __init__(self, code: int, message: str, status: str) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "status": self.status}}


def not_found() -> ApiError:
    return ApiError(404, "Requested entity was not found.", "NOT_FOUND")


@dataclass
class Tab:
    sheet_id: int
    title: str
    index: int
    values: list[list[Any]] = field(default_factory=list)
    grid: dict[str, int] = field(default_factory=lambda: {"rowCount": DEFAULT_ROWS,
                                                          "columnCount": DEFAULT_COLUMNS})

    def properties(self) -> dict[str, Any]:
        return {"sheetId": self.sheet_id, "title": self.title, "index": self.index,
                "sheetType": "GRID", "gridProperties": dict(self.grid)}

    def write(self, row: int, column: int, values: list[list[Any]]) -> int:
        """Put `values` with their top-left at (row, column), 0-based; the cells written."""
        for r, line in enumerate(values):
            while len(self.values) <= row + r:
                self.values.append([])
            target = self.values[row + r]
            while len(target) < column + len(line):
                target.append("")
            target[column:column + len(line)] = line
        self.grid["rowCount"] = max(self.grid["rowCount"], row + len(values))
        return sum(len(line) for line in values)


@dataclass
class Spreadsheet:
    spreadsheet_id: str
    title: str
    tabs: list[Tab]
    shared: bool = True
    requests: list[dict[str, Any]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"https://docs.google.com/spreadsheets/d/{self.spreadsheet_id}/edit#gid=0"

    def tab_by_id(self, sheet_id: int) -> Tab | None:
        return next((tab for tab in self.tabs if tab.sheet_id == sheet_id), None)

    def add_tab(self, title: str, grid: dict[str, int] | None = None) -> Tab:
        if any(tab.title.lower() == title.lower() for tab in self.tabs):
            raise ApiError(400, f'Invalid requests[0].addSheet: A sheet with the name "{title}" '
                           "already exists. Please enter another name.", "INVALID_ARGUMENT")
        tab = Tab(sheet_id=secrets.randbelow(2**31 - 1) + 1, title=title, index=len(self.tabs))
        tab.grid.update(grid or {})
        self.tabs.append(tab)
        return tab

    def resolve(self, a1: str) -> tuple[Tab, int, int]:
        """The tab and 0-based top-left (row, column) an A1 range names."""
        name, cells = _split_range(a1)
        if name is None and any(t.title == a1 for t in self.tabs):
            name, cells = a1, ""  # a bare name is a tab's before it is a cell's
        tab = self.tabs[0] if name is None else next(
            (t for t in self.tabs if t.title == name), None)
        match = _CELL.match(cells.upper()) if cells else None
        if tab is None or (cells and match is None):
            raise ApiError(400, f"Unable to parse range: {a1}", "INVALID_ARGUMENT")
        if match is None:
            return tab, 0, 0
        return tab, int(match.group(2) or 1) - 1, _column_index(match.group(1))

    def snapshot(self) -> dict[str, Any]:
        return {"spreadsheet_id": self.spreadsheet_id, "title": self.title, "url": self.url,
                "shared": self.shared, "requests": self.requests,
                "tabs": [{**tab.properties(), "values": tab.values} for tab in self.tabs]}


class SheetsStore:
    """Every spreadsheet by id, and the access tokens issued."""

    def __init__(self) -> None:
        self.spreadsheets: dict[str, Spreadsheet] = {}
        self.tokens: set[str] = set()

    def create(self, title: str, rows: list[list[Any]], shared: bool) -> Spreadsheet:
        sheet = Spreadsheet(secrets.token_urlsafe(33), title, [], shared)
        sheet.tabs.append(Tab(sheet_id=0, title="Sheet1", index=0))
        sheet.tabs[0].write(0, 0, rows)
        self.spreadsheets[sheet.spreadsheet_id] = sheet
        return sheet

    def open(self, spreadsheet_id: str) -> Spreadsheet:
        """The spreadsheet the sandbox account may open; 404 / 403 as the API answers."""
        sheet = self.spreadsheets.get(spreadsheet_id)
        if sheet is None:
            raise not_found()
        if not sheet.shared:
            raise ApiError(403, "The caller does not have permission", "PERMISSION_DENIED")
        return sheet


def _split_range(a1: str) -> tuple[str | None, str]:
    """("Tab", "A1") from "'Tab'!A1"; a bare name is a tab, a bare cell range the first tab."""
    quoted = re.match(r"^'((?:[^']|'')*)'(?:!(.*))?$", a1)
    if quoted:
        return quoted.group(1).replace("''", "'"), quoted.group(2) or ""
    name, bang, cells = a1.rpartition("!")
    if bang:
        return name, cells
    return (None, a1) if _CELL.match(a1.upper()) else (a1, "")


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - ord("A") + 1
    return index - 1
