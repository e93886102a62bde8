"""The RapidAPI-style provider's keys: from the credential table (source instagram_rapidapi,
secrets {"key"}), shared by every process and host, or held in memory (tools and tests). A key
the provider throttled rests for the provider's wait; a key it refused is taken out of use
until it validates again (CredentialManager.invalid)."""

import random
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from credentials.manager import CredentialManager
from credentials.models import Credential
from instagram.models import RAPIDAPI


@dataclass(frozen=True)
class ApiKey:
    value: str
    credential: Credential | None = None


class KeyProvider(Protocol):
    async def pick(self) -> ApiKey | None: ...
    async def rate_limited(self, key: ApiKey, retry_after_s: float) -> None: ...
    async def invalid(self, key: ApiKey, reason: str) -> None: ...
    async def next_free_s(self) -> float | None:
        """Seconds until a resting key is usable again; None when none is resting."""
        ...


class KeyPool:
    """Keys held in memory by one process (no database)."""

    def __init__(self, keys: list[str]) -> None:
        self.keys = list(dict.fromkeys(k for k in keys if k))
        self.resting: dict[str, float] = {}  # key -> epoch seconds when it may be used again

    async def pick(self) -> ApiKey | None:
        now = time.time()
        usable = [k for k in self.keys if self.resting.get(k, 0.0) <= now]
        return ApiKey(random.choice(usable)) if usable else None

    async def rate_limited(self, key: ApiKey, retry_after_s: float) -> None:
        self.resting[key.value] = time.time() + retry_after_s

    async def invalid(self, key: ApiKey, reason: str) -> None:
        self.resting[key.value] = float("inf")

    async def next_free_s(self) -> float | None:
        now = time.time()
        waits = [until - now for until in self.resting.values() if now < until < float("inf")]
        return min(waits, default=None)


class StoredKeys:
    """Keys of the credential table, picked (with budget) and rested through `manager`."""

    def __init__(self, manager: CredentialManager) -> None:
        self.manager = manager

    async def pick(self) -> ApiKey | None:
        credential = await self.manager.pick(RAPIDAPI)
        value = credential.secret("key") if credential else None
        return ApiKey(value, credential) if value else None

    async def rate_limited(self, key: ApiKey, retry_after_s: float) -> None:
        if key.credential:
            await self.manager.rate_limited(key.credential, retry_after_s)

    async def invalid(self, key: ApiKey, reason: str) -> None:
        if key.credential:
            await self.manager.invalid(key.credential, reason)

    async def next_free_s(self) -> float | None:
        back: datetime | None = await self.manager.next_available(RAPIDAPI)
        if back is None:
            return None
        return max(0.0, (back - self.manager.clock()).total_seconds())
