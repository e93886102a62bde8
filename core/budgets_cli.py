"""`beat budgets`: what Beat may still spend, per source and for live refreshes (the same
answer as GET /budgets), as a table or as JSON."""

import json
from datetime import datetime
from typing import Annotated, Any

import typer

from core import db
from core.cli_support import run_async, settings_with_database
from core.console import age, columns


def budgets_command(as_json: Annotated[bool, typer.Option(
                        "--json", help="The GET /budgets answer")] = False) -> None:
    """Each source's limits (used, remaining, when the next slot frees) and credentials
    (usable, resting until when, disabled, expired), and the live-refresh limits."""
    from core.budgets import read_budgets
    from core.ratelimit import process_limiter

    settings = settings_with_database()

    async def read() -> Any:
        assert settings.database_url
        await db.check_schema(settings.database_url)
        pool = await db.create_pool(settings.database_url, max_size=1)
        limiter = process_limiter(settings)
        try:
            return await read_budgets(settings, pool, limiter)
        finally:
            await pool.close()
            if limiter is not None:
                await limiter.aclose()

    found = run_async(read)
    if as_json:
        print(json.dumps(found.line()))
        return
    print("\n".join(table(found)))


def table(found: Any) -> list[str]:
    rows: list[list[str]] = []
    for source in found.sources:
        for limit in source.limits:
            rows.append([source.source, limit.limit, *_room(limit, found.at)])
        for credential in source.credentials:
            rows.append([source.source, f"credential {credential.id}"
                         + (f" ({credential.handle})" if credential.handle else ""),
                         "", "", credential.state
                         + (f" {age((credential.until - found.at).total_seconds())}"
                            if credential.until else "")])
            for limit in credential.limits:
                rows.append([source.source, f"  {limit.limit}", *_room(limit, found.at)])
            if credential.reported:
                rows.append([source.source, "  reported by the platform",
                             *_reported(credential.reported, found.at)])
    for limit in found.live:
        rows.append(["live refreshes", limit.limit, *_room(limit, found.at)])
    lines = columns(["SOURCE", "LIMIT", "USED", "LEFT", "FREES IN"], rows, left=2)
    if found.limiter != "ok":
        lines.append(f"limits not read: {found.limiter}" if found.limiter != "off"
                     else "limits are off (no REDIS_URL)")
    return lines


def _room(limit: Any, at: datetime) -> list[str]:
    if limit.used is None:
        return ["?", "?", "-"]
    frees = age((limit.frees_at - at).total_seconds()) if limit.frees_at else "-"
    return [f"{limit.used:,}/{limit.allowed:,}", f"{limit.remaining:,}", frees]


def _reported(reported: dict[str, Any], at: datetime) -> list[str]:
    """A Graph API token's usage ("63%", 17% left before it rests, when it regains access) or
    an X account's window (used/limit, remaining, when it resets)."""
    until = reported.get("regains_at") or reported.get("resets_at")
    try:
        frees = age((datetime.fromisoformat(until) - at).total_seconds()) if until else "-"
    except (TypeError, ValueError):
        frees = "-"
    if "used_pct" in reported:
        used, rests = float(reported["used_pct"]), float(reported.get("rests_at_pct") or 100)
        return [f"{used:.0f}%", f"{max(0.0, rests - used):.0f}%", frees]
    remaining, limit = reported.get("remaining"), reported.get("limit")
    if isinstance(remaining, int) and isinstance(limit, int):
        return [f"{limit - remaining:,}/{limit:,}", f"{remaining:,}", frees]
    return ["?", "?", frees]
