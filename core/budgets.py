"""What Beat may still spend, in one place (`GET /budgets`, `beat budgets`): for each source its
stacked limits' headroom and its credentials (usable, resting until when, disabled, expired,
with each credential's own limits and quota, e.g. a YouTube key's units left until midnight
Pacific time, and what the platform last reported of it, e.g. a Graph API token's usage), and
the live-refresh limits. It reads the limiter's Redis
state and the credential table, the state the sources themselves act on: no second bookkeeping
that could drift. Per-target limits (one per handle) are too many to list and are left out."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from core.config import Settings
from core.credential_rates import credential_rates
from core.ratelimit import (
    Headroom,
    Limit,
    RateLimiter,
    RateLimiterUnavailable,
    credential_limit,
    credential_quotas,
    parse_limit,
    quota_limit,
    source_limits,
)


@dataclass(frozen=True, slots=True)
class LimitBudget:
    limit: str
    allowed: int
    window_s: float
    used: int | None  # None: the limiter could not be read
    remaining: int | None
    frees_at: datetime | None

    def line(self) -> dict[str, Any]:
        return {"limit": self.limit, "allowed": self.allowed, "window_s": self.window_s,
                "used": self.used, "remaining": self.remaining,
                "frees_at": self.frees_at.isoformat() if self.frees_at else None}


@dataclass(frozen=True, slots=True)
class CredentialBudget:
    id: int
    handle: str | None
    state: str  # usable, resting, disabled, expired
    until: datetime | None
    limits: list[LimitBudget] = field(default_factory=list)
    # What the platform last reported of its budget, in its answers' headers (the credential
    # table's `usage`): {"at", "used_pct", "rests_at_pct", "regains_at"} (a Graph API token)
    # or {"at", "remaining", "limit", "resets_at"} (an X account's window); None: nothing yet.
    reported: dict[str, Any] | None = None

    def line(self) -> dict[str, Any]:
        return {"id": self.id, "handle": self.handle, "state": self.state,
                "until": self.until.isoformat() if self.until else None,
                "limits": [limit.line() for limit in self.limits], "reported": self.reported}

    def reported_remaining(self, at: datetime) -> int | None:
        """The calls the platform said are left in a window that has not reset by `at`."""
        found = self.reported or {}
        try:
            current = datetime.fromisoformat(str(found["resets_at"])) > at
            return int(found["remaining"]) if current else None
        except (KeyError, TypeError, ValueError):  # not a window, or not one in UTC
            return None


@dataclass(frozen=True, slots=True)
class SourceBudget:
    source: str
    limits: list[LimitBudget] = field(default_factory=list)
    credentials: list[CredentialBudget] = field(default_factory=list)

    def line(self) -> dict[str, Any]:
        usable = sum(c.state == "usable" for c in self.credentials)
        return {"source": self.source, "limits": [limit.line() for limit in self.limits],
                "credentials_usable": usable,
                "credentials": [credential.line() for credential in self.credentials]}


@dataclass(frozen=True, slots=True)
class Budgets:
    at: datetime
    sources: list[SourceBudget]
    live: list[LimitBudget]
    limiter: str  # "ok", "off" (no REDIS_URL) or why it could not be read

    def line(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "limiter": self.limiter,
                "sources": [source.line() for source in self.sources],
                "live": [limit.line() for limit in self.live]}

    def source(self, name: str) -> SourceBudget | None:
        return next((s for s in self.sources if s.source == name), None)


def credential_state(info: Any, now: datetime) -> tuple[str, datetime | None]:
    if not info.enabled:
        return "disabled", None
    if info.data_access_expired:
        return "expired", None
    if info.resting(now):
        return "resting", info.disabled_till
    return "usable", None


async def read_budgets(settings: Settings, pool: Any, limiter: RateLimiter | None) -> Budgets:
    """Every source's budget as it stands (sources with limits or credentials, by name)."""
    from credentials import store

    now = datetime.now(UTC)
    infos = await store.list_infos(pool)
    by_source = source_limits(settings)
    names = sorted(set(by_source) | {info.source for info in infos})
    live = [parse_limit(f"live:{spec}") for spec in settings.live_refresh_limits]
    quotas = credential_quotas(settings)
    rates = credential_rates(settings)
    credential_limits: dict[int, list[Limit]] = {
        info.id: [credential_limit(str(info.id), rate) for rate in rates.get(info.source, [])]
        + ([quota_limit(info.source, str(info.id), quotas[info.source])]
           if info.source in quotas else []) for info in infos}
    every = [*live, *(lim for name in names for lim in by_source.get(name, [])),
             *(lim for limits in credential_limits.values() for lim in limits)]
    read, limiter_state = await _headroom(limiter, every, now)
    sources = []
    for name in names:
        credentials = []
        for info in (i for i in infos if i.source == name):
            state, until = credential_state(info, now)
            credentials.append(CredentialBudget(info.id, info.handle, state, until,
                                                [read[str(lim)] for lim in
                                                 credential_limits[info.id]], info.usage))
        sources.append(SourceBudget(name, [read[str(lim)] for lim in by_source.get(name, [])],
                                    credentials))
    return Budgets(now, sources, [read[str(lim)] for lim in live], limiter_state)


async def _headroom(limiter: RateLimiter | None, limits: Sequence[Limit], now: datetime
                    ) -> tuple[dict[str, LimitBudget], str]:
    unique = list({str(limit): limit for limit in limits}.values())
    if limiter is None:
        return {str(lim): _unread(lim) for lim in unique}, "off"
    try:
        found = await limiter.headroom(unique)
    except RateLimiterUnavailable as exc:
        return {str(lim): _unread(lim) for lim in unique}, str(exc)
    return {str(room.limit): _budget(room, now) for room in found}, "ok"


def _budget(room: Headroom, now: datetime) -> LimitBudget:
    frees = now + timedelta(seconds=room.frees_in_s) if room.frees_in_s is not None else None
    return LimitBudget(str(room.limit), room.limit.limit, room.limit.window_s, room.used,
                       room.remaining, frees)


def _unread(limit: Limit) -> LimitBudget:
    return LimitBudget(str(limit), limit.limit, limit.window_s, None, None, None)
