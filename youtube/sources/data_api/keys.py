"""API keys for the YouTube Data API. A key whose daily quota is spent rests until the quota
resets (midnight Pacific time), a rate-limited key for its Retry-After, an invalid key until it
validates again. Keys live in the credential table (encrypted); YOUTUBE_API_KEYS are imported
into it on first use."""

import logging
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

import asyncpg

from core.config import Settings
from core.credential_rates import RateCheck
from credentials import store
from credentials.crypto import Crypto
from credentials.manager import CredentialManager
from credentials.models import Credential
from youtube.models import DATA_API

PACIFIC = ZoneInfo("America/Los_Angeles")
log = logging.getLogger(__name__)


def next_quota_reset(now: datetime | None = None) -> datetime:
    """The next midnight in Pacific time (aware, UTC)."""
    local = (now or datetime.now(PACIFIC)).astimezone(PACIFIC)
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight.astimezone(UTC)


@dataclass(frozen=True)
class ApiKey:
    value: str
    credential: Credential | None = None


class KeyProvider(Protocol):
    async def pick(self, cost: int = 1) -> ApiKey | None: ...
    async def quota_spent(self, key: ApiKey) -> None: ...
    async def rate_limited(self, key: ApiKey, retry_after_s: float) -> None: ...
    async def invalid(self, key: ApiKey, reason: str) -> None: ...


class KeyPool:
    """Keys held in memory by one process (no database): for tools and tests."""

    def __init__(self, keys: list[str]) -> None:
        self.keys = list(dict.fromkeys(k for k in keys if k))
        self.resting: dict[str, float] = {}  # key -> epoch seconds when it may be used again

    async def pick(self, cost: int = 1) -> ApiKey | None:
        now = time.time()
        usable = [k for k in self.keys if self.resting.get(k, 0.0) <= now]
        return ApiKey(random.choice(usable)) if usable else None

    async def quota_spent(self, key: ApiKey) -> None:
        self.resting[key.value] = next_quota_reset().timestamp()

    async def rate_limited(self, key: ApiKey, retry_after_s: float) -> None:
        self.resting[key.value] = time.time() + retry_after_s

    async def invalid(self, key: ApiKey, reason: str) -> None:
        self.resting[key.value] = float("inf")


class StoredKeys:
    """Keys from the credential table (source youtube_data_api), shared by every process and
    host: a key rested by one worker is rested for all."""

    def __init__(self, manager: CredentialManager, imports: list[str],
                 budget: RateCheck | None = None) -> None:
        self.manager = manager
        self.imports = imports
        self.budget = budget

    @classmethod
    def create(cls, pool: asyncpg.Pool, crypto: Crypto, imports: list[str],
               budget: RateCheck | None = None) -> "StoredKeys":
        return cls(CredentialManager(pool, crypto), imports, budget)

    async def pick(self, cost: int = 1) -> ApiKey | None:
        """A key with budget for a call of `cost` quota units (its limits and its quota)."""
        if self.imports:
            await self._import()
        budget = self.budget

        async def has_budget(credential: Credential) -> bool:
            return budget is None or await budget(credential, cost)

        credential = await self.manager.pick(DATA_API, has_budget)
        value = credential.secret("key") if credential else None
        return ApiKey(value, credential) if value else None

    async def _import(self) -> None:
        keys, self.imports = self.imports, []
        await import_keys(self.manager.pool, self.manager.crypto, keys)
        self.manager.invalidate(DATA_API)
        log.debug("imported %d YouTube API keys into the credential table", len(keys))

    async def quota_spent(self, key: ApiKey) -> None:
        if key.credential:
            await self.manager.quota_exhausted(key.credential, next_quota_reset())

    async def rate_limited(self, key: ApiKey, retry_after_s: float) -> None:
        if key.credential:
            await self.manager.rate_limited(key.credential, retry_after_s)

    async def invalid(self, key: ApiKey, reason: str) -> None:
        if key.credential:
            await self.manager.invalid(key.credential, reason)


async def import_keys(pool: asyncpg.Pool, crypto: Crypto, keys: list[str]) -> None:
    """Store YOUTUBE_API_KEYS in the credential table (an existing key is left as it is)."""
    for key in dict.fromkeys(keys):
        await store.upsert(pool, crypto, DATA_API, {"key": key})


async def import_configured_keys(settings: Settings, pool: asyncpg.Pool) -> None:
    """`beat worker` start-up: YOUTUBE_API_KEYS into the credential table, once for every
    worker process, and say where the Data API calls go."""
    from youtube.settings import SANDBOX_KEYS, YoutubeSettings

    keys = YoutubeSettings.of(settings).api_keys
    if not keys:
        return
    await import_keys(pool, Crypto.from_settings(settings), keys)
    if settings.sandbox_url and set(keys) <= set(SANDBOX_KEYS):
        log.info("sandbox mode: YouTube calls go to the sandbox at %s, with its built-in test "
                 "keys", settings.sandbox_url)
    else:
        log.info("imported %d YouTube API key%s into the credential table", len(keys),
                 "" if len(keys) == 1 else "s")
