"""Picks a credential for a platform call (at random among the usable ones with budget left) and
rests or retires credentials the platform refused (rate limit, spent quota, invalid token)."""

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from core.errors import CredentialInvalid
from credentials import redact, store
from credentials.crypto import Crypto
from credentials.models import Clock, Credential, utc_now

log = logging.getLogger(__name__)

BudgetCheck = Callable[[Credential], Awaitable[bool]]

DEFAULT_REST_S = 60.0


class UnreadableCredentials(CredentialInvalid):
    """No credential could be picked, and some that would be usable cannot be decrypted."""


async def always_budget(cred: Credential) -> bool:
    return True


class CredentialManager:
    """One per process, over its pool. The usable credentials of a source are cached for
    `cache_ttl_s`; every state change made through the manager drops that cache.

    `has_budget` (e.g. a per-credential rate limiter) is asked before a credential is handed
    out; credentials without budget are passed over."""

    def __init__(self, pool: Any, crypto: Crypto, clock: Clock = utc_now, *,
                 has_budget: BudgetCheck = always_budget, cache_ttl_s: float = 5.0,
                 min_rest_s: float = 1.0, max_rest_s: float = 3600.0,
                 max_quota_rest_s: float = 2 * 86400.0, rng: random.Random | None = None,
                 usage_write_s: float = 5.0) -> None:
        self.pool, self.crypto, self.clock = pool, crypto, clock
        self.has_budget = has_budget
        self.cache_ttl = timedelta(seconds=cache_ttl_s)
        self.min_rest_s, self.max_rest_s = min_rest_s, max_rest_s
        self.max_quota_rest = timedelta(seconds=max_quota_rest_s)
        self.rng = rng or random.Random()
        self._cache: dict[str, tuple[datetime, store.Usable]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._generation = 0  # bumped by invalidate: a load that overlapped one is not kept
        self.usage_write_s = usage_write_s
        self._usage_written: dict[int, float] = {}  # credential id -> monotonic time
        redact.install()

    async def pick(self, source: str, has_budget: BudgetCheck | None = None) -> Credential | None:
        """A random credential of `source` that is enabled, not resting, not expired and has
        budget; None when there is none, UnreadableCredentials when there is none because some
        cannot be decrypted."""
        check = has_budget or self.has_budget
        now = self.clock()
        loaded = await self._usable(source)
        candidates = [c for c in loaded.credentials if _in_use(c, now)]
        for cred in self.rng.sample(candidates, len(candidates)):
            if await check(cred):
                return cred
        if loaded.problems:  # say why, rather than let the caller report "no quota left"
            raise UnreadableCredentials("; ".join(loaded.problems))
        return None

    async def next_available(self, source: str) -> datetime | None:
        """When the first resting credential of `source` comes back (None: none is resting)."""
        now = self.clock()
        ends = [c.disabled_till for c in (await self._usable(source)).credentials
                if c.disabled_till is not None and c.disabled_till > now]
        return min(ends, default=None)

    async def rate_limited(self, cred: Credential, retry_after_s: float | None = None
                           ) -> datetime:
        """Rest `cred` for `retry_after_s` (bounded by min/max rest); returns when it is back."""
        rest = min(self.max_rest_s, max(self.min_rest_s, retry_after_s or DEFAULT_REST_S))
        until = self.clock() + timedelta(seconds=rest)
        await store.disable_until(self.pool, cred.id, until)
        self.invalidate(cred.source)
        log.info("credential %d (%s) rate limited: resting %.0f s", cred.id, cred.source, rest)
        return until

    async def quota_exhausted(self, cred: Credential, until: datetime) -> datetime:
        """Rest `cred` until its quota resets (at most `max_quota_rest_s` from now)."""
        until = min(until, self.clock() + self.max_quota_rest)
        await store.disable_until(self.pool, cred.id, until)
        self.invalidate(cred.source)
        log.info("credential %d (%s) quota spent: resting until %s", cred.id, cred.source,
                 until.isoformat())
        return until

    async def observed(self, cred: Credential, usage: Mapping[str, Any]) -> bool:
        """Keep what the platform just said of `cred`'s budget (its usage headers) for the
        budgets to show, at most every `usage_write_s` per credential from this process (a
        write a call would cost as much as the call); whether it was written."""
        now = time.monotonic()
        last = self._usage_written.get(cred.id)
        if last is not None and now - last < self.usage_write_s:
            return False
        self._usage_written[cred.id] = now
        await store.record_usage(self.pool, cred.id, {**usage, "at": self.clock().isoformat()})
        return True

    async def invalid(self, cred: Credential, reason: str) -> None:
        """Take `cred` out of use until it validates again (data_access_expired)."""
        reason = redact.redact(reason, cred.secrets.values())
        await store.mark_data_access_expired(self.pool, cred.id, reason)
        self.invalidate(cred.source)
        log.warning("credential %d (%s) invalid: %s", cred.id, cred.source, reason)

    def invalidate(self, source: str | None = None) -> None:
        """Forget the cached credentials of `source` (of every source: None)."""
        self._generation += 1
        if source is None:
            self._cache.clear()
        else:
            self._cache.pop(source, None)

    async def _usable(self, source: str) -> store.Usable:
        cached = self._fresh(source)
        if cached is not None:
            return cached
        async with self._locks.setdefault(source, asyncio.Lock()):
            cached = self._fresh(source)  # another caller may have loaded it meanwhile
            if cached is None:
                generation = self._generation
                cached = await store.load_usable(self.pool, self.crypto, source)
                if generation == self._generation:
                    self._cache[source] = (self.clock(), cached)
            return cached

    def _fresh(self, source: str) -> store.Usable | None:
        entry = self._cache.get(source)
        if entry is None:
            return None
        loaded_at, creds = entry
        age = self.clock() - loaded_at
        return creds if timedelta(0) <= age < self.cache_ttl else None


def _in_use(cred: Credential, now: datetime) -> bool:
    expired = cred.expires_at is not None and cred.expires_at <= now
    return not cred.resting(now) and not expired
