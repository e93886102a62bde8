"""The dashboard's view of the sources: circuit breakers as the workers reported them (Redis),
the budgets left (`core.budgets`: the limiter's counts and the credential table), and credential
states (PostgreSQL, secrets masked). Sources and
their limits are learned from the platform registry and SOURCE_LIMITS, never by name."""

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from core.budget_rows import BudgetRow, budget_rows
from core.budgets import credential_state, read_budgets
from core.config import Settings
from core.platforms import registry
from core.ratelimit import RateLimiter, RateLimiterUnavailable, source_limits
from core.sources import BREAKER_STALE_S, breaker_key
from credentials import redact, store


@dataclass(frozen=True, slots=True)
class Breaker:
    """A source's circuit as last reported: `open` until `open_until`, else closed."""

    source: str
    platform: str
    state: str  # open | closed | no report
    failures: int = 0
    open_until: float = 0.0
    reported_at: float = 0.0
    reporter: str = ""


@dataclass(frozen=True, slots=True)
class Sources:
    breakers: list[Breaker]
    budgets: list[BudgetRow]  # as `beat budgets` shows them (core.budgets)
    problem: str | None  # why Redis could not be read (the tables show what is known)


def platform_of_sources(settings: Settings) -> dict[str, str]:
    """Each source the registry knows (its limits, its credential checks) -> its platform."""
    owners: dict[str, str] = {}
    for platform in registry(settings).values():
        for source in [*platform.source_limits, *platform.credential_checks]:
            owners[source] = platform.name
    return owners


async def sources(settings: Settings, pool: asyncpg.Pool, limiter: RateLimiter | None,
                  credential_sources: list[str]) -> Sources:
    """The circuits as reported, and every budget as `core.budgets` reads it: each source's
    limits, each credential's own limits and quota and what its platform last reported, and
    the live-refresh limits."""
    owners = platform_of_sources(settings)
    names = sorted({*owners, *source_limits(settings), *credential_sources})
    if limiter is None:
        return Sources([Breaker(n, owners.get(n, ""), "no report") for n in names], [],
                       "REDIS_URL is not set: no shared rate limits, no circuit reports")
    try:
        reports = await _reports(limiter)
    except RateLimiterUnavailable as exc:
        return Sources([Breaker(n, owners.get(n, ""), "no report") for n in names], [],
                       redact.scrub(str(exc)))
    found = await read_budgets(settings, pool, limiter)
    breakers = [_breaker(n, owners.get(n, ""), reports.get(n)) for n in sorted({*names,
                                                                                 *reports})]
    problem = None if found.limiter == "ok" else redact.scrub(found.limiter)
    return Sources(breakers, budget_rows(found), problem)


async def _reports(limiter: RateLimiter) -> dict[str, dict[str, Any]]:
    try:
        raw = await limiter.redis.hgetall(breaker_key(limiter.prefix))
    except Exception as exc:  # shown on the page, like the limiter's own errors
        raise RateLimiterUnavailable(f"circuit reports unreadable: {exc}") from exc
    reports = {}
    for source, entry in raw.items():
        name = source.decode() if isinstance(source, bytes) else str(source)
        try:
            reports[name] = json.loads(entry)
        except ValueError:
            continue
    return reports


def _breaker(source: str, platform: str, report: dict[str, Any] | None) -> Breaker:
    now = time.time()
    if not report or now - float(report.get("at", 0)) > BREAKER_STALE_S:
        return Breaker(source, platform, "no report")
    open_until = float(report.get("open_until") or 0)
    state = "open" if open_until > now else "closed"
    reporter = f"{report.get('host', '?')}:{report.get('pid', '?')}"
    return Breaker(source, platform, state, int(report.get("failures", 0)), open_until,
                   float(report["at"]), reporter)


@dataclass(frozen=True, slots=True)
class CredentialState:
    id: int
    source: str
    handle: str | None
    state: str  # in use | resting | disabled | expired
    masked: str
    until: datetime | None
    last_error: str | None


async def credentials(pool: asyncpg.Pool) -> list[CredentialState]:
    now = datetime.now(UTC)
    states = []
    for info in await store.list_infos(pool):
        state, until = credential_state(info, now)
        masked = ", ".join(f"{k}={v}" for k, v in sorted(info.masked.items()))
        error = None if info.last_error is None else redact.scrub(info.last_error)
        states.append(CredentialState(info.id, info.source, info.handle,
                                      "in use" if state == "usable" else state, masked, until,
                                      error))
    return states
