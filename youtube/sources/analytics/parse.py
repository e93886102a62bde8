"""Pure functions from YouTube Analytics v2 `reports.query` answers (result tables) to rows; no
I/O. normalize_report is what `beat parse` prints for such an answer.

    {"kind": "youtubeAnalytics#resultTable",
     "columnHeaders": [{"name", "columnType": DIMENSION|METRIC, "dataType"}, ...],
     "rows": [[...], ...]}                        ("rows" is left out when nothing matched)
"""

from dataclasses import dataclass
from typing import Any

from core.normalized import Normalized, to_int
from core.parsing import UnknownShape, shape_errors
from youtube.models import ANALYTICS, PLATFORM
from youtube.sources.data_api.parse import ApiErrorBody, parse_error

REPORT = "youtubeAnalytics#resultTable"
COUNTS = ("views", "likes", "comments", "shares")


@dataclass(frozen=True)
class Report:
    """A result table: its columns in order (dimensions first) and one dict per row."""

    columns: tuple[str, ...]
    dimensions: tuple[str, ...]
    rows: list[dict[str, Any]]


@shape_errors
def parse_report(body: Any) -> Report:
    """A youtubeAnalytics#resultTable; an error body raises ApiErrorBody, any other UnknownShape.
    INTEGER cells become ints, FLOAT floats, STRING strings; a null cell stays None."""
    error = parse_error(body)
    if error is not None:
        raise ApiErrorBody(error)
    if not isinstance(body, dict) or body.get("kind") != REPORT:
        kind = body.get("kind") if isinstance(body, dict) else type(body).__name__
        raise UnknownShape(f"expected {REPORT}, got {kind!r}")
    headers = body["columnHeaders"]
    if not isinstance(headers, list) or not headers:
        raise UnknownShape("a result table without columnHeaders")
    readers = [_reader(header["dataType"]) for header in headers]
    columns = tuple(str(header["name"]) for header in headers)
    rows = []
    for row in body.get("rows") or []:
        if not isinstance(row, list) or len(row) != len(columns):
            raise UnknownShape(f"a row of {len(row)} cells under {len(columns)} columns")
        rows.append({name: read(cell) for name, read, cell in zip(columns, readers, row)})
    dimensions = tuple(str(h["name"]) for h in headers if h["columnType"] == "DIMENSION")
    return Report(columns, dimensions, rows)


def _reader(data_type: str) -> Any:
    def read(cell: Any) -> Any:
        if cell is None:
            return None
        if data_type == "INTEGER":
            return to_int(cell)
        if data_type in ("FLOAT", "CURRENCY"):
            return float(cell)
        return str(cell)
    if data_type not in ("INTEGER", "FLOAT", "CURRENCY", "STRING"):
        raise UnknownShape(f"a column of unknown dataType {data_type!r}")
    return read


def normalize_report(body: Any) -> list[Normalized]:
    """A report by video: one post per row. Any other report (by day, country, age and
    gender, or none): one profile record holding the rows' summed counts — the channel's over
    the period; counts the report does not carry (a viewerPercentage breakdown) are None.
    The answer does not name the channel, so the record's id is None."""
    report = parse_report(body)
    if "video" in report.dimensions:
        return [_record("post", row.get("video"), row) for row in report.rows]
    sums: dict[str, Any] = {
        name: sum(row[name] or 0 for row in report.rows) if name in report.columns else None
        for name in COUNTS}
    return [Normalized(platform=PLATFORM, kind="profile", id=None, source=ANALYTICS, **sums)]


def _record(kind: str, ident: Any, row: dict[str, Any]) -> Normalized:
    counts: dict[str, Any] = {name: row.get(name) for name in COUNTS}
    return Normalized(platform=PLATFORM, kind="post" if kind == "post" else "profile",
                      id=ident, source=ANALYTICS, **counts)
