"""One scheduler tick: read the outcomes of the refreshes enqueued before (outcomes.py), the
watched items and when each was last refreshed (each platform's `Lookups.freshness`; for a
collection, when its refresh last completed), leave out those whose refresh is already queued
or running (its idempotency key is active) or backing off after failures, read every budget
(core/budgets.py), plan (plan.py) and, unless only planning, enqueue the chosen refreshes under
their idempotency keys at a priority below on-demand refreshes and reports, and track them."""

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core import sqlfile
from core.budgets import read_budgets
from core.config import Settings
from core.lookups import InvalidId, Lookups, Refresh
from core.platforms import Platform, RefreshCost, registry
from core.queue import NewTask, Queue
from core.ratelimit import RateLimiter
from core.scheduler import outcomes
from core.scheduler.budget import allowance, calls_for, needs_credential, route
from core.scheduler.plan import Candidate, Plan, PlatformPlan, Watched, choose, urgency_order
from core.validation import RESERVED_KEY_PREFIX

log = logging.getLogger(__name__)
SCHEDULED_PRIORITY = 10  # below a report's refreshes (50) and a live API refresh (100)
SQL = Path(__file__).parents[1] / "sql" / "scheduler.sql"


def sql(name: str) -> str:
    return sqlfile.load(SQL)[name]


@dataclass
class Watchers:
    """The platforms that can keep items fresh, with their lookups."""

    platforms: dict[str, Platform]
    lookups: dict[str, Lookups]

    @classmethod
    def of(cls, settings: Settings) -> "Watchers":
        platforms = registry(settings)
        lookups = {name: found for name, p in platforms.items()
                   if (found := p.load_lookups()) is not None}
        return cls(platforms, lookups)

    def costs(self, only: Iterable[str] | None = None) -> dict[str, RefreshCost]:
        """Each refresh flow's cost (of the platforms named in `only`, when given)."""
        named = None if only is None else set(only)
        return {flow: cost for name, p in self.platforms.items()
                if named is None or name in named for flow, cost in p.refresh_costs.items()}


Rows = dict[tuple[str, str], list[Any]]  # (platform, kind) -> watched_items rows


async def watched_rows(pool: Any, watchers: Watchers, watchlist: str | None = None,
                       plan: Plan | None = None) -> Rows:
    """The watched items (of one watchlist, or all) of the platforms that can keep them
    fresh; the others are noted in `plan.skipped`."""
    by_kind: Rows = {}
    for row in await pool.fetch(sql("watched_items"), watchlist):
        lookups = watchers.lookups.get(row["platform"])
        if lookups is None or not lookups.can_watch(row["kind"]):
            if plan is not None:
                plan.skipped[row["platform"]] = "no freshness lookup or refresh for its items"
            continue
        by_kind.setdefault((row["platform"], row["kind"]), []).append(row)
    return by_kind


async def with_freshness(pool: Any, watchers: Watchers, rows: Rows) -> list[Watched]:
    """The items with when each was last refreshed (one read per platform and kind)."""
    found: list[Watched] = []
    for (platform, kind), group in sorted(rows.items()):
        lookups = watchers.lookups[platform]
        if lookups.is_collection(kind):  # no row of its own: when its refresh last completed
            refreshed = {r["item_id"]: r["recorded_at"] for r in group if r["recorded_at"]}
        else:
            assert lookups.freshness is not None
            refreshed = await lookups.freshness(pool, kind, [r["item_id"] for r in group])
        found += [Watched(platform, kind, r["item_id"], r["importance"], r["max_age_s"],
                          refreshed.get(r["item_id"]), r["failures"] or 0, r["retry_at"],
                          r["failed_at"], r["error_kind"], r["last_error"]) for r in group]
    return found


async def watched_items(pool: Any, watchers: Watchers, watchlist: str | None = None,
                        plan: Plan | None = None) -> list[Watched]:
    return await with_freshness(pool, watchers,
                                await watched_rows(pool, watchers, watchlist, plan))


ItemKey = tuple[str, str, str]  # (platform, kind, id)


def refreshes(watchers: Watchers, keys: Iterable[ItemKey]) -> dict[ItemKey, Refresh]:
    """Each item's refresh; an item whose id its platform rejects is logged and left out."""
    found = {}
    for platform, kind, ident in keys:
        try:
            found[platform, kind, ident] = watchers.lookups[platform].watch_refresh(kind, ident)
        except InvalidId as exc:
            log.warning("scheduler: %s %s %s cannot be refreshed: %s", platform, kind, ident,
                        exc)
    return found


def row_keys(rows: Rows) -> list[ItemKey]:
    return [(platform, kind, row["item_id"]) for (platform, kind), group in rows.items()
            for row in group]


async def active_keys(pool: Any, refreshing: Iterable[Refresh]) -> set[str]:
    """The idempotency keys of these refreshes that are queued or running now."""
    keys = [RESERVED_KEY_PREFIX + refresh.key for refresh in refreshing]
    return {row["idempotency_key"] for row in await pool.fetch(sql("active_keys"), keys)}


def candidates(watchers: Watchers, items: list[Watched],
               found: dict[ItemKey, Refresh] | None = None) -> list[Candidate]:
    """The items that can be refreshed, each with its refresh (from `found` when given) and
    its cost."""
    if found is None:
        found = refreshes(watchers, ((i.platform, i.kind, i.id) for i in items))
    costs = watchers.costs()
    return [Candidate(item, refresh, costs.get(refresh.flow)) for item in items
            if (refresh := found.get((item.platform, item.kind, item.id))) is not None]


async def plan_tick(pool: Any, settings: Settings, limiter: RateLimiter | None,
                    now: datetime | None = None, watchers: Watchers | None = None) -> Plan:
    """What the next tick would enqueue, and what it would leave of each budget."""
    watchers = watchers or Watchers.of(settings)
    now = now or datetime.now(UTC)
    plan = Plan(now)
    rows = await watched_rows(pool, watchers, plan=plan)
    # In flight before fresh: a refresh that finishes between the two reads is seen in flight
    # (then fresh next tick), never as stale and no longer in flight, so refreshed twice.
    found = refreshes(watchers, row_keys(rows))
    active = await active_keys(pool, found.values())
    items = await with_freshness(pool, watchers, rows)
    for item in items:
        plan.platforms.setdefault(item.platform, PlatformPlan(item.platform)).watched += 1
    ordered = urgency_order(items, now, settings.scheduler_staleness_cap)
    due = candidates(watchers, [i for i in ordered
                                if i.staleness(now) >= settings.scheduler_refresh_at], found)
    for candidate in due:
        platform = plan.platforms[candidate.item.platform]
        platform.due += 1
        platform.in_flight += RESERVED_KEY_PREFIX + candidate.refresh.key in active
        platform.backing_off += candidate.item.backing_off(now)
    due = [c for c in due if RESERVED_KEY_PREFIX + c.refresh.key not in active
           and not c.item.backing_off(now)]
    routes = await _allowances(pool, settings, limiter, watchers, plan)
    due = [replace(c, cost=routes[c.cost]) if c.cost in routes else c for c in due]
    choose(plan, due, settings.scheduler_max_per_tick)
    return plan


async def _allowances(pool: Any, settings: Settings, limiter: RateLimiter | None,
                      watchers: Watchers, plan: Plan) -> dict[RefreshCost, RefreshCost]:
    """Each budgeted source's allowance (of the platforms with watched items), with the
    calls its queued refreshes will still make; and the source each refresh cost draws on
    this tick (its first, or a fallback while the first has no usable credential)."""
    costs = watchers.costs(plan.platforms)
    if not costs:
        return {}
    budgets = await read_budgets(settings, pool, limiter)
    routes = {cost: route(budgets, cost) for cost in costs.values()}
    queued = {row["flow"]: row["tasks"]
              for row in await pool.fetch(sql("active_by_flow"), list(costs))}
    by_source: dict[str, Counter[RefreshCost]] = {}
    for flow, cost in costs.items():
        taken = routes[cost]
        by_source.setdefault(taken.source, Counter())[taken] += \
            calls_for(queued.get(flow, 0), taken)
    for source, in_flight in by_source.items():
        plan.budgets[source] = allowance(budgets, source, settings.scheduler_reserve,
                                         _tick_s(settings), in_flight, plan.at,
                                         needs_credential(in_flight))
    return routes


def _tick_s(settings: Settings) -> float:
    return settings.scheduler_interval or 60.0


def tasks_of(plan: Plan, watchers: Watchers) -> list[NewTask]:
    return [NewTask(flow=c.refresh.flow, params=c.refresh.params,
                    platform=watchers.platforms[c.item.platform].api_name,
                    priority=SCHEDULED_PRIORITY,
                    idempotency_key=RESERVED_KEY_PREFIX + c.refresh.key) for c in plan.chosen]


async def run_tick(pool: Any, settings: Settings, limiter: RateLimiter | None,
                   now: datetime | None = None, watchers: Watchers | None = None
                   ) -> tuple[Plan, int]:
    """Plan and enqueue one tick; the plan and how many tasks were new (a refresh enqueued
    meanwhile by someone else is shared, not repeated)."""
    watchers = watchers or Watchers.of(settings)
    now = now or datetime.now(UTC)
    await outcomes.record(pool, settings, now)
    plan = await plan_tick(pool, settings, limiter, now, watchers)
    created = 0
    if plan.chosen:
        enqueued = await Queue(pool).enqueue_many(tasks_of(plan, watchers))
        created = sum(1 for _, new in enqueued if new)
        await outcomes.track(pool, plan.chosen, [task.id for task, _ in enqueued])
    log.info("scheduler: %s", summary(plan, created))
    return plan, created


def summary(plan: Plan, created: int) -> str:
    """One log line: what was enqueued per platform, and what each budget has left."""
    parts = [f"enqueued {created} refreshes"]
    for platform in plan.platforms.values():
        line = platform.line()
        parts.append(f"{platform.platform}: {line['items']} of {line['due']} due "
                     f"({line['calls']} calls, {line['units']} units)")
    for budget in plan.budgets.values():
        if budget.blocked:
            parts.append(f"{budget.source}: nothing spent ({budget.blocked})")
        for limit in budget.lines:
            unit = "units" if limit.quota else "calls"
            parts.append(f"{limit.name}: {limit.left:,} of {limit.allowed:,} {unit} left "
                         f"(reserve {limit.reserve:,})")
    return "; ".join(parts)
