"""The links a report is asked for: from a CSV or XLSX with a URL column, or a plain list (one
URL per line). The URL column is the one whose header says so (url, link, post, ...), else the
first column whose cells look like URLs; a header row is skipped. Every non-blank input line
stays an input (junk too: the report says why it has no numbers)."""

import csv
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HEADER_WORDS = ("url", "urls", "link", "links", "post", "posts", "post link", "post links",
                "post url", "post urls", "link to post", "video", "tweet", "reel")
_LOOKS_LIKE_URL = re.compile(r"^\s*(https?://|www\.)\S+$|^\s*[\w-]+(\.[\w-]+)+/\S*$",
                             re.IGNORECASE)
XLSX_SUFFIXES = (".xlsx", ".xlsm")
CSV_SUFFIXES = (".csv", ".tsv")


class InputError(ValueError):
    """The input cannot be read as links; str() is one line for the user."""


def read_links(path: Path) -> list[str]:
    """The links of `path`, one per non-blank input line or row, in order."""
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in XLSX_SUFFIXES:
        return url_column(_xlsx_rows(path), str(path))
    if suffix in CSV_SUFFIXES:
        return url_column(_csv_rows(path, "\t" if suffix == ".tsv" else ","), str(path))
    return [line for line in _text(path).splitlines() if line.strip()]


def url_column(rows: Sequence[Sequence[Any]], name: str) -> list[str]:
    """The non-blank cells of the URL column below the header (if any)."""
    rows = [[_cell(value) for value in row] for row in rows if any(_cell(v) for v in row)]
    if not rows:
        return []
    column = _by_header(rows[0])
    if column is not None:
        body = rows[1:]
    else:
        column = _by_content(rows)
        if column is None:
            raise InputError(f"{name}: no URL column (name its header url or link, or "
                             "put the links in a column of their own)")
        body = rows if looks_like_url(_at(rows[0], column)) else rows[1:]
    return [cell for cell in (_at(row, column) for row in body) if cell]


def looks_like_url(text: str) -> bool:
    return bool(_LOOKS_LIKE_URL.match(text))


def _by_header(header: Sequence[str]) -> int | None:
    names = [re.sub(r"[\s_-]+", " ", cell.strip().lower()) for cell in header]
    for index, cell in enumerate(names):
        if cell in HEADER_WORDS:
            return index
    return None


def _by_content(rows: Sequence[Sequence[str]]) -> int | None:
    """The first column where most non-blank cells (below a possible header) are URLs."""
    width = max(len(row) for row in rows)
    for column in range(width):
        cells = [_at(row, column) for row in rows[1:] or rows]
        filled = [cell for cell in cells if cell]
        if filled and sum(looks_like_url(c) for c in filled) * 2 > len(filled):
            return column
    return None


def _at(row: Sequence[str], column: int) -> str:
    return row[column].strip() if column < len(row) else ""


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig", errors="replace")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None


def _csv_rows(path: Path, delimiter: str) -> list[list[str]]:
    return list(csv.reader(_text(path).splitlines(), delimiter=delimiter))


def _xlsx_rows(path: Path) -> list[list[Any]]:
    """The cells of the first sheet; a hyperlink cell gives its target when it shows text."""
    from zipfile import BadZipFile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=False, data_only=True)
    except (InvalidFileException, BadZipFile, OSError, KeyError, ValueError) as exc:
        raise InputError(f"{path}: not a readable XLSX workbook ({exc})") from None
    sheet = book.worksheets[0]
    rows: list[list[Any]] = []
    for row in sheet.iter_rows():
        rows.append([cell.hyperlink.target if cell.hyperlink is not None
                     and cell.hyperlink.target else cell.value for cell in row])
    book.close()
    return rows
