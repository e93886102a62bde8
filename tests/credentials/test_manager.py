"""Picking credentials (real PostgreSQL, a hand-turned clock): random among the eligible only,
rests that end, expired data access that does not, budget hooks, and the short cache."""

import random
from collections import Counter
from datetime import timedelta

import asyncpg
import pytest

from credentials import store
from credentials.crypto import Crypto
from credentials.manager import CredentialManager
from credentials.models import Credential
from tests.credentials.conftest import START, FakeClock, add

YT = "youtube_data_api"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def manager(creds_pool: asyncpg.Pool, crypto: Crypto, clock: FakeClock) -> CredentialManager:
    return CredentialManager(creds_pool, crypto, clock, rng=random.Random(7))


async def picks(manager: CredentialManager, times: int = 200, source: str = YT) -> Counter[int]:
    counts: Counter[int] = Counter()
    for _ in range(times):
        cred = await manager.pick(source)
        counts[cred.id if cred else 0] += 1
    return counts


async def test_random_pick_among_eligible_only(creds_pool: asyncpg.Pool, crypto: Crypto,
                                               manager: CredentialManager) -> None:
    eligible = {await add(creds_pool, crypto, YT, f"key-eligible-{i}") for i in range(3)}
    await add(creds_pool, crypto, YT, "key-switched-off", enabled=False)
    await add(creds_pool, crypto, YT, "key-expired-access", data_access_expired=True)
    await add(creds_pool, crypto, YT, "key-resting", disabled_till=START + timedelta(hours=1))
    await add(creds_pool, crypto, YT, "key-token-expired", expires_at=START - timedelta(hours=1))
    await add(creds_pool, crypto, "graphapi", "token-other-source")
    eligible.add(await add(creds_pool, crypto, YT, "key-rest-over",
                           disabled_till=START - timedelta(seconds=1)))
    counts = await picks(manager, 300)
    assert set(counts) == eligible
    assert min(counts.values()) > 40  # every eligible one is picked, roughly evenly
    cred = await manager.pick(YT)
    assert isinstance(cred, Credential) and cred.secret("key", "api_key", "x") is not None
    assert await manager.pick("rocketapi") is None


async def test_a_resting_credential_is_skipped_and_comes_back_after_the_ttl(
        creds_pool: asyncpg.Pool, crypto: Crypto, manager: CredentialManager,
        clock: FakeClock) -> None:
    first = await add(creds_pool, crypto, YT, "key-first-0000")
    second = await add(creds_pool, crypto, YT, "key-second-000")
    cred = await store.get(creds_pool, crypto, first)
    assert cred is not None
    until = await manager.rate_limited(cred, retry_after_s=30)
    assert until == START + timedelta(seconds=30)
    row = await creds_pool.fetchrow("SELECT enabled, disabled_till FROM credential WHERE id = $1",
                                    first)
    assert row["enabled"] and row["disabled_till"] == until
    assert set(await picks(manager, 50)) == {second}
    assert await manager.next_available(YT) == until
    clock.advance(29)
    assert set(await picks(manager, 50)) == {second}
    clock.advance(2)
    assert set(await picks(manager, 100)) == {first, second}
    assert await manager.next_available(YT) is None


async def test_rest_is_bounded(creds_pool: asyncpg.Pool, crypto: Crypto,
                               manager: CredentialManager) -> None:
    cred = await store.get(creds_pool, crypto, await add(creds_pool, crypto, YT, "key-bounds-00"))
    assert cred is not None
    assert await manager.rate_limited(cred, 0.01) == START + timedelta(seconds=1)
    assert await manager.rate_limited(cred, None) == START + timedelta(seconds=60)
    assert await manager.rate_limited(cred, 10**9) == START + timedelta(hours=1)
    reset = START + timedelta(hours=11)
    assert await manager.quota_exhausted(cred, reset) == reset
    assert await manager.quota_exhausted(cred, START + timedelta(days=30)) == \
        START + timedelta(days=2)
    stored = await creds_pool.fetchval("SELECT disabled_till FROM credential WHERE id = $1",
                                       cred.id)
    assert stored == START + timedelta(days=2)  # the longest rest wins


async def test_expired_data_access_is_never_picked_until_validated_again(
        creds_pool: asyncpg.Pool, crypto: Crypto, manager: CredentialManager,
        clock: FakeClock) -> None:
    only = await add(creds_pool, crypto, "graphapi", "EAAG-secret-token-9999")
    cred = await manager.pick("graphapi")
    assert cred is not None and cred.id == only
    await manager.invalid(cred, "OAuthException 190: token EAAG-secret-token-9999 expired")
    row = await creds_pool.fetchrow("SELECT * FROM credential WHERE id = $1", only)
    assert row["data_access_expired"] and "EAAG-secret-token-9999" not in row["last_error"]
    assert row["last_error"] == "OAuthException 190: token *** expired"
    clock.advance(86400 * 30)
    assert await manager.pick("graphapi") is None
    await store.enable(creds_pool, only)  # switching it on does not bring it back
    clock.advance(10)
    assert await manager.pick("graphapi") is None
    await store.mark_validated(creds_pool, only, ["instagram_basic"], None)
    clock.advance(10)
    back = await manager.pick("graphapi")
    assert back is not None and back.id == only


async def test_budget_hook_passes_over_credentials_without_budget(
        creds_pool: asyncpg.Pool, crypto: Crypto, clock: FakeClock) -> None:
    rich = await add(creds_pool, crypto, YT, "key-with-budget")
    await add(creds_pool, crypto, YT, "key-spent-budget")
    asked: list[int] = []

    async def has_budget(cred: Credential) -> bool:
        asked.append(cred.id)
        return cred.id == rich

    manager = CredentialManager(creds_pool, crypto, clock, has_budget=has_budget)
    assert set(await picks(manager, 30)) == {rich}
    assert set(asked) == {1, 2}

    async def none_left(cred: Credential) -> bool:
        return False

    assert await manager.pick(YT, has_budget=none_left) is None


async def test_the_cache_is_short_and_dropped_on_changes(
        creds_pool: asyncpg.Pool, crypto: Crypto, manager: CredentialManager,
        clock: FakeClock) -> None:
    first = await add(creds_pool, crypto, YT, "key-cached-000")
    assert set(await picks(manager, 10)) == {first}
    second = await add(creds_pool, crypto, YT, "key-added-later")
    clock.advance(4)
    assert set(await picks(manager, 20)) == {first}  # within 5 s: no query, not seen yet
    clock.advance(2)
    assert set(await picks(manager, 50)) == {first, second}
    await creds_pool.execute("UPDATE credential SET enabled = false WHERE id = $1", second)
    cred = await store.get(creds_pool, crypto, first)
    assert cred is not None
    await manager.rate_limited(cred, 1)  # drops the cache: the switched-off one is gone at once
    clock.advance(1)
    assert set(await picks(manager, 20)) == {first}
