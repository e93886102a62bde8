"""The report writers: the XLSX read back with openpyxl (header style, borders, widths, number
formats, frozen header, values) and the CSV with the same columns; the engagement rule."""

import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from core.lookups import LinkFigures
from core.reports.csvfile import write_csv
from core.reports.report import COLUMNS, ReportRow, engagement, reason_of
from core.reports.xlsx import write_xlsx

WHEN = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
ROWS = [
    ReportRow("https://youtu.be/dQw4w9WgXcQ", "ok", "youtube", LinkFigures(
        author="Beat TV", followers=1_234_567, likes=50, comments=7, views=1000,
        caption="A song", published_at=WHEN, thumbnail_url="https://i.ytimg.com/x.jpg")),
    ReportRow("nonsense", "unsupported URL: malformed"),
]


def test_the_xlsx_is_styled_as_the_seed_describes(tmp_path: Path) -> None:
    path = tmp_path / "out.xlsx"
    write_xlsx(ROWS, path)
    sheet = load_workbook(path).active
    assert [c.value for c in sheet[1]] == list(COLUMNS)
    assert sheet.freeze_panes == "A2"
    for cell in sheet[1]:
        assert cell.font.bold and cell.fill.fill_type == "solid"
        assert cell.fill.fgColor.rgb == "FFFFA500"  # RGB 255, 165, 0
    for row in sheet.iter_rows(min_row=1, max_row=3, max_col=len(COLUMNS)):
        for cell in row:
            assert {cell.border.left.style, cell.border.right.style, cell.border.top.style,
                    cell.border.bottom.style} == {"thin"}
            assert cell.alignment.horizontal == "center"
    widths = [sheet.column_dimensions[chr(ord("A") + i)].width for i in range(len(COLUMNS))]
    assert all(width >= 12 for width in widths) and widths[0] == 50
    assert sheet["D2"].number_format == "#,##0" and sheet["I2"].number_format == "#,##0"
    assert sheet["K2"].number_format == "yyyy-mm-dd hh:mm"


def test_the_xlsx_values(tmp_path: Path) -> None:
    path = tmp_path / "out.xlsx"
    write_xlsx(ROWS, path)
    sheet = load_workbook(path).active
    assert [c.value for c in sheet[2]] == [
        "https://youtu.be/dQw4w9WgXcQ", "youtube", "Beat TV", 1_234_567, 50, 7, None, 1000, 57,
        "A song", datetime(2026, 3, 1, 12, 30), "https://i.ytimg.com/x.jpg", "ok"]
    assert [c.value for c in sheet[3]] == ["nonsense"] + [None] * 11 + [
        "unsupported URL: malformed"]


def test_the_csv_has_the_same_columns(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    write_csv(ROWS, path)
    rows = list(csv.reader(path.open(encoding="utf-8")))
    assert rows[0] == list(COLUMNS)
    assert rows[1] == ["https://youtu.be/dQw4w9WgXcQ", "youtube", "Beat TV", "1234567", "50",
                       "7", "", "1000", "57", "A song", "2026-03-01T12:30:00",
                       "https://i.ytimg.com/x.jpg", "ok"]
    assert rows[2][-1] == "unsupported URL: malformed" and rows[2][1:-1] == [""] * 11


@pytest.mark.parametrize(("likes", "comments", "shares", "expected"), [
    (None, None, None, None), (10, None, None, 10), (10, 2, 3, 15), (0, 0, 0, 0),
    (None, 4, None, 4)])
def test_engagement_counts_unknowns_as_zero_only_beside_a_known_figure(
        likes: int | None, comments: int | None, shares: int | None, expected: int | None
        ) -> None:
    assert engagement(likes, comments, shares) == expected


def test_status_reasons() -> None:
    assert reason_of("ok (duplicate of row 3)") == "ok"
    assert reason_of("source failed: SourceUnavailable: HTTP 500") == "source failed"
    assert reason_of("not found / deleted") == "not found / deleted"
