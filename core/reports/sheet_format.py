"""The links report as a Google Sheets tab: the cells (RAW: numbers as numbers, dates as serial
numbers so a date format applies, text never read as a formula) and the one batchUpdate that
styles it as the seed's sheets are: an orange (255, 165, 0) bold EB Garamond header, EB Garamond
body, everything centered, solid black borders on every cell, the header row frozen, column
widths, and number formats for the counts and the date."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from core.reports.report import COLUMNS, COUNT_COLUMNS, DATE_COLUMN, ReportRow
from core.reports.xlsx import COUNT_FORMAT, DATE_FORMAT, WIDTHS

FONT = "EB Garamond"
HEADER_SIZE, BODY_SIZE = 11, 10
ORANGE = {"red": 1.0, "green": 165 / 255, "blue": 0.0}
BLACK = {"red": 0.0, "green": 0.0, "blue": 0.0}
PIXELS_PER_CHARACTER = 7  # an XLSX width is in characters; Sheets sizes columns in pixels
_EPOCH = datetime(1899, 12, 30)  # day 0 of spreadsheet serial dates


def tab_title(now: datetime, taken: Sequence[str]) -> str:
    """"Beat report YYYY-MM-DD HH:MM", with " (2)" and on when a tab has that name already."""
    base = f"Beat report {now:%Y-%m-%d %H:%M}"
    lowered = {title.lower() for title in taken}
    title, number = base, 1
    while title.lower() in lowered:
        number += 1
        title = f"{base} ({number})"
    return title


def cell_values(rows: Sequence[ReportRow]) -> list[list[Any]]:
    """The header and one line per row; None becomes an empty cell."""
    return [list(COLUMNS), *([_cell(value) for value in row.values()] for row in rows)]


def format_requests(sheet_id: int, row_count: int) -> list[dict[str, Any]]:
    """The batchUpdate requests that style a tab holding the header and `row_count` rows."""
    last = row_count + 1
    requests = [
        _repeat(sheet_id, 0, 1, 0, len(COLUMNS), {
            "backgroundColor": ORANGE, "horizontalAlignment": "CENTER",
            "verticalAlignment": "MIDDLE",
            "textFormat": {"bold": True, "fontFamily": FONT, "fontSize": HEADER_SIZE}},
            "userEnteredFormat(backgroundColor,textFormat,horizontalAlignment,"
            "verticalAlignment)"),
    ]
    if row_count:
        requests.append(_repeat(sheet_id, 1, last, 0, len(COLUMNS), {
            "horizontalAlignment": "CENTER", "verticalAlignment": "MIDDLE",
            "textFormat": {"fontFamily": FONT, "fontSize": BODY_SIZE}},
            "userEnteredFormat(textFormat,horizontalAlignment,verticalAlignment)"))
        requests += _number_formats(sheet_id, last)
    solid = {"style": "SOLID", "width": 1, "color": BLACK}
    requests.append({"updateBorders": {
        "range": _range(sheet_id, 0, last, 0, len(COLUMNS)),
        **{side: solid for side in ("top", "bottom", "left", "right", "innerHorizontal",
                                    "innerVertical")}}})
    requests.append({"updateSheetProperties": {
        "properties": {"sheetId": sheet_id, "gridProperties": {"frozenRowCount": 1}},
        "fields": "gridProperties.frozenRowCount"}})
    requests += [{"updateDimensionProperties": {
        "range": {"sheetId": sheet_id, "dimension": "COLUMNS", "startIndex": index,
                  "endIndex": index + 1},
        "properties": {"pixelSize": WIDTHS[name] * PIXELS_PER_CHARACTER},
        "fields": "pixelSize"}} for index, name in enumerate(COLUMNS)]
    return requests


def _number_formats(sheet_id: int, last: int) -> list[dict[str, Any]]:
    formats = []
    for index, name in enumerate(COLUMNS):
        if name in COUNT_COLUMNS:
            number = {"type": "NUMBER", "pattern": COUNT_FORMAT}
        elif name == DATE_COLUMN:
            number = {"type": "DATE_TIME", "pattern": DATE_FORMAT}
        else:
            continue
        formats.append(_repeat(sheet_id, 1, last, index, index + 1, {"numberFormat": number},
                               "userEnteredFormat.numberFormat"))
    return formats


def _repeat(sheet_id: int, top: int, bottom: int, left: int, right: int,
            fmt: dict[str, Any], fields: str) -> dict[str, Any]:
    return {"repeatCell": {"range": _range(sheet_id, top, bottom, left, right),
                           "cell": {"userEnteredFormat": fmt}, "fields": fields}}


def _range(sheet_id: int, top: int, bottom: int, left: int, right: int) -> dict[str, int]:
    return {"sheetId": sheet_id, "startRowIndex": top, "endRowIndex": bottom,
            "startColumnIndex": left, "endColumnIndex": right}


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return (value - _EPOCH).total_seconds() / 86400  # naive UTC already (ReportRow)
    return value
