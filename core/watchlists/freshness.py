"""How fresh a watchlist is (`GET /watchlists/{name}/freshness`, `beat watch status`): the share
of its items refreshed within their target age, unweighted and weighted by importance, its
oldest item, and per budget what refreshing every item once per target age would take a day
against what the budget allows a day past the scheduler's reserve, so an operator sees at once
whether to buy more quota; and the items whose refreshes keep failing (backing off), the worst
named with their last error."""

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.budgets import read_budgets
from core.config import Settings
from core.platforms import RefreshCost
from core.ratelimit import RateLimiter
from core.scheduler.budget import DAY_S, allowance, needs_credential, per_day, route
from core.scheduler.plan import Plan, Watched
from core.scheduler.tick import Watchers, candidates, watched_items
from core.watchlists import store

WORST = 5  # failing items named in a report

@dataclass
class BudgetNeed:
    source: str
    limit: str
    unit: str
    needed_per_day: float
    available_per_day: float | None  # None: no limit, or (with `why`) not read
    why: str | None = None

    def line(self) -> dict[str, Any]:
        available = self.available_per_day
        return {"source": self.source, "limit": self.limit, "unit": self.unit,
                "needed_per_day": math.ceil(self.needed_per_day),
                "available_per_day": None if available is None else math.floor(available),
                "enough": None if self.why else available is None
                or self.needed_per_day <= available, "why": self.why}


@dataclass
class Freshness:
    name: str
    at: datetime
    items: int = 0
    fresh: int = 0
    fresh_share: float = 1.0
    fresh_share_weighted: float = 1.0
    never_refreshed: int = 0
    oldest: dict[str, Any] | None = None
    budgets: list[BudgetNeed] = field(default_factory=list)
    unbudgeted: int = 0  # items whose refresh has no declared cost
    skipped: dict[str, str] = field(default_factory=dict)
    backing_off: int = 0  # items whose next attempt waits after failed refreshes
    worst: list[dict[str, Any]] = field(default_factory=list)

    def line(self) -> dict[str, Any]:
        return {"name": self.name, "at": self.at.isoformat(), "items": self.items,
                "fresh": self.fresh, "fresh_share": round(self.fresh_share, 4),
                "fresh_share_weighted": round(self.fresh_share_weighted, 4),
                "never_refreshed": self.never_refreshed, "oldest": self.oldest,
                "budgets": [b.line() for b in self.budgets], "unbudgeted": self.unbudgeted,
                "not_tracked": self.skipped, "backing_off": self.backing_off,
                "backing_off_worst": self.worst}


def shares(items: list[Watched], now: datetime) -> tuple[int, float, float]:
    """(fresh items, share of items fresh, importance-weighted share fresh)."""
    if not items:
        return 0, 1.0, 1.0
    fresh = [item.fresh(now) for item in items]
    weight = sum(item.importance for item in items)
    weighted = sum(item.importance for item, ok in zip(items, fresh, strict=True) if ok)
    return sum(fresh), sum(fresh) / len(items), weighted / weight


def oldest(items: list[Watched], now: datetime) -> dict[str, Any] | None:
    """The item refreshed longest ago (never refreshed first, the most important of those)."""
    if not items:
        return None
    never = [i for i in items if i.refreshed_at is None]
    item = max(never, key=lambda i: i.importance) if never else \
        min(items, key=lambda i: i.refreshed_at or now)
    age = None if item.refreshed_at is None else (now - item.refreshed_at).total_seconds()
    return {"platform": item.platform, "kind": item.kind, "id": item.id,
            "importance": item.importance, "max_age_s": item.max_age_s,
            "refreshed_at": item.refreshed_at.isoformat() if item.refreshed_at else None,
            "age_s": None if age is None else round(age)}


def failing(items: list[Watched], now: datetime, limit: int = WORST) -> tuple[int, list[dict[
        str, Any]]]:
    """How many items are backing off after failed refreshes, and the `limit` worst (most
    failures in a row, then the latest next attempt) with their last error."""
    held = [i for i in items if i.backing_off(now)]
    held.sort(key=lambda i: (i.failures, i.retry_at or now), reverse=True)
    return len(held), [{"platform": i.platform, "kind": i.kind, "id": i.id,
                        "failures": i.failures,
                        "retry_at": i.retry_at.isoformat() if i.retry_at else None,
                        "error_kind": i.error_kind, "last_error": i.last_error}
                       for i in held[:limit]]


def calls_per_day(watchers: Watchers, items: list[Watched]) -> tuple[dict[RefreshCost, float],
                                                                      int]:
    """Calls a day each cost would take to refresh every item once per its target age (calls
    of a batching flow full), and how many items have no declared cost."""
    calls: dict[RefreshCost, float] = {}
    unbudgeted = 0
    for candidate in candidates(watchers, items):
        if candidate.cost is None:
            unbudgeted += 1
            continue
        calls[candidate.cost] = calls.get(candidate.cost, 0.0) \
            + DAY_S / candidate.item.max_age_s / candidate.cost.items
    return calls, unbudgeted


async def freshness(pool: Any, settings: Settings, limiter: RateLimiter | None, name: str,
                    now: datetime) -> Freshness:
    """The watchlist's freshness now (NoSuchWatchlist when there is none by that name)."""
    await store.summary(pool, name)
    watchers = Watchers.of(settings)
    report = Freshness(name, now)
    noted = Plan(now)
    items = await watched_items(pool, watchers, name, noted)
    report.skipped = noted.skipped
    report.items = len(items)
    report.fresh, report.fresh_share, report.fresh_share_weighted = shares(items, now)
    report.never_refreshed = sum(1 for i in items if i.refreshed_at is None)
    report.oldest = oldest(items, now)
    report.backing_off, report.worst = failing(items, now)
    calls, report.unbudgeted = calls_per_day(watchers, items)
    if calls:
        budgets = await read_budgets(settings, pool, limiter)
        report.budgets = needs(budgets, settings, calls)
    return report


def needs(budgets: Any, settings: Settings, calls: dict[RefreshCost, float]) -> list[BudgetNeed]:
    """Per budget line of the sources the refreshes draw on now (a fallback while the first
    source has no usable credential), what a day of them needs and what the line allows."""
    routed: dict[RefreshCost, float] = {}
    for cost, n in calls.items():
        taken = route(budgets, cost)
        routed[taken] = routed.get(taken, 0.0) + n
    calls = routed
    found = []
    for source in sorted({cost.source for cost in calls}):
        own = {cost: n for cost, n in calls.items() if cost.source == source}
        room = allowance(budgets, source, settings.scheduler_reserve, DAY_S, {}, None,
                         needs_credential(own))
        if room.blocked and not room.lines:
            found.append(BudgetNeed(source, "", "calls", sum(own.values()), None,
                                    room.blocked))
        for limit in room.lines:
            needed = sum(limit.cost(cost, 1) * n for cost, n in own.items())
            found.append(BudgetNeed(source, limit.name, "units" if limit.quota else "calls",
                                    needed, per_day(limit)))
        if not room.lines and not room.blocked:  # no limits apply to it
            found.append(BudgetNeed(source, "", "calls", sum(own.values()), None))
    return found
