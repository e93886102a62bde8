"""What the command line prints besides JSON: column tables that fit a terminal without
cutting names, ages, plurals, and one-line usage errors."""

import textwrap
from collections.abc import Sequence

GAP = "  "


def plural(count: int, noun: str, many: str | None = None) -> str:
    """`1 task`, `2 tasks` (`many` for irregular plurals)."""
    return f"{count} {noun if count == 1 else many or noun + 's'}"


def age(seconds: float | None) -> str:
    """A compact age: `-` for none, `4.2s`, `3m05s`, `2h13m`, `3d04h`."""
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    whole = int(seconds)
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    if whole < 86400:
        return f"{whole // 3600}h{whole % 3600 // 60:02d}m"
    return f"{whole // 86400}d{whole % 86400 // 3600:02d}h"


def columns(headers: Sequence[str], rows: Sequence[Sequence[str]],
            left: int = 1, width: int | None = None) -> list[str]:
    """Rows as aligned text lines: the first `left` columns left-aligned, the rest (numbers)
    right-aligned. Every column is as wide as its widest cell: values are never cut. With a
    `width`, a first cell too long to fit beside the others goes on a line of its own, the
    rest of its row on the next (one entry holding both lines), so one long name does not
    push every row past the terminal's edge."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)]
    if width is not None and len(widths) > 1:
        rest = sum(widths[1:]) + len(GAP) * (len(widths) - 1)
        widths[0] = max(len(headers[0]), min(widths[0], width - rest))

    def line(cells: Sequence[str]) -> str:
        text = GAP.join(cell.ljust(w) if i < left else cell.rjust(w)
                        for i, (cell, w) in enumerate(zip(cells, widths))).rstrip()
        if len(cells[0]) <= widths[0]:
            return text
        return cells[0] + "\n" + line(["", *cells[1:]])

    return [line(headers), *(line(row) for row in rows)]


def indented(text: str, width: int, indent: str = "    ") -> list[str]:
    """`text` wrapped to `width` columns under an indent (an empty list for no text)."""
    if not text:
        return []
    return textwrap.wrap(text, width=max(20, width), initial_indent=indent,
                         subsequent_indent=indent)


def usage_line(command_path: str, message: str) -> str:
    """A usage error as one plain line, with where to read the command's help."""
    # pydantic's conversion messages start with "Value error, ": the rest says it already.
    text = " ".join(message.split()).replace("Value error, ", "").rstrip(".")
    text = text[:1].lower() + text[1:]
    return f"{command_path}: {text} (see `{command_path} --help`)"
