"""`beat timeseries`: a profile's metric over time and its growth (the answer of
GET /profiles/{platform}/{id}/timeseries), as a table that fits 80 columns or as JSON."""

import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

import typer

from core import db
from core.cli_support import UserError, run_async, settings_with_database
from core.config import Settings
from core.console import columns

T = TypeVar("T")


def read_with_pool(settings: Settings, job: Callable[[Any], Awaitable[T]]) -> T:
    """Run `job(pool)` on a one-connection pool of the configured database."""
    async def run() -> T:
        assert settings.database_url
        await db.check_schema(settings.database_url)
        pool = await db.create_pool(settings.database_url, max_size=1)
        try:
            return await job(pool)
        finally:
            await pool.close()

    return run_async(run)


def timeseries_command(
        platform: Annotated[str, typer.Argument(help="The platform (beat platforms)")],
        profile_id: Annotated[str, typer.Argument(help="The profile's id on the platform")],
        metric: Annotated[str, typer.Option(help="A metric its snapshots carry")] = "followers",
        start: Annotated[datetime | None, typer.Option(
            "--from", help="First bucket's moment (UTC)  [default: --to minus 30 days]")] = None,
        end: Annotated[datetime | None, typer.Option(
            "--to", help="End of the range (UTC)  [default: now]")] = None,
        interval: Annotated[str, typer.Option(help="hour, day or week")] = "day",
        as_json: Annotated[bool, typer.Option("--json", help="The HTTP answer")] = False,
) -> None:
    """A profile's metric per hour, day or week (the last snapshot in each; '-' where none was
    taken), and its change over 1, 7 and 30 days."""
    from core.analytics import timeseries
    from core.platforms import UnknownPlatform, get

    if interval not in timeseries.INTERVALS:
        raise UserError(f"--interval: one of {', '.join(timeseries.INTERVALS)}, not {interval!r}")
    settings = settings_with_database()
    try:
        found = get(settings, platform)
        answer = read_with_pool(settings, lambda pool: timeseries.read_timeseries(
            pool, found, profile_id, metric, start, end, interval))  # type: ignore[arg-type]
    except (UnknownPlatform, ValueError, LookupError) as exc:
        raise UserError(str(exc)) from None
    if as_json:
        print(json.dumps(answer, default=iso))
        return
    print("\n".join(series_table(answer)))


def iso(value: Any) -> str:
    """Moments as the HTTP answer writes them (UTC as Z)."""
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    raise TypeError(f"not JSON: {type(value).__name__}")


def figure(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,}" if isinstance(value, int) else f"{value:,.4g}"


def series_table(answer: dict[str, Any]) -> list[str]:
    shape = "%Y-%m-%d %H:%M" if answer["interval"] == "hour" else "%Y-%m-%d"
    rows: list[list[str]] = []
    last: float | None = None
    for point in answer["points"]:
        value = point["value"]
        change: float | None = value - last if value is not None and last is not None else None
        rows.append([point["t"].strftime(shape), figure(value), figure(change),
                     str(point["snapshots"])])
        last = value if value is not None else last
    title = (f"{answer['platform']} {answer['profile_id']}: {answer['metric']} per "
             f"{answer['interval']} (UTC)")
    lines = [title]
    lines += columns([answer["interval"].upper(), "VALUE", "CHANGE", "SNAPSHOTS"], rows)
    lines.append("")
    lines += columns(["GROWTH", "FROM", "TO", "CHANGE", "%"], [
        [f"{g['days']} d", figure(g["previous"]), figure(g["value"]), figure(g["change"]),
         "-" if g["change_pct"] is None else f"{g['change_pct']:+.2f}%"]
        for g in answer["growth"]])
    return lines


def leaderboard_command(
        platform: Annotated[str, typer.Argument(
            help="A platform (beat platforms), or ALL: across platforms")] = "ALL",
        by: Annotated[str, typer.Option(
            help="followers, engagement_rate or growth")] = "followers",
        category: Annotated[str | None, typer.Option(help="Only this category")] = None,
        language: Annotated[str | None, typer.Option(help="Only this language")] = None,
        limit: Annotated[int, typer.Option(min=1, max=200, help="Profiles a page")] = 20,
        cursor: Annotated[str | None, typer.Option(
            help="The next_cursor of the page before")] = None,
        refresh_first: Annotated[bool, typer.Option(
            "--refresh", help="Refresh the leaderboard view first")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="The HTTP answer")] = False,
) -> None:
    """Profiles ranked by followers, engagement rate or 7-day growth, with their rank change
    against the week before (the answer of GET /leaderboards/{platform})."""
    from core.analytics import leaderboards
    from core.platforms import UnknownPlatform, get

    if by not in leaderboards.MEASURES:
        raise UserError(f"--by: one of {', '.join(leaderboards.MEASURES)}, not {by!r}")
    settings = settings_with_database()
    try:
        name = None if platform.upper() == leaderboards.ACROSS else get(
            settings, platform).api_name
    except UnknownPlatform as exc:
        raise UserError(str(exc)) from None
    board = leaderboards.Board(name, by, category, language)

    async def read(pool: Any) -> dict[str, Any]:
        if refresh_first:
            async with pool.acquire() as conn:
                await leaderboards.refresh(conn, settings)
        return await leaderboards.read_page(pool, board, limit, cursor)

    try:
        answer = read_with_pool(settings, read)
    except (leaderboards.BadCursor, leaderboards.NotComputed) as exc:
        raise UserError(str(exc)) from None
    if as_json:
        print(json.dumps(answer, default=iso))
        return
    print("\n".join(leaderboard_table(answer)))


def short(text: str | None, width: int) -> str:
    text = text or "-"
    return text if len(text) <= width else text[:width - 1] + "…"


def leaderboard_table(answer: dict[str, Any]) -> list[str]:
    across = answer["platform"] == "ALL"
    rows = []
    for entry in answer["items"]:
        change = entry["rank_change"]
        moved = "new" if change is None else "=" if change == 0 else f"{change:+,}"
        who = short(entry["handle"] or entry["profile_id"], 16)
        rows.append([f"{entry['rank']:,}", who,
                     *([short(entry["platform"], 9)] if across else []), moved,
                     figure(entry["followers"]), figure(entry["growth"]),
                     "-" if entry["engagement_rate"] is None
                     else f"{entry['engagement_rate']:.2f}%"])
    narrowed = ", ".join(f"{k} {answer[k]}" for k in ("category", "language") if answer[k])
    computed = answer["computed_at"]
    lines = [f"{answer['platform']} by {answer['by']}" + (f" ({narrowed})" if narrowed else ""),
             f"as of {computed:%Y-%m-%d %H:%M} UTC; MOVE: places gained in 7 days" if computed
             else "never refreshed (beat leaderboard --refresh)"]
    # At most 7 + 16 + 9 + 8 + 11 + 9 + 6 characters and six gaps: 80 columns.
    headers = ["RANK", "PROFILE", *(["PLATFORM"] if across else []), "MOVE", "FOLLOWERS",
               "GROWTH 7D", "ER"]
    lines += columns(headers, rows, left=3 if across else 2)
    if answer["next_cursor"]:
        lines.append(f"more: --cursor {answer['next_cursor']}")
    return lines
