"""`beat links INPUT -o REPORT` and `beat links --sheet SHEET_URL`: read the links (a file, or
a Google Sheet), run the report job against DATABASE_URL (the workers of `beat up` or `beat
worker` do the refreshes) with a rich progress bar on stderr, write the XLSX or CSV (or a new
tab of the sheet) and print a one-line summary. Bad input is a one-line UserError."""

import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as Bar

from core import db, http
from core.cli_support import UserError, run_async, settings_with_database
from core.config import Settings
from core.reports.csvfile import write_csv
from core.reports.inputs import InputError, read_links
from core.reports.job import run_report
from core.reports.report import ReportRow, reason_of
from core.reports.sheets import (
    SheetsClient,
    SheetsError,
    parse_sheet_url,
    read_sheet_links,
    write_report_tab,
)
from core.reports.xlsx import write_xlsx

Writer = Callable[[Sequence[ReportRow], Path], None]
WRITERS: dict[str, Writer] = {".xlsx": write_xlsx, ".csv": write_csv}


def writer_for(output: Path) -> Writer:
    writer = WRITERS.get(output.suffix.lower())
    if writer is None:
        raise UserError(f"{output}: the report is written as .xlsx or .csv, not "
                        f"{output.suffix or 'a file without an extension'}")
    if not output.parent.is_dir():
        raise UserError(f"{output}: directory {output.parent} does not exist")
    return writer


def report_command(source: str, output: Path, timeout: float, thumbnails: bool = True) -> None:
    writer = writer_for(output)
    try:
        links = read_links(Path(source))
    except InputError as exc:
        raise UserError(str(exc)) from None
    if not links:
        raise UserError(f"{source}: no links in it")
    settings = settings_with_database()
    started = time.monotonic()
    rows = run_async(lambda: _run(settings, links, timeout, thumbnails))
    try:
        writer(rows, output)
    except OSError as exc:
        raise UserError(f"cannot write {output}: {exc.strerror}") from None
    print(summary(rows, time.monotonic() - started, output))


def sheet_command(url: str, timeout: float, thumbnails: bool = True) -> None:
    """Read the sheet's links, run the job, write the report to a new tab of the sheet."""
    try:
        ref = parse_sheet_url(url)
    except SheetsError as exc:
        raise UserError(str(exc)) from None
    settings = settings_with_database()
    try:
        client = SheetsClient.from_settings(settings)
        links = run_async(lambda: read_sheet_links(client, ref))
    except SheetsError as exc:
        raise UserError(str(exc)) from None
    if not links:
        raise UserError(f"{url}: no links in it")
    started = time.monotonic()
    rows = run_async(lambda: _run(settings, links, timeout, thumbnails))
    try:
        title = run_async(lambda: write_report_tab(client, ref, rows))
    except SheetsError as exc:
        raise UserError(f"the report is done but was not written: {exc}") from None
    print(summary(rows, time.monotonic() - started, f"tab {title!r} of {url}"))


async def _run(settings: Settings, links: list[str], timeout: float, thumbnails: bool
               ) -> list[ReportRow]:
    assert settings.database_url
    await db.check_schema(settings.database_url)
    pool = await db.create_pool(settings.database_url)
    columns = (TextColumn("{task.description:<11}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    try:
        with Bar(*columns, console=Console(stderr=True), transient=True) as bar:
            handle = bar.add_task("routing", total=len(links))

            def progress(phase: str, done: int, total: int) -> None:
                bar.update(handle, description=phase, completed=done, total=total)

            return await run_report(pool, settings, links, progress=progress, timeout=timeout,
                                    thumbnails=thumbnails)
    finally:
        await pool.close()
        await http.close_client()


def summary(rows: Sequence[ReportRow], seconds: float, output: Path | str) -> str:
    """"40 rows, 31 ok, 9 failed (3 unsupported URL, 2 private, ...) in 12.3s -> out.xlsx"."""
    ok = sum(row.ok for row in rows)
    failed = Counter(reason_of(row.status) for row in rows if not row.ok)
    line = f"{len(rows)} rows, {ok} ok, {len(rows) - ok} failed"
    if failed:
        line += " (" + ", ".join(f"{n} {reason}" for reason, n in failed.most_common()) + ")"
    return f"{line} in {seconds:.1f}s -> {output}"
