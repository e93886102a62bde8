"""API keys and their daily quota, as the Data API counts it: every call costs units (list 1,
search 100), a key whose units are spent gets quotaExceeded until midnight Pacific time."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.youtube import errors
from youtube.settings import SANDBOX_KEYS  # the built-in test keys, which YouTube knows

PACIFIC = ZoneInfo("America/Los_Angeles")
DEFAULT_LIMIT = 10_000
DEFAULT_KEYS: dict[str, int] = {key: DEFAULT_LIMIT for key in SANDBOX_KEYS}
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class KeyQuota:
    limit: int
    used: int
    day: date  # the Pacific day `used` counts
    throttle_s: float = 0.0  # > 0: the key answers 429 with this Retry-After


class QuotaBook:
    """Units used per key; `clock` is replaceable so tests can cross midnight."""

    def __init__(self, keys: Mapping[str, int] | None = None, clock: Clock = utc_now) -> None:
        self.clock = clock
        today = self._today()
        self.keys = {k: KeyQuota(limit, 0, today) for k, limit in (keys or DEFAULT_KEYS).items()}

    def charge(self, key: str | None, cost: int) -> None:
        """Spend `cost` units of `key`: ApiError keyInvalid (unknown) or quotaExceeded (spent)."""
        quota = self.keys.get(key or "")
        if quota is None:
            raise errors.key_invalid()
        if quota.throttle_s > 0:
            raise errors.throttled(quota.throttle_s)
        self._roll(quota)
        if quota.used + cost > quota.limit:
            raise errors.quota_exceeded()
        quota.used += cost

    def set(self, key: str, limit: int | None = None, used: int | None = None,
            throttle_s: float | None = None) -> None:
        """Change a key's limit, used units and/or throttling; an unknown key is added."""
        quota = self.keys.setdefault(key, KeyQuota(DEFAULT_LIMIT, 0, self._today()))
        self._roll(quota)
        quota.limit = quota.limit if limit is None else limit
        quota.used = quota.used if used is None else used
        quota.throttle_s = quota.throttle_s if throttle_s is None else throttle_s

    def reset(self, key: str | None = None) -> None:
        """Used units back to 0 (one key, or all), as at midnight Pacific."""
        for name, quota in self.keys.items():
            if key is None or name == key:
                quota.used, quota.day = 0, self._today()

    def snapshot(self) -> dict[str, Any]:
        for quota in self.keys.values():
            self._roll(quota)
        return {
            "resets_at": self.resets_at().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "keys": {k: {"limit": q.limit, "used": q.used, "remaining": max(0, q.limit - q.used),
                         "throttle_s": q.throttle_s} for k, q in self.keys.items()},
        }

    def resets_at(self) -> datetime:
        """The next midnight in Pacific time, in UTC."""
        tomorrow = self._today() + timedelta(days=1)
        return datetime.combine(tomorrow, time(0), PACIFIC).astimezone(UTC)

    def _today(self) -> date:
        return self.clock().astimezone(PACIFIC).date()

    def _roll(self, quota: KeyQuota) -> None:
        today = self._today()
        if quota.day != today:
            quota.used, quota.day = 0, today
