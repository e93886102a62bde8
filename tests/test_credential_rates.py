"""Each credential's own call limits: the platforms' defaults (the Graph API's 200 calls an
hour per token, an X account's GraphQL window), CREDENTIAL_LIMITS over them per source; the
credential picker hands a credential out only with a slot of its limits taken (real Redis,
real credential table), says when a spent one frees, and `read_budgets` shows each
credential's limits from the same counts."""

import asyncpg
import pytest

from core.budgets import read_budgets
from core.config import Settings
from core.credential_rates import RateCheck, credential_rates, rate_check
from core.ratelimit import RateLimiter, quota_limit
from core.scheduler.budget import allowance
from credentials import store
from credentials.crypto import Crypto, generate_key
from credentials.manager import CredentialManager

GRAPH = "instagram_graph_api"


def test_platform_defaults_and_credential_limits_over_them(settings: Settings) -> None:
    rates = credential_rates(settings)
    assert rates[GRAPH] == ["200/h"] and rates["facebook_graph_api"] == ["200/h"]
    assert rates["x_graphql"] == ["95/15min"]
    tuned = settings.model_copy(update={"credential_limits": {GRAPH: ["5/min", "50/h"],
                                                              "x_graphql": []}})
    rates = credential_rates(tuned)
    assert rates[GRAPH] == ["5/min", "50/h"] and "x_graphql" not in rates  # [] lifts them
    assert rate_check(tuned.model_copy(update={"redis_url": None}), GRAPH) is None
    assert rate_check(tuned, "x_graphql") is None


@pytest.fixture
async def limiter(settings: Settings) -> RateLimiter:
    assert settings.redis_url
    return RateLimiter.from_url(settings.redis_url, prefix=settings.rate_limit_prefix)


async def tokens(pool: asyncpg.Pool, count: int) -> tuple[Crypto, list[int]]:
    await pool.execute("TRUNCATE credential RESTART IDENTITY CASCADE")
    crypto = Crypto([generate_key()])
    made = [await store.upsert(pool, crypto, GRAPH, {"user_id": str(n), "token": f"tok-{n}"})
            for n in range(count)]
    return crypto, [info.id for info, _ in made]


async def test_a_credential_is_handed_out_only_within_its_own_limits(
        pool: asyncpg.Pool, limiter: RateLimiter) -> None:
    crypto, ids = await tokens(pool, 2)
    check = RateCheck(limiter, ["3/min"])
    manager = CredentialManager(pool, crypto, has_budget=check)
    try:
        assert check.wait_s() is None  # none refused yet
        picked = [await manager.pick(GRAPH) for _ in range(6)]
        assert all(p is not None for p in picked)
        assert sorted(p.id for p in picked if p) == sorted(ids * 3)  # 3 each, no more
        assert await manager.pick(GRAPH) is None
        wait = check.wait_s()
        assert wait is not None and 0 < wait <= 60
    finally:
        await limiter.aclose()


async def test_budgets_show_each_credentials_own_limits_and_the_scheduler_sums_them(
        pool: asyncpg.Pool, settings: Settings, limiter: RateLimiter) -> None:
    crypto, ids = await tokens(pool, 3)
    await store.disable(pool, ids[2], ttl_s=600)
    check = rate_check(settings, GRAPH)
    assert check is not None
    manager = CredentialManager(pool, crypto, has_budget=RateCheck(limiter, check.rates))
    try:
        for _ in range(5):
            assert await manager.pick(GRAPH) is not None
        found = await read_budgets(settings, pool, limiter)
    finally:
        await limiter.aclose()
    [source] = [s for s in found.sources if s.source == GRAPH]
    assert [(c.id, c.state) for c in source.credentials] == [
        (ids[0], "usable"), (ids[1], "usable"), (ids[2], "resting")]
    limits = [c.limits[0] for c in source.credentials]
    assert [lim.limit for lim in limits] == [f"credential:{i}:200/3600s" for i in ids]
    assert sum(lim.used or 0 for lim in limits) == 5 and limits[2].used == 0
    assert all(lim.frees_at is not None for lim in limits[:2] if lim.used)
    [line] = allowance(found, GRAPH, 0.2, 60, {}).lines
    assert (line.allowed, line.remaining, line.reserve) == (400, 395, 80)


async def test_a_quota_is_spent_by_cost_and_only_after_the_limits_grant(
        pool: asyncpg.Pool, settings: Settings) -> None:
    """A source with a per-credential quota (a YouTube key's daily units) spends `cost` units
    a call; a call refused by the credential's own limits spends none of it."""
    assert settings.redis_url  # a limiter of its own: the other tests' calls are not counted
    limiter = RateLimiter.from_url(settings.redis_url, prefix=f"{settings.rate_limit_prefix}:q")
    crypto, ids = await tokens(pool, 2)
    credential, other = [await store.get(pool, crypto, ident) for ident in ids]
    assert credential is not None and other is not None
    check = RateCheck(limiter, ["2/min"], "quota_test", "5/day@UTC")
    try:
        assert not await check(credential, 6)  # more than a whole day: never
        assert await check(credential, 4)
        assert not await check(credential, 2)  # 1 unit left
        assert await check(credential, 1)  # its second call this minute
        assert not await check(credential, 1)  # no units left
        fresh = RateCheck(limiter, ["1/min"], "quota_test", "5/day@UTC")
        assert await fresh(other, 1)
        assert not await fresh(other, 1)  # refused by the minute: the quota keeps 4
        assert check.wait_s() is None and fresh.wait_s() is not None
        left = await limiter.peek([quota_limit("quota_test", str(ids[1]), "5/day@UTC")], 4)
        assert left.granted
    finally:
        await limiter.aclose()
