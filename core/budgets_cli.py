"""`beat budgets`: what Beat may still spend, per source and for live refreshes (the same
answer as GET /budgets), as a table or as JSON."""

import json
from typing import Annotated, Any

import typer

from core import db
from core.cli_support import run_async, settings_with_database
from core.console import columns


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
    from core.budget_rows import budget_rows

    lines = columns(["SOURCE", "LIMIT", "USED", "LEFT", "FREES IN"],
                    [row.cells() for row in budget_rows(found)], left=2)
    if found.limiter != "ok":
        lines.append(f"limits not read: {found.limiter}" if found.limiter != "off"
                     else "limits are off (no REDIS_URL)")
    return lines
