"""Which watched items a tick refreshes: every item due (a share SCHEDULER_REFRESH_AT of its
target age passed, or never refreshed) in order of urgency, (staleness / target age, up to
SCHEDULER_STALENESS_CAP) x importance, a never-refreshed item counting as the stalest; each
refresh taken while its source's allowance fits the calls it adds (a call of a batching flow
takes up to its `items` refreshes, so filling a call already opened costs nothing more)."""

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.lookups import Refresh
from core.platforms import RefreshCost
from core.scheduler.budget import Allowance, calls_for


@dataclass(frozen=True, slots=True)
class Watched:
    """One item to keep fresh (across watchlists: its highest importance, shortest max age)."""

    platform: str
    kind: str
    id: str
    importance: float
    max_age_s: int
    refreshed_at: datetime | None
    # Its refreshes failing in a row (core/scheduler/outcomes.py): how many, the next attempt
    # (not before), when the last failure was seen, and the last error.
    failures: int = 0
    retry_at: datetime | None = None
    failed_at: datetime | None = None
    error_kind: str | None = None
    last_error: str | None = None

    def backing_off(self, now: datetime) -> bool:
        """Whether its next attempt is held back after failed refreshes (not once it was
        refreshed since, e.g. on demand)."""
        refreshed_since = self.refreshed_at is not None and self.failed_at is not None \
            and self.refreshed_at > self.failed_at
        return self.retry_at is not None and self.retry_at > now and not refreshed_since

    def staleness(self, now: datetime) -> float:
        """Its age over its target age (inf: never refreshed)."""
        if self.refreshed_at is None:
            return math.inf
        return max(0.0, (now - self.refreshed_at).total_seconds()) / self.max_age_s

    def fresh(self, now: datetime) -> bool:
        return self.staleness(now) <= 1.0


def urgency_order(items: Iterable[Watched], now: datetime, cap: float = math.inf
                  ) -> list[Watched]:
    """Most urgent first, by staleness x importance, staleness counted up to `cap` target
    ages: an item is stale or not, so being stale longer stops adding urgency there, and the
    important items falling due are not held back by a tail of long-stale unimportant ones.
    A never-refreshed item counts as stale as the stalest refreshed one (and at least due),
    ahead of it on a tie: the most stale, yet still ordered by importance."""
    items = list(items)
    ceiling = max([1.0, *(i.staleness(now) for i in items if i.refreshed_at is not None)])

    def key(item: Watched) -> tuple[float, bool]:
        never = item.refreshed_at is None
        return min(ceiling if never else item.staleness(now), cap) * item.importance, never

    return sorted(items, key=key, reverse=True)


@dataclass(frozen=True, slots=True)
class Candidate:
    item: Watched
    refresh: Refresh
    cost: RefreshCost | None  # None: the platform names no cost for the flow


@dataclass
class FlowPlan:
    flow: str
    cost: RefreshCost | None
    chosen: list[Candidate] = field(default_factory=list)

    @property
    def calls(self) -> int:
        return calls_for(len(self.chosen), self.cost) if self.cost else len(self.chosen)

    @property
    def units(self) -> int:
        return self.calls * self.cost.units if self.cost else 0


@dataclass
class PlatformPlan:
    platform: str
    watched: int = 0
    due: int = 0
    in_flight: int = 0
    backing_off: int = 0  # due, but held back after failed refreshes
    flows: dict[str, FlowPlan] = field(default_factory=dict)

    @property
    def chosen(self) -> list[Candidate]:
        return [c for flow in self.flows.values() for c in flow.chosen]

    def line(self) -> dict[str, Any]:
        flows = list(self.flows.values())
        return {"platform": self.platform, "watched": self.watched, "due": self.due,
                "in_flight": self.in_flight, "backing_off": self.backing_off,
                "items": sum(len(f.chosen) for f in flows),
                "calls": sum(f.calls for f in flows), "units": sum(f.units for f in flows),
                "flows": [{"flow": f.flow, "items": len(f.chosen), "calls": f.calls,
                           "units": f.units, "source": f.cost.source if f.cost else None}
                          for f in flows if f.chosen]}


@dataclass
class Plan:
    at: datetime
    platforms: dict[str, PlatformPlan] = field(default_factory=dict)
    budgets: dict[str, Allowance] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # platform -> why not scheduled

    @property
    def chosen(self) -> list[Candidate]:
        return [c for p in self.platforms.values() for c in p.chosen]

    def line(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "items": len(self.chosen),
                "platforms": [p.line() for p in self.platforms.values()],
                "budgets": [b.line() for b in self.budgets.values()],
                "skipped": self.skipped}


def choose(plan: Plan, due: list[Candidate], limit: int) -> None:
    """Take the due candidates, most urgent first, while their sources' allowances fit and
    fewer than `limit` are taken; `due` is in urgency order."""
    taken = 0
    for candidate in due:
        if taken >= limit:
            return
        flows = plan.platforms[candidate.item.platform].flows
        flow = flows.setdefault(candidate.refresh.flow,
                                FlowPlan(candidate.refresh.flow, candidate.cost))
        if candidate.cost is not None:
            opens_call = len(flow.chosen) % candidate.cost.items == 0
            budget = plan.budgets[candidate.cost.source]
            if opens_call and not budget.fits(candidate.cost, 1):
                continue
            if opens_call:
                budget.take(candidate.cost, 1)
        flow.chosen.append(candidate)
        taken += 1
