"""The links report as CSV: the XLSX's columns, counts as plain integers, dates in ISO 8601
(UTC), an empty cell where a figure is unknown."""

import csv
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from core.reports.report import COLUMNS, ReportRow


def write_csv(rows: Sequence[ReportRow], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow([_text(value) for value in row.values()])


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return str(value)
