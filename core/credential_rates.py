"""Each credential's own call limits: the defaults its platform declares per source
(`Platform.credential_limits`, e.g. the Graph API's 200 calls an hour per token),
CREDENTIAL_LIMITS over them, and the check a source's credential picker runs before handing a
credential out: those limits, and the credential's quota where its source has one
(CREDENTIAL_QUOTAS, e.g. a YouTube key's daily units). The limiter counts every call against
them, on-demand and scheduled alike, so `core.budgets` and the refresh scheduler read what is
left from the same counts the sources are held to."""

import time
from dataclasses import dataclass, field
from typing import Any

from core.config import Settings
from core.ratelimit import (
    RateLimiter,
    credential_limit,
    credential_quotas,
    declared,
    process_limiter,
    quota_limit,
)

RECENT_S = 5.0  # a refusal older than this says nothing about when a credential frees


def credential_rates(settings: Settings) -> dict[str, list[str]]:
    """Each source's per-credential limit specs ("N/window"): CREDENTIAL_LIMITS where it names
    the source, else the defaults its platform declares."""
    return {source: list(specs) for source, specs in
            declared(settings, "credential_limits").items() if specs}


@dataclass
class RateCheck:
    """A credential manager's budget check for one source: a credential is handed out for a
    call of `cost` units only when one slot of each of its limits is granted (taken, all or
    none, in one round trip) and its quota, when it has one, holds `cost` units. The quota is
    looked at first and taken last, so that a refusal by either wastes nothing of the other
    but, in a race, one call's slot. `wait_s()` says when the credential refused last frees, for
    a caller that found every credential spent (RateLimited rather than a failure)."""

    limiter: RateLimiter
    rates: list[str]
    source: str = ""
    quota: str | None = None  # the per-credential quota spec ("10000/day@America/...")
    _refused_at: float = field(default=0.0, init=False, repr=False)
    _wait_s: float = field(default=0.0, init=False, repr=False)

    async def __call__(self, credential: Any, cost: int = 1) -> bool:
        ident = str(credential.id)
        spent = [quota_limit(self.source, ident, self.quota)] if self.quota else []
        if spent and (cost > spent[0].limit
                      or not (await self.limiter.peek(spent, cost)).granted):
            return False
        limits = [credential_limit(ident, rate) for rate in self.rates]
        if limits:
            decision = await self.limiter.acquire(limits)
            if not decision.granted:
                self._refused_at, self._wait_s = time.monotonic(), decision.wait_s
                return False
        return not spent or (await self.limiter.acquire(spent, cost)).granted

    def wait_s(self) -> float | None:
        """Seconds until the last refused credential frees a slot; None when none was refused
        lately."""
        elapsed = time.monotonic() - self._refused_at
        return max(0.0, self._wait_s - elapsed) if elapsed <= RECENT_S else None


def rate_check(settings: Settings, source: str) -> RateCheck | None:
    """The check for `source`'s credentials; None when they have neither limits nor a quota
    of their own, or there is no limiter (REDIS_URL unset)."""
    rates = credential_rates(settings).get(source, [])
    quota = credential_quotas(settings).get(source)
    limiter = process_limiter(settings)
    if limiter is None or not (rates or quota):
        return None
    return RateCheck(limiter, rates, source, quota)
