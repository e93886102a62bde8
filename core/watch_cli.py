"""`beat watch …`: watchlists on the command line (the same store as /watchlists): add items by
pasted URL (arguments or a file: CSV/XLSX with a URL column, or one URL a line) or by
`--item PLATFORM:KIND:ID`, list the watchlists or one's items (with those backing off after
failed refreshes), remove items or a whole watchlist, and say how fresh one is."""

import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from core import db
from core.cli_support import UserError, run_async, settings_with_database
from core.config import Settings
from core.console import age, columns, plural

watch_app = typer.Typer(no_args_is_help=True, help="Watchlists the refresh scheduler keeps fresh.")

_DURATION = re.compile(r"(\d+)\s*([smhdw]?)")
_UNIT_S = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
Name = Annotated[str, typer.Argument(help="The watchlist's name (letters, digits, . _ -)")]
Urls = Annotated[list[str] | None, typer.Argument(help="Pasted URLs", show_default=False)]
File = Annotated[Path | None, typer.Option("--file", "-f", help="CSV/XLSX with a URL column, "
                                           "or one URL a line ('-' reads stdin)")]
Named = Annotated[list[str] | None, typer.Option(
    "--item", "-i", show_default=False,
    help="An item by PLATFORM:KIND:ID (e.g. youtube:playlist:PL…, instagram:hashtag:coffee); "
         "repeatable")]


def parse_duration(text: str) -> int:
    """Seconds of `90`, `90s`, `15m`, `6h`, `2d` or `1w`."""
    found = _DURATION.fullmatch(text.strip().lower())
    if not found:
        raise typer.BadParameter(f"{text!r} is not a duration (e.g. 90s, 15m, 6h, 2d, 1w)")
    return int(found[1]) * _UNIT_S[found[2]]


def _inputs(urls: list[str] | None, file: Path | None) -> list[str]:
    from core.reports.inputs import InputError, read_links

    given = list(urls or [])
    if file is not None:
        try:
            given += [line for line in sys.stdin.read().splitlines() if line.strip()] \
                if str(file) == "-" else read_links(file)
        except InputError as exc:
            raise UserError(str(exc)) from None
    return given


def _items_in(urls: list[str], named: list[str] | None, **given: Any) -> list[Any]:
    """The items as the store's resolver takes them: URLs, then PLATFORM:KIND:ID ones."""
    from pydantic import ValidationError

    from core.watchlists.items import ItemIn

    try:
        items = [ItemIn(url=url.strip(), **given) for url in urls]
        for text in named or []:
            platform, kind, ident = (text.split(":", 2) + ["", ""])[:3]
            if not (platform and kind and ident):
                raise UserError(f"{text!r} is not PLATFORM:KIND:ID")
            items.append(ItemIn(platform=platform, kind=kind, id=ident, **given))
    except ValidationError as exc:
        raise UserError(exc.errors()[0]["msg"]) from None
    return items


def _check_name(name: str) -> None:
    from core.watchlists.store import NAME_RULE, valid_name

    if not valid_name(name):
        raise UserError(f"{name!r} is not a watchlist name ({NAME_RULE})")


async def _with_pool(settings: Settings, job: Any) -> Any:
    assert settings.database_url
    await db.check_schema(settings.database_url)
    pool = await db.create_pool(settings.database_url, max_size=2)
    try:
        return await job(pool)
    finally:
        await pool.close()


@watch_app.command("add")
def watch_add(name: Name, urls: Urls = None, file: File = None, named: Named = None,
              importance: Annotated[float, typer.Option(
                  min=0.000001, max=1_000_000, help="How much these items' freshness matters")
              ] = 1.0,
              max_age: Annotated[str, typer.Option(
                  help="Target freshness: refreshed at most this long ago (90s, 15m, 6h, 2d)")
              ] = "1d",
              description: Annotated[str | None, typer.Option(
                  help="Describe the watchlist (made if missing)")] = None) -> None:
    """Add items to a watchlist (made if missing): videos, posts, profiles, playlists and
    hashtags, by URL or by --item PLATFORM:KIND:ID; items already there get the new importance
    and max age. Refused items are listed with why; exit 2 when none could be added."""
    from core.platforms import registry
    from core.watchlists import store
    from core.watchlists.items import MAX_ITEMS, resolve_items

    _check_name(name)
    seconds = parse_duration(max_age)
    items_in = _items_in(_inputs(urls, file), named, importance=importance, max_age_s=seconds)
    given = items_in
    if not given and description is None:
        raise UserError("no items: give URLs as arguments or --file, or --item")
    if len(given) > MAX_ITEMS:
        raise UserError(f"{len(given)} items: at most {MAX_ITEMS:,} at once")
    settings = settings_with_database()

    async def add(pool: Any) -> tuple[int, int, list[Any]]:
        await store.create(pool, name, description)
        items, rejected = await resolve_items(settings, registry(settings), items_in)
        added, updated = await store.add_items(pool, name, items)
        return added, updated, rejected

    added, updated, rejected = run_async(lambda: _with_pool(settings, add))
    for refused in rejected:
        print(f"refused {refused.input}: {refused.reason}", file=sys.stderr)
    print(f"{name}: {plural(added, 'item')} added, {updated} updated, {len(rejected)} refused")
    if given and not added and not updated:
        raise typer.Exit(2)


@watch_app.command("list")
def watch_list(name: Annotated[str | None, typer.Argument(
                   help="A watchlist: list its items (none: every watchlist)")] = None) -> None:
    """Every watchlist with its item count, or one watchlist's items."""
    from core.watchlists import store

    if name is not None:
        _check_name(name)
    settings = settings_with_database()

    now = datetime.now(UTC)

    async def read(pool: Any) -> list[str]:
        if name is None:
            found = await store.every(pool)
            return columns(["WATCHLIST", "ITEMS", "DESCRIPTION"],
                           [[w.name, str(w.items), w.description or ""] for w in found]) \
                if found else ["no watchlists: add one with `beat watch add NAME URL…`"]
        rows: list[list[str]] = []
        cursor = None
        while True:
            page, cursor = await store.items_page(pool, name, cursor, 1000)
            rows += [[i["platform"], i["kind"], i["id"], f"{i['importance']:g}",
                      age(i["max_age_s"]), failing(i, now)] for i in page]
            if cursor is None:
                break
        return columns(["PLATFORM", "KIND", "ID", "IMPORTANCE", "MAX AGE", "FAILING"], rows,
                       left=3)

    try:
        lines = run_async(lambda: _with_pool(settings, read))
    except store.NoSuchWatchlist as exc:
        raise UserError(str(exc)) from None
    print("\n".join(lines))


@watch_app.command("rm")
def watch_rm(name: Name, urls: Urls = None, file: File = None, named: Named = None) -> None:
    """Remove these items from a watchlist, or with none given the whole watchlist (the stored
    profiles and posts stay)."""
    from core.platforms import registry
    from core.watchlists import store
    from core.watchlists.items import resolve_items

    _check_name(name)
    given = _items_in(_inputs(urls, file), named)
    settings = settings_with_database()

    async def remove(pool: Any) -> str:
        if not given:
            count = (await store.summary(pool, name)).items
            await store.delete(pool, name)
            return f"deleted watchlist {name} ({plural(count, 'item')})"
        await store.summary(pool, name)
        items, rejected = await resolve_items(settings, registry(settings), given)
        for refused in rejected:
            print(f"refused {refused.input}: {refused.reason}", file=sys.stderr)
        removed = await store.remove_items(pool, name, items)
        return f"{name}: {plural(removed, 'item')} removed"

    try:
        print(run_async(lambda: _with_pool(settings, remove)))
    except store.NoSuchWatchlist as exc:
        raise UserError(str(exc)) from None


@watch_app.command("status")
def watch_status(name: Name, as_json: Annotated[bool, typer.Option(
                     "--json", help="The GET /watchlists/{name}/freshness answer")] = False
                 ) -> None:
    """How fresh a watchlist is: the share of items within their target age (weighted by
    importance and not), the oldest item, and what keeping every item fresh would take a day
    of each budget against what it allows past the scheduler's reserve."""
    import json

    from core.ratelimit import process_limiter
    from core.watchlists import store
    from core.watchlists.freshness import freshness

    _check_name(name)
    settings = settings_with_database()

    async def read(pool: Any) -> Any:
        limiter = process_limiter(settings)
        try:
            return await freshness(pool, settings, limiter, name, datetime.now(UTC))
        finally:
            if limiter is not None:
                await limiter.aclose()

    try:
        found = run_async(lambda: _with_pool(settings, read)).line()
    except store.NoSuchWatchlist as exc:
        raise UserError(str(exc)) from None
    print(json.dumps(found) if as_json else "\n".join(status_lines(found)))


def status_lines(found: dict[str, Any]) -> list[str]:
    head = (f"{found['name']}: {plural(found['items'], 'item')}, {found['fresh']:,} within "
            f"their target age ({found['fresh_share']:.1%}; weighted by importance "
            f"{found['fresh_share_weighted']:.1%}), {found['never_refreshed']:,} never "
            "refreshed")
    lines = [head]
    oldest = found["oldest"]
    if oldest:
        when = "never refreshed" if oldest["age_s"] is None else \
            f"refreshed {age(oldest['age_s'])} ago, target {age(oldest['max_age_s'])}"
        lines.append(f"oldest: {oldest['platform']} {oldest['kind']} {oldest['id']} ({when})")
    rows = [[b["source"], b["limit"] or "-", b["unit"], f"{b['needed_per_day']:,}",
             "-" if b["available_per_day"] is None else f"{b['available_per_day']:,}",
             b["why"] or {True: "yes", False: "NO"}[b["enough"]]] for b in found["budgets"]]
    if rows:
        lines += ["", *columns(["SOURCE", "BUDGET", "UNIT", "NEEDED/DAY", "AVAILABLE/DAY",
                                "ENOUGH"], rows, left=3)]
    if found["unbudgeted"]:
        lines.append(f"{plural(found['unbudgeted'], 'item')} refreshed by flows that name no "
                     "cost (not counted above)")
    lines += [f"{platform}: freshness unknown ({why})"
              for platform, why in found["not_tracked"].items()]
    if found["backing_off"]:
        at = datetime.fromisoformat(found["at"])
        held = plural(found["backing_off"], "item")
        lines += ["", f"backing off: {held} whose refreshes keep failing (worst first)"]
        lines += [f"  {i['platform']} {i['kind']} {i['id']}: {failing(i, at)}: "
                  f"{i['last_error'] or '-'}" for i in found["backing_off_worst"]]
    return lines


def failing(item: dict[str, Any], now: datetime) -> str:
    """`3 failed, next in 2h00m (not_found)` for an item backing off, else `-`."""
    retry = item.get("retry_at")
    if isinstance(retry, str):
        retry = datetime.fromisoformat(retry)
    if not item.get("failures") or retry is None or retry <= now:
        return "-"
    return (f"{item['failures']} failed, next in {age((retry - now).total_seconds())} "
            f"({item.get('error_kind') or '-'})")
