"""The links report as a formatted XLSX workbook (openpyxl), styled as the seed's sheets: an
orange (255, 165, 0) bold header row, thin black borders on every cell, centered text, column
widths, thousands separators on the counts, a date format, and the header frozen."""

from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from core.reports.report import COLUMNS, COUNT_COLUMNS, DATE_COLUMN, ReportRow

SHEET_TITLE = "Link metrics"
HEADER_FILL = PatternFill(fill_type="solid", start_color="FFFFA500", end_color="FFFFA500")
HEADER_FONT = Font(bold=True, size=11)
_THIN = Side(style="thin", color="FF000000")
BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=False)
COUNT_FORMAT = "#,##0"
DATE_FORMAT = "yyyy-mm-dd hh:mm"
WIDTHS = {"URL": 50, "platform": 12, "page/channel/author": 28, "followers": 14, "likes": 12,
          "comments": 12, "shares": 12, "views": 14, "engagement": 14, "caption": 50,
          "date": 18, "thumbnail link": 40, "status": 40}


def write_xlsx(rows: Sequence[ReportRow], path: Path) -> None:
    """Write the report to `path` (replaced if it exists)."""
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET_TITLE
    sheet.append(list(COLUMNS))
    for row in rows:
        sheet.append(row.values())
    for index, name in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = WIDTHS[name]
        number_format = COUNT_FORMAT if name in COUNT_COLUMNS else \
            DATE_FORMAT if name == DATE_COLUMN else None
        for cell in sheet.iter_rows(min_col=index, max_col=index, min_row=1,
                                    max_row=len(rows) + 1):
            _style(cell[0], header=cell[0].row == 1, number_format=number_format)
    sheet.freeze_panes = "A2"
    book.save(path)


def _style(cell: object, header: bool, number_format: str | None) -> None:
    cell.border = BORDER  # type: ignore[attr-defined]
    cell.alignment = CENTER  # type: ignore[attr-defined]
    if header:
        cell.fill = HEADER_FILL  # type: ignore[attr-defined]
        cell.font = HEADER_FONT  # type: ignore[attr-defined]
    elif number_format is not None:
        cell.number_format = number_format  # type: ignore[attr-defined]
