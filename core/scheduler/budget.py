"""What the scheduler may spend in one tick, per source, read from `core.budgets` (the
limiter's own counts: nothing is counted twice). A source's budget lines are its credentials'
quota (units) and call limits (calls), each summed over the usable credentials, and its own
limits (calls). A source that answers only with a credential is blocked while none is usable,
and a refresh then draws on its fallback source if the platform names one (`route`). Each
line keeps SCHEDULER_RESERVE of what it allows for on-demand calls, counts what the refreshes
already queued or running will take, and lets a tick spend its share of the rest: what is
left until the window resets, spread evenly over the ticks until then."""

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.budgets import Budgets, LimitBudget, SourceBudget
from core.platforms import RefreshCost
from core.ratelimit import parse_limit

DAY_S = 86_400


@dataclass
class BudgetLine:
    """One limit a source's calls are held to. `quota`: counted in quota units (else calls)."""

    name: str
    quota: bool
    allowed: int
    remaining: int
    window_s: float
    horizon_s: float  # until the window resets (a day's), or its length (sliding)
    reserve: int
    in_flight: int = 0  # what refreshes already queued or running will take
    share: float = 0.0  # what this tick may spend
    spent: int = 0  # what this tick's plan takes
    reserve_share: float = 0.0  # SCHEDULER_RESERVE

    def cost(self, cost: RefreshCost, calls: int) -> int:
        return calls * (cost.units if self.quota else cost.requests)

    def set_share(self, tick_s: float) -> None:
        if self.window_s < tick_s:
            # A short sliding window refills within the tick: the reserve is its share of
            # each window (one whole call of 1/s would be all of it).
            usable = self.allowed * (1 - self.reserve_share) * tick_s / self.window_s \
                - self.in_flight
        else:
            usable = (self.remaining - self.reserve - self.in_flight) \
                * min(1.0, tick_s / max(self.horizon_s, tick_s))
        self.share = max(0.0, usable)

    @property
    def left(self) -> int:
        """What is left once the queued refreshes and this tick's plan have spent theirs."""
        return self.remaining - self.in_flight - self.spent

    def line(self) -> dict[str, Any]:
        return {"limit": self.name, "unit": "units" if self.quota else "calls",
                "allowed": self.allowed, "remaining": self.remaining, "reserve": self.reserve,
                "in_flight": self.in_flight, "tick_share": math.floor(self.share),
                "planned": self.spent, "left_after": self.left}


@dataclass
class Allowance:
    """A source's budget lines for one tick; `blocked` says why nothing may be spent."""

    source: str
    lines: list[BudgetLine] = field(default_factory=list)
    blocked: str | None = None

    def fits(self, cost: RefreshCost, calls: int) -> bool:
        return self.blocked is None and all(
            line.spent + line.cost(cost, calls) <= line.share for line in self.lines)

    def take(self, cost: RefreshCost, calls: int) -> None:
        for line in self.lines:
            line.spent += line.cost(cost, calls)

    def line(self) -> dict[str, Any]:
        return {"source": self.source, "blocked": self.blocked,
                "limits": [line.line() for line in self.lines]}


def allowance(budgets: Budgets, source: str, reserve_share: float, tick_s: float,
              in_flight_calls: Mapping[RefreshCost, int], now: datetime | None = None,
              needs_credential: bool | None = None) -> Allowance:
    """The source's allowance this tick. `in_flight_calls`: calls the refreshes already queued
    or running will make, by their cost; `now` (default: when the budgets were read) places
    the tick in its calendar windows (a benchmark's simulated clock); `needs_credential` as
    RefreshCost.credential says it."""
    if budgets.limiter not in ("ok", "off"):
        return Allowance(source, blocked=f"limits not read: {budgets.limiter}")
    found = budgets.source(source)
    if needs_credential and not _usable(budgets, source):
        return Allowance(source, blocked="no usable credential")
    if budgets.limiter == "off" or found is None:
        return Allowance(source)  # no limits apply to it
    lines = _lines(found, now or budgets.at, reserve_share)
    for line in lines:
        line.in_flight = sum(line.cost(cost, calls) for cost, calls in in_flight_calls.items())
        line.set_share(tick_s)
    held = None if needs_credential is False else _no_usable_credential(found)
    return Allowance(source, lines, blocked=held)


def route(budgets: Budgets, cost: RefreshCost) -> RefreshCost:
    """The cost of the first source of the refresh's chain (`cost`, its fallback, ...) that
    can serve it now: one that answers only with a credential is passed over while none of
    its credentials is usable. When none can, the first (its allowance says why not)."""
    taken: RefreshCost | None = cost
    while taken is not None:
        if not taken.credential or _usable(budgets, taken.source):
            return taken
        taken = taken.fallback
    return cost


def needs_credential(costs: Iterable[RefreshCost]) -> bool | None:
    """What the costs drawing on one source say of its credentials (the strictest)."""
    said = {cost.credential for cost in costs}
    return True if True in said else None if None in said else False


def _usable(budgets: Budgets, source: str) -> bool:
    """Whether a credential of `source` is usable (True when the credentials were not read:
    the allowance then says so)."""
    if budgets.limiter not in ("ok", "off"):
        return True
    found = budgets.source(source)
    return found is not None and any(c.state == "usable" for c in found.credentials)


def _lines(source: SourceBudget, at: datetime, reserve_share: float) -> list[BudgetLine]:
    """Its usable credentials' limits summed (a call may go out with any of them): their
    quota, and each of their call limits (CREDENTIAL_LIMITS), a credential's calls left being
    fewer when the platform last reported fewer in a window that has not reset yet; then the
    source's own limits."""
    lines = [_line(limit, at, reserve_share, quota=False) for limit in source.limits]
    return _credential_lines(source, at, reserve_share) + lines


def _credential_lines(source: SourceBudget, at: datetime, reserve_share: float
                      ) -> list[BudgetLine]:
    prefix = f"quota:{source.source}:"
    groups: dict[tuple[bool, int, float], list[tuple[LimitBudget, int]]] = {}
    for credential in source.credentials:
        reported = credential.reported_remaining(at)
        for limit in credential.limits if credential.state == "usable" else ():
            quota = limit.limit.startswith(prefix)
            left = limit.remaining or 0
            if not quota and reported is not None:
                left = min(left, reported)  # the platform's own count of the calls left
            groups.setdefault((quota, limit.allowed, limit.window_s), []).append((limit, left))
    lines = []
    for (quota, allowed, window_s), limits in sorted(groups.items(), key=lambda g: not g[0][0]):
        summed = _line(limits[0][0], at, reserve_share, quota=quota)
        counted = f"{len(limits)} credential{'s' * (len(limits) != 1)}"
        summed.name = f"{prefix}{counted}" if quota else \
            f"credential:{source.source}:{allowed}/{window_s:g}s:{counted}"
        summed.allowed = sum(lim.allowed for lim, _ in limits)
        summed.remaining = sum(left for _, left in limits)
        summed.reserve = math.ceil(summed.allowed * reserve_share)
        lines.append(summed)
    return lines


def _line(limit: LimitBudget, at: datetime, reserve_share: float, quota: bool) -> BudgetLine:
    return BudgetLine(limit.limit, quota, limit.allowed,
                      limit.remaining if limit.remaining is not None else 0, limit.window_s,
                      horizon_s(limit, at), math.ceil(limit.allowed * reserve_share),
                      reserve_share=reserve_share)


def horizon_s(limit: LimitBudget, at: datetime) -> float:
    """Seconds from `at` until a calendar window (whole days, UTC or a zone's) resets, as the
    limiter computes its windows; a sliding window's length."""
    if limit.window_s % DAY_S:
        return limit.window_s
    spec = parse_limit(limit.limit)
    now_s = at.timestamp()
    window_us, mode = spec.mode(now_s)
    start_s = now_s - now_s % spec.window_s if mode == "1" else int(mode[1:]) / 1e6
    return max(0.0, start_s + window_us / 1e6 - now_s)


def _no_usable_credential(source: SourceBudget) -> str | None:
    if source.credentials and not any(c.state == "usable" for c in source.credentials):
        return "no usable credential"
    return None


def calls_for(items: int, cost: RefreshCost) -> int:
    return math.ceil(items / cost.items)


def per_day(limit: BudgetLine) -> float:
    """What the line allows a day past its reserve (a window shorter than a day keeps its
    share of each window, as a tick does)."""
    kept = limit.allowed * (1 - limit.reserve_share) if limit.window_s < DAY_S \
        else limit.allowed - limit.reserve
    return kept * DAY_S / limit.window_s
