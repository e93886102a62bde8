"""Graph API tokens for Instagram: credentials of source GRAPH_API with secrets
{"user_id", "token"} (the IG user id of the business account the token belongs to: it asks
business_discovery and owns the insights). INSTAGRAM_GRAPH_TOKENS are imported into the
credential table when `beat worker` starts; a token refused as expired is taken out of use, a
throttled one (or one past 80 % of its usage) rests, and one whose own call limits
(CREDENTIAL_LIMITS, 200 an hour by default) are spent is passed over."""

import logging
import random
import time
from dataclasses import dataclass
from typing import Protocol

import asyncpg

from core.config import Settings
from core.credential_rates import RateCheck
from credentials import store
from credentials.crypto import Crypto
from credentials.graph_usage import GraphUsage
from credentials.manager import BudgetCheck, CredentialManager, always_budget
from credentials.models import Credential
from instagram.models import GRAPH_API

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GraphToken:
    user_id: str
    token: str
    credential: Credential | None = None


class TokenProvider(Protocol):
    async def pick(self) -> GraphToken | None: ...
    async def rate_limited(self, token: GraphToken, retry_after_s: float) -> None: ...
    async def invalid(self, token: GraphToken, reason: str) -> None: ...
    def spent_s(self) -> float | None:
        """Seconds until a token passed over for its own call limits (CREDENTIAL_LIMITS) has
        a call again; None when none was."""
        ...

    async def observed(self, token: GraphToken, usage: GraphUsage) -> None:
        """The usage the Graph API reported for the token (kept for the budgets)."""
        ...


class TokenPool:
    """Tokens held in memory by one process (no database): for tools."""

    def __init__(self, tokens: list[GraphToken]) -> None:
        self.tokens = tokens
        self.resting: dict[str, float] = {}  # token -> epoch seconds when usable again

    async def pick(self) -> GraphToken | None:
        now = time.time()
        usable = [t for t in self.tokens if self.resting.get(t.token, 0.0) <= now]
        return random.choice(usable) if usable else None

    async def rate_limited(self, token: GraphToken, retry_after_s: float) -> None:
        self.resting[token.token] = time.time() + retry_after_s

    async def invalid(self, token: GraphToken, reason: str) -> None:
        self.resting[token.token] = float("inf")

    def spent_s(self) -> float | None:
        return None

    async def observed(self, token: GraphToken, usage: GraphUsage) -> None:
        return None


class StoredTokens:
    """Tokens from the credential table, shared by every process and host: a token rested or
    retired by one worker is rested or retired for all."""

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
        token, user_id = credential.secret("token", "access_token"), credential.secret("user_id")
        return GraphToken(user_id, token, credential) if token and user_id else None

    async def rate_limited(self, token: GraphToken, retry_after_s: float) -> None:
        if token.credential:
            await self.manager.rate_limited(token.credential, retry_after_s)

    async def invalid(self, token: GraphToken, reason: str) -> None:
        if token.credential:
            await self.manager.invalid(token.credential, reason)

    def spent_s(self) -> float | None:
        return self.rates.wait_s() if self.rates else None

    async def observed(self, token: GraphToken, usage: GraphUsage) -> None:
        if token.credential:
            await self.manager.observed(token.credential, usage.observed(self.manager.clock()))


async def import_tokens(pool: asyncpg.Pool, crypto: Crypto,
                        credentials: list[dict[str, str]]) -> None:
    """Store {"user_id", "token"} secrets (an existing token is left as it is)."""
    for secrets in credentials:
        await store.upsert(pool, crypto, GRAPH_API, secrets)


async def import_configured_tokens(settings: Settings, pool: asyncpg.Pool) -> None:
    """`beat worker` start-up: INSTAGRAM_GRAPH_TOKENS into the credential table."""
    from instagram.settings import SANDBOX_GRAPH_TOKENS, InstagramSettings

    ig = InstagramSettings.of(settings)
    credentials = ig.graph_credentials()
    if not credentials:
        return
    await import_tokens(pool, Crypto.from_settings(settings), credentials)
    if settings.sandbox_url and set(ig.graph_tokens) <= set(SANDBOX_GRAPH_TOKENS):
        log.info("sandbox mode: Instagram Graph API calls go to the sandbox at %s, with its "
                 "built-in test token", settings.sandbox_url)
    else:
        log.info("imported %d Instagram Graph API token%s into the credential table",
                 len(credentials), "" if len(credentials) == 1 else "s")
