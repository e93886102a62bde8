"""`beat schedule`: one refresh scheduler tick now, or with `--plan` what the next tick would
enqueue (per platform: items, calls, budget units) and what it would leave of each budget,
without enqueuing anything."""

import json
from typing import Annotated, Any

import typer

from core import db
from core.cli_support import run_async, settings_with_database
from core.console import columns


def schedule_command(
        plan_only: Annotated[bool, typer.Option(
            "--plan", help="Print what the next tick would enqueue; enqueue nothing")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="One JSON object")] = False
        ) -> None:
    """Run one scheduler tick now (the maintenance leader runs one every SCHEDULER_INTERVAL),
    or with --plan show what it would enqueue and the budget it would leave."""
    from core.ratelimit import process_limiter
    from core.scheduler.tick import plan_tick, run_tick

    settings = settings_with_database()

    async def tick() -> tuple[Any, int | None]:
        assert settings.database_url
        await db.check_schema(settings.database_url)
        pool = await db.create_pool(settings.database_url, max_size=2)
        limiter = process_limiter(settings)
        try:
            if plan_only:
                return await plan_tick(pool, settings, limiter), None
            return await run_tick(pool, settings, limiter)
        finally:
            await pool.close()
            if limiter is not None:
                await limiter.aclose()

    plan, created = run_async(tick)
    if as_json:
        print(json.dumps({**plan.line(), **({} if created is None else {"created": created})}))
        return
    print("\n".join(table(plan, created)))


def table(plan: Any, created: int | None) -> list[str]:
    rows = [[p["platform"], f"{p['watched']:,}", f"{p['due']:,}", f"{p['in_flight']:,}",
             f"{p['backing_off']:,}", f"{p['items']:,}", f"{p['calls']:,}", f"{p['units']:,}"]
            for p in (platform.line() for platform in plan.platforms.values())]
    if not rows:
        return ["no watched items: add some with `beat watch add NAME URL…`"]
    lines = columns(["PLATFORM", "WATCHED", "DUE", "IN FLIGHT", "BACKING OFF", "REFRESH",
                     "CALLS", "UNITS"], rows)
    budgets = [[b.source, limit.name, f"{limit.remaining:,}/{limit.allowed:,}",
                f"{limit.reserve:,}", f"{limit.in_flight:,}", f"{limit.spent:,}",
                f"{limit.left:,}"] for b in plan.budgets.values() for limit in b.lines]
    if budgets:
        lines += ["", *columns(["SOURCE", "LIMIT", "LEFT NOW", "RESERVE", "IN FLIGHT",
                                "THIS TICK", "LEFT AFTER"], budgets, left=2)]
    lines += [f"{b.source}: nothing spent ({b.blocked})" for b in plan.budgets.values()
              if b.blocked]
    lines += [f"{platform}: not scheduled ({why})" for platform, why in plan.skipped.items()]
    verb = "would enqueue" if created is None else f"enqueued {created:,} new of"
    lines.append(f"{verb} {len(plan.chosen):,} refreshes")
    return lines
