"""The platform commands: `beat links` (a metrics report for pasted URLs, or what they point
at), `beat parse` (a raw API response as normalized lines) and `beat platforms` (what is
registered)."""

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Annotated, Any

import typer

from core import http
from core.cli_support import UserError, run_async
from core.config import Settings, get_settings
from core.console import columns
from core.links import Router
from core.parsing import UnknownShape, parse_document
from core.platforms import Platform, registry


def links_command(
        file: Annotated[str | None, typer.Argument(
            help="A CSV or XLSX with a URL column, or one URL per line (- reads stdin with "
                 "--resolve-only)", metavar="INPUT")] = None,
        output: Annotated[Path | None, typer.Option(
            "--output", "-o", help="The report to write: REPORT.xlsx or REPORT.csv")] = None,
        timeout: Annotated[float, typer.Option(
            help="Seconds to wait for the refreshes; later ones say \"timed out\"")] = 600.0,
        resolve_only: Annotated[bool, typer.Option(
            "--resolve-only", help="Print what each URL points at; fetch nothing")] = False,
        offline: Annotated[bool, typer.Option(
            "--offline", help="Follow no share link: report it as needing resolution")] = False,
        sheet: Annotated[str | None, typer.Option(
            "--sheet", help="A Google Sheets URL: read its URL column, write the report to a "
                            "new tab (GOOGLE_SERVICE_ACCOUNT_FILE or _JSON)",
            metavar="SHEET_URL")] = None,
        thumbnails: Annotated[bool, typer.Option(
            help="Store the thumbnails not stored yet (the assets worker) and link the stored "
                 "copies; --no-thumbnails links the platforms' own images")] = True,
) -> None:
    """A metrics report for pasted links (-o REPORT.xlsx|.csv): one row per link with its
    platform, author, followers, likes, comments, shares, views, engagement, caption, date,
    thumbnail and a status; the refreshes run as tasks on the queue (start `beat up` or `beat
    worker`), and so do the thumbnails' copies (the assets worker; when none takes them within
    10 s, the report links the platforms' own images). With --resolve-only: one JSON line per
    input line, {"url", "platform", "kind", "id"} or {"url", "error"} (an error is an answer:
    the exit code stays 0); share links are followed (the redirect only), or with --offline
    reported as needing resolution. With --sheet SHEET_URL: the links come from the sheet's
    tab (the first, or the URL's #gid=) and the report goes to a new tab "Beat report
    YYYY-MM-DD HH:MM" (UTC) of the same sheet."""
    if sheet is not None:
        if file is not None or output is not None or resolve_only:
            raise UserError("--sheet reads and writes the sheet: give no INPUT, -o or "
                            "--resolve-only with it")
        from core.reports.command import sheet_command

        sheet_command(sheet, timeout, thumbnails)
        return
    if file is None:
        raise UserError("say what to read: beat links INPUT -o REPORT.xlsx, or "
                        "beat links --sheet SHEET_URL")
    if not resolve_only:
        if output is None:
            raise UserError("say where to write the report: beat links INPUT -o REPORT.xlsx "
                            "(or --resolve-only to print what each URL points at)")
        from core.reports.command import report_command

        report_command(file, output, timeout, thumbnails)
        return
    settings = get_settings()
    router = Router(registry(settings))
    if offline:
        for line in router.lines(_lines(file)):
            print(json.dumps(line, ensure_ascii=False), flush=True)
        return
    run_async(lambda: _print_links(router, settings, _lines(file)))


async def _print_links(router: Router, settings: Settings, texts: Iterator[str]) -> None:
    try:
        async for line in router.lines_following(texts, settings):
            print(json.dumps(line, ensure_ascii=False), flush=True)
    finally:
        await http.close_client()


def _lines(file: str) -> Iterator[str]:
    if file == "-":
        yield from _read(sys.stdin, "stdin")
        return
    try:
        with Path(file).open(encoding="utf-8", errors="replace") as handle:
            yield from _read(handle, file)
    except OSError as exc:
        raise UserError(f"cannot read {file}: {exc.strerror}") from None


def _read(handle: IO[str], name: str) -> Iterator[str]:
    for line in handle:
        yield line.rstrip("\r\n").lstrip("\ufeff")


def parse_command(file: Annotated[Path, typer.Argument(help="A raw API response (JSON)")],
          platform: Annotated[str, typer.Option(
              help="The platform that answered (see `beat platforms`)")]) -> None:
    """Print each entity of a raw API response as one normalized JSON line."""
    try:
        document = json.loads(file.read_text())
    except OSError as exc:
        raise UserError(f"cannot read {file}: {exc.strerror}") from None
    except ValueError as exc:
        raise UserError(f"{file} is not JSON: {exc}") from None
    try:
        entities = parse_document(platform.lower(), document)
    except UnknownShape as exc:
        raise UserError(f"{file}: {exc}") from None
    for entity in entities:
        print(json.dumps(entity.line()))


def platforms_command(as_json: Annotated[bool, typer.Option("--json", help="JSON lines")]
                      = False) -> None:
    """List the registered platforms: their flows module, parser, URL hosts and lookups."""
    found = registry(get_settings())
    if as_json:
        for platform in found.values():
            print(json.dumps(describe(platform)))
        return
    if not found:
        print("no platform is registered")
        return
    rows = [[p.name, p.api_name, str(len(p.hosts)), "yes" if p.parser else "no",
             ", ".join(describe(p)["lookups"]) or "-"] for p in found.values()]
    print("\n".join(columns(("platform", "API name", "URL hosts", "parser", "lookups"), rows)))


def describe(platform: Platform) -> dict[str, Any]:
    lookups = platform.load_lookups()
    return {"name": platform.name, "api_name": platform.api_name, "flows": platform.flows,
            "parser": platform.parser, "hosts": sorted(platform.hosts),
            "credential_sources": sorted(platform.credential_checks),
            "lookups": lookups.capabilities() if lookups else [],
            "keyword_flow": platform.keyword_flow, "description": platform.description}
