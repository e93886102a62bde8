"""Facebook Graph API tokens: credentials of source GRAPH_API with secrets {"token"} (a page or
user access token). FACEBOOK_GRAPH_TOKENS are imported into the credential table when `beat
worker` starts; a token refused as expired (190) is marked invalid for every process, a
throttled one rests, and one whose own call limits (CREDENTIAL_LIMITS, 200 an hour by default)
are spent is passed over."""

import logging
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import asyncpg

from core.credential_rates import RateCheck
from credentials import store
from credentials.crypto import Crypto
from credentials.graph_usage import GraphUsage
from credentials.manager import BudgetCheck, CredentialManager, always_budget
from credentials.models import Credential
from facebook.models import GRAPH_API

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GraphToken:
    token: str
    credential: Credential | None = None


class TokenProvider(Protocol):
    async def pick(self) -> GraphToken | None: ...
    async def rate_limited(self, token: GraphToken, retry_after_s: float) -> None: ...
    async def invalid(self, token: GraphToken, reason: str) -> None: ...
    async def resting_s(self) -> float | None: ...
    async def observed(self, token: GraphToken, usage: GraphUsage) -> None: ...


class TokenPool:
    """Tokens held in memory by one process (no database): for tools and tests."""

    def __init__(self, tokens: list[str]) -> None:
        self.tokens = [GraphToken(t) for t in tokens]
        self.resting: dict[str, float] = {}  # token -> epoch seconds when usable again
        self.refused: dict[str, str] = {}

    async def pick(self) -> GraphToken | None:
        now = time.time()
        usable = [t for t in self.tokens
                  if t.token not in self.refused and self.resting.get(t.token, 0.0) <= now]
        return random.choice(usable) if usable else None

    async def rate_limited(self, token: GraphToken, retry_after_s: float) -> None:
        self.resting[token.token] = time.time() + retry_after_s

    async def invalid(self, token: GraphToken, reason: str) -> None:
        self.refused[token.token] = reason

    async def resting_s(self) -> float | None:
        """Seconds until a resting token is usable again (None: none rests)."""
        ends = [end for token, end in self.resting.items() if token not in self.refused]
        return max(0.0, min(ends) - time.time()) if ends else None

    async def observed(self, token: GraphToken, usage: GraphUsage) -> None:
        return None


class StoredTokens:
    """Tokens from the credential table, shared by every process: a token rested or marked
    invalid by one worker is for all."""

    def __init__(self, manager: CredentialManager, rates: RateCheck | None = None) -> None:
        self.manager = manager
        self.rates = rates

    @classmethod
    def create(cls, pool: asyncpg.Pool, crypto: Crypto,
               rates: RateCheck | None = None) -> "StoredTokens":
        """Tokens handed out only within their own call limits (`rates`), when given."""
        check: BudgetCheck = rates or always_budget
        return cls(CredentialManager(pool, crypto, has_budget=check), rates)

    async def pick(self) -> GraphToken | None:
        credential = await self.manager.pick(GRAPH_API)
        if credential is None:
            return None
        token = credential.secret("token", "access_token")
        return GraphToken(token, credential) if token else None

    async def rate_limited(self, token: GraphToken, retry_after_s: float) -> None:
        if token.credential:
            await self.manager.rate_limited(token.credential, retry_after_s)

    async def invalid(self, token: GraphToken, reason: str) -> None:
        if token.credential:
            await self.manager.invalid(token.credential, reason)

    async def resting_s(self) -> float | None:
        """Seconds until a resting token is usable again, or one whose own call limits
        (CREDENTIAL_LIMITS) are spent has a call again (None: none rests or is spent)."""
        until = await self.manager.next_available(GRAPH_API)
        waits = [] if until is None else [max(0.0, (until - datetime.now(UTC)).total_seconds())]
        spent = self.rates.wait_s() if self.rates else None
        return min([*waits, *([] if spent is None else [spent])], default=None)

    async def observed(self, token: GraphToken, usage: GraphUsage) -> None:
        """The usage the Graph API reported for the token (kept for the budgets)."""
        if token.credential:
            await self.manager.observed(token.credential, usage.observed(self.manager.clock()))


async def import_tokens(pool: asyncpg.Pool, crypto: Crypto, tokens: list[str]) -> None:
    """Store {"token"} secrets (an existing token is left as it is)."""
    for token in tokens:
        await store.upsert(pool, crypto, GRAPH_API, {"token": token})
