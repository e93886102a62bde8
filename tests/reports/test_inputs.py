"""Reading the links of a report: CSV and XLSX with a URL column found by its header or by its
cells, a plain list one URL per line, and one-line errors for what cannot be read."""

from pathlib import Path

import pytest
from openpyxl import Workbook

from core.reports.inputs import InputError, looks_like_url, read_links

YT = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
IG = "instagram.com/p/Cabcdefgh12/"


def test_a_csv_column_named_post_link_is_read_below_its_header(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text(f"State,Post Link,Page\nUP,{YT},a\nMP,,b\n,junk text,c\n", encoding="utf-8")
    assert read_links(path) == [YT, "junk text"]


def test_without_a_header_name_the_first_column_of_urls_is_taken(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text(f"name,where\nalpha,{YT}\nbeta,{IG}\ngamma,not a url\n", encoding="utf-8")
    assert read_links(path) == [YT, IG, "not a url"]
    headless = tmp_path / "bare.csv"
    headless.write_text(f"{YT},1\n{IG},2\n", encoding="utf-8")
    assert read_links(headless) == [YT, IG]


def test_a_csv_without_any_url_column_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("a,b\n1,2\n3,4\n", encoding="utf-8")
    with pytest.raises(InputError, match="no URL column"):
        read_links(path)


def test_an_xlsx_url_column_and_hyperlink_cells(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["State", "URL"])
    sheet.append(["UP", YT])
    sheet.append(["MP", "click here"])
    sheet["B3"].hyperlink = IG  # a cell showing text, linking to the post
    sheet.append(["KA", None])
    path = tmp_path / "in.xlsx"
    book.save(path)
    assert read_links(path) == [YT, IG]


def test_a_plain_list_keeps_every_non_blank_line(tmp_path: Path) -> None:
    path = tmp_path / "links.txt"
    path.write_text(f"\ufeff{YT}\n\n  \nnot a link\r\n{IG}\n", encoding="utf-8")
    assert read_links(path) == [YT, "not a link", IG]


def test_missing_and_unreadable_inputs(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_links(tmp_path / "missing.csv")
    broken = tmp_path / "broken.xlsx"
    broken.write_text("not a zip", encoding="utf-8")
    with pytest.raises(InputError, match="not a readable XLSX"):
        read_links(broken)


@pytest.mark.parametrize(("text", "expected"), [
    (YT, True), (IG, True), ("www.facebook.com/page", True), ("x.com/a/status/1", True),
    ("hello world", False), ("Post Link", False), ("12,345", False)])
def test_what_looks_like_a_url(text: str, expected: bool) -> None:
    assert looks_like_url(text) is expected
