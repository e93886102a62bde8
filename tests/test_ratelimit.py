"""Beat's rate limiter against the real Redis (REDIS_URL): spec parsing, exact sliding and
aligned windows, all-or-nothing stacks, many processes at once, and failing closed."""

import asyncio
import math
import multiprocessing
import os
import random
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from redis.asyncio import Redis, RedisCluster
from redis.crc import key_slot

from core.config import Settings
from core.errors import RateLimited, SourceUnavailable
from core.ratelimit import (
    DAY_S,
    GLOBAL_LIMITS,
    HANDLE_LIMIT,
    Limit,
    RateLimiter,
    RateLimiterUnavailable,
    credential_limit,
    parse_limit,
    source_limits,
)

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
DAY_US = DAY_S * 1_000_000


def new_prefix() -> str:
    return f"test:rl:{uuid.uuid4().hex[:12]}"


async def delete_prefix(client: Redis | RedisCluster, prefix: str) -> None:
    keys = [key async for key in client.scan_iter(match=f"{prefix}:*", count=1000)]
    if keys:
        await client.delete(*keys)


@pytest.fixture
async def limiter() -> AsyncIterator[RateLimiter]:
    """A limiter under a fresh key prefix; a missing Redis fails here, nothing is skipped."""
    limiter = RateLimiter.from_url(REDIS_URL, prefix=new_prefix())
    await limiter.redis.ping()
    try:
        yield limiter
    finally:
        await delete_prefix(limiter.redis, limiter.prefix)
        await limiter.aclose()


@pytest.mark.parametrize(("spec", "expected"), [
    ("global:20000/day", Limit("global", 20000, 86400.0, aligned=True)),
    ("global:60/min", Limit("global", 60, 60.0)),
    ("handle:{h}:1/s", Limit("handle:{h}", 1, 1.0)),
    ("source:youtube138:850/60s", Limit("source:youtube138", 850, 60.0)),
    ("source:insta-best-performance:2/1s", Limit("source:insta-best-performance", 2, 1.0)),
    ("credential:key-7:100/30sec", Limit("credential:key-7", 100, 30.0)),
    ("x:5/0.5s", Limit("x", 5, 0.5)),
    ("x:1000/2h", Limit("x", 1000, 7200.0)),
    ("x:3/2days", Limit("x", 3, 172800.0, aligned=True)),
])
def test_parse_limit(spec: str, expected: Limit) -> None:
    assert parse_limit(spec) == expected


@pytest.mark.parametrize("spec", ["global", "global:60", "global:0/s", "x:1/ms", ":1/s",
                                  "x:1/0s", "x:-1/s", "x:1/fortnight"])
def test_parse_limit_rejects_bad_specs(spec: str) -> None:
    with pytest.raises(ValueError):
        parse_limit(spec)


def test_declared_limits() -> None:
    assert [str(limit) for limit in GLOBAL_LIMITS] == ["global:20000/86400s", "global:60/60s"]
    assert HANDLE_LIMIT.bind(h="nasa") == Limit("handle:nasa", 1, 1.0)
    assert credential_limit("key-7", "100/30s") == Limit("credential:key-7", 100, 30.0)


async def test_keys_of_a_stack_share_one_cluster_slot(limiter: RateLimiter) -> None:
    stack = [*GLOBAL_LIMITS, parse_limit("source:invidious:100/30s"), HANDLE_LIMIT.bind(h="nasa")]
    keys, _ = limiter.encode(stack)
    assert len(set(keys)) == len(stack)
    assert {key_slot(key.encode()) for key in keys} == {key_slot(b"{beat-rl}")}


async def test_grants_exactly_n_per_window_then_the_exact_wait(limiter: RateLimiter) -> None:
    limit = parse_limit("x:5/0.5s")
    grants = [await limiter.acquire([limit]) for _ in range(5)]
    assert all(d.granted for d in grants)
    refused = await limiter.acquire([limit])
    assert not refused.granted and refused.refused_by == "x:5/0.5s"
    first_frees_at = grants[0].server_time_us + 500_000
    assert refused.wait_s * 1e6 == first_frees_at - refused.server_time_us

    await asyncio.sleep(max(0.0, refused.wait_s - 0.05))
    early = await limiter.acquire([limit])
    assert not early.granted and 0 < early.wait_s <= 0.05
    await asyncio.sleep(early.wait_s + 0.002)
    while (decision := await limiter.acquire([limit])).granted:
        grants.append(decision)
    in_window = [d.server_time_us for d in grants
                 if d.server_time_us > decision.server_time_us - 500_000]
    assert len(in_window) == 5
    assert decision.wait_s * 1e6 == in_window[0] + 500_000 - decision.server_time_us


async def test_peek_answers_without_taking(limiter: RateLimiter) -> None:
    limit = parse_limit("x:3/min")
    for _ in range(10):
        assert (await limiter.peek([limit])).granted
    assert all([(await limiter.acquire([limit])).granted for _ in range(3)])
    peeked = await limiter.peek([limit])
    assert not peeked.granted and 59 < peeked.wait_s <= 60
    assert await limiter.redis.zcard(limiter.key(limit)) == 3


async def budgets(limiter: RateLimiter, per_minute: Limit, per_day: Limit) -> tuple[int, int]:
    day_used = await limiter.redis.hget(limiter.key(per_day), "used")
    return await limiter.redis.zcard(limiter.key(per_minute)), int(day_used or 0)


async def test_inner_refusal_leaves_outer_budgets_untouched(limiter: RateLimiter) -> None:
    per_day, per_minute = GLOBAL_LIMITS
    nasa, esa = HANDLE_LIMIT.bind(h="nasa"), HANDLE_LIMIT.bind(h="esa")
    assert (await limiter.acquire([per_day, per_minute, nasa])).granted
    for _ in range(5):
        refused = await limiter.acquire([per_day, per_minute, nasa])
        assert not refused.granted and refused.refused_by == "handle:nasa:1/1s"
        assert 0.9 < refused.wait_s <= 1.0
    assert await budgets(limiter, per_minute, per_day) == (1, 1)
    assert (await limiter.acquire([per_day, per_minute, esa])).granted
    assert await budgets(limiter, per_minute, per_day) == (2, 2)


async def test_outer_refusal_leaves_inner_budgets_untouched(limiter: RateLimiter) -> None:
    outer = parse_limit("global:2/min")
    handles = [HANDLE_LIMIT.bind(h=str(i)) for i in range(3)]
    assert (await limiter.acquire([outer, handles[0]])).granted
    assert (await limiter.acquire([outer, handles[1]])).granted
    refused = await limiter.acquire([outer, handles[2]])
    assert refused.refused_by == "global:2/60s" and 59 < refused.wait_s <= 60
    assert await limiter.redis.exists(limiter.key(handles[2])) == 0


async def test_the_longest_wait_among_refusing_limits_is_reported(limiter: RateLimiter) -> None:
    short, long = parse_limit("a:1/0.2s"), parse_limit("b:1/1s")
    assert (await limiter.acquire([short, long])).granted
    refused = await limiter.acquire([short, long])
    assert refused.refused_by == "b:1/1s" and 0.9 < refused.wait_s <= 1.0


async def test_cost_takes_several_slots_from_every_limit(limiter: RateLimiter) -> None:
    small, large = parse_limit("small:5/s"), parse_limit("large:100/min")
    first = await limiter.acquire([small, large], cost=3)
    assert first.granted
    refused = await limiter.acquire([small, large], cost=3)
    assert refused.refused_by == "small:5/1s"
    assert refused.wait_s * 1e6 == first.server_time_us + 1_000_000 - refused.server_time_us
    assert (await limiter.acquire([small, large], cost=2)).granted
    assert await limiter.redis.zcard(limiter.key(large)) == 5
    with pytest.raises(ValueError, match="can never fit"):
        await limiter.acquire([small, large], cost=6)


async def test_unbound_or_repeated_limits_are_refused_up_front(limiter: RateLimiter) -> None:
    with pytest.raises(ValueError, match="unbound"):
        await limiter.acquire([HANDLE_LIMIT])
    with pytest.raises(ValueError, match="twice"):
        await limiter.acquire([GLOBAL_LIMITS[1], parse_limit("global:61/min")])


async def test_day_limits_are_aligned_to_utc_days(limiter: RateLimiter) -> None:
    daily = parse_limit("daily:3/day")
    grants = [await limiter.acquire([daily]) for _ in range(3)]
    assert all(d.granted for d in grants)
    refused = await limiter.acquire([daily])
    assert refused.refused_by == "daily:3/86400s"
    # next 00:00 UTC, to the microsecond (wait_s is microseconds / 1e6: round the float back)
    assert round(refused.wait_s * 1e6) == DAY_US - refused.server_time_us % DAY_US
    # The key lives 1 s past the window: its TTL is the wait rounded up to the millisecond, set
    # on Redis's millisecond clock, which runs up to 1 ms behind the script's microsecond one.
    ttl_ms = await limiter.redis.pttl(limiter.key(daily))
    assert 0 < ttl_ms <= math.ceil(refused.wait_s * 1000) + 1000 + 1

    yesterday = refused.server_time_us - refused.server_time_us % DAY_US - DAY_US
    await limiter.redis.hset(limiter.key(daily), mapping={"start": yesterday, "used": 3})
    assert (await limiter.acquire([daily])).granted
    assert await limiter.redis.hget(limiter.key(daily), "used") == b"1"


async def test_wait_and_acquire_sleeps_the_wait(limiter: RateLimiter) -> None:
    limit = parse_limit("x:2/0.3s")
    await limiter.acquire([limit], cost=2)
    started = time.monotonic()
    assert (await limiter.wait_and_acquire([limit])).granted
    assert 0.25 < time.monotonic() - started < 0.45
    with pytest.raises(RateLimited) as refused:
        await limiter.wait_and_acquire([limit], cost=2, max_wait_s=0.05)
    assert 0.2 < refused.value.retry_after <= 0.3
    assert "x:2/0.3s" in str(refused.value)


MP_GLOBAL, MP_DAILY = parse_limit("mp:global:50/s"), parse_limit("mp:global:90/day")
MP_KEY = parse_limit("mp:key:{k}:10/s")


def hammer_process(url: str, prefix: str, ready: Any, grants: Any) -> None:
    ready.wait()  # every process starts together, however long spawning took
    grants.put(asyncio.run(hammer(url, prefix, time.time(), 2.0)))


async def hammer(url: str, prefix: str, start: float, seconds: float) -> list[tuple[int, int]]:
    """Two loops acquire as fast as they can, two wait for their turn; grants as (time, key)."""
    limiter = RateLimiter.from_url(url, prefix=prefix)
    stacks = [[MP_DAILY, MP_GLOBAL, MP_KEY.bind(k=str(key))] for key in range(5)]
    grants: list[tuple[int, int]] = []
    await asyncio.sleep(max(0.0, start - time.time()))

    async def loop(patient: bool) -> None:
        while (left := start + seconds - time.time()) > 0:
            key = random.randrange(5)
            try:
                decision = await (limiter.wait_and_acquire(stacks[key], max_wait_s=left)
                                  if patient else limiter.acquire(stacks[key]))
            except RateLimited:
                await asyncio.sleep(0.001)
                continue
            if decision.granted:
                grants.append((decision.server_time_us, key))

    await asyncio.gather(*(loop(patient) for patient in (False, False, True, True)))
    await limiter.aclose()
    return grants


def most_in_any_window(times: list[int], window_us: int) -> int:
    """The most grants in any half-open window [t, t + window) (sliding, anywhere)."""
    times, most, first = sorted(times), 0, 0
    for last, at in enumerate(times):
        while at - times[first] >= window_us:
            first += 1
        most = max(most, last - first + 1)
    return most


def test_many_processes_never_overshoot_any_window() -> None:
    prefix = new_prefix()
    ctx = multiprocessing.get_context("spawn")
    ready, results = ctx.Barrier(4, timeout=60), ctx.Queue()
    processes = [ctx.Process(target=hammer_process, args=(REDIS_URL, prefix, ready, results))
                 for _ in range(4)]
    for process in processes:
        process.start()
    try:
        runs = [results.get(timeout=60) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(match=f"{prefix}:*"):
            client.delete(key)
        client.close()
    grants = [grant for run in runs for grant in run]
    assert most_in_any_window([at for at, _ in grants], 1_000_000) == 50
    for key in range(5):
        assert most_in_any_window([at for at, k in grants if k == key], 1_000_000) == 10
    per_day = Counter(at // DAY_US for at, _ in grants)
    assert max(per_day.values()) <= 90 <= sum(per_day.values())  # reached, never passed


class TcpProxy:
    """Forwards a local port to the shared Redis; closing it drops every connection, the way a
    Redis outage looks to the client (the shared server itself keeps running)."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.writers: list[asyncio.StreamWriter] = []
        self.server: asyncio.Server | None = None

    async def open(self, port: int = 0) -> int:
        self.server = await asyncio.start_server(self._forward, "127.0.0.1", port)
        return int(self.server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self.writers:
            writer.close()
        self.writers.clear()
        await self.server.wait_closed()

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        self.writers += [writer, upstream_writer]
        await asyncio.gather(self._pipe(reader, upstream_writer),
                             self._pipe(upstream_reader, writer), return_exceptions=True)

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()


def through_proxy(port: int) -> str:
    parts = urlsplit(REDIS_URL)
    auth = parts.netloc.rpartition("@")[0]
    return urlunsplit(parts._replace(netloc=f"{auth + '@' if auth else ''}127.0.0.1:{port}"))


async def test_fails_closed_while_redis_is_unreachable_then_recovers() -> None:
    target = urlsplit(REDIS_URL)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 6379)
    port = await proxy.open()
    limiter = RateLimiter.from_url(through_proxy(port), prefix=new_prefix())
    limit = parse_limit("outage:5/s")
    try:
        assert (await limiter.acquire([limit])).granted
        await proxy.close()
        for call in (limiter.acquire, limiter.peek, limiter.wait_and_acquire):
            with pytest.raises(RateLimiterUnavailable) as down:
                await call([limit])
            assert isinstance(down.value, SourceUnavailable)
            assert f"127.0.0.1:{port}" in str(down.value) and "\n" not in str(down.value)
        await proxy.open(port)
        assert (await limiter.acquire([limit])).granted  # the same limiter, no restart
        assert await limiter.redis.zcard(limiter.key(limit)) == 2
    finally:
        await delete_prefix(limiter.redis, limiter.prefix)
        await limiter.aclose()
        await proxy.close()


def test_source_limits_come_from_the_platforms_unless_configured() -> None:
    provider = "instagram_rapidapi"  # Instagram declares its provider's plan: 2/s, 100/30 s
    assert source_limits(Settings(source_limits={}))[provider] == [
        Limit(f"source:{provider}", 2, 1.0), Limit(f"source:{provider}", 100, 30.0)]
    configured = source_limits(Settings(source_limits={"invidious": ["10/1s", "100/1min"],
                                                       provider: ["1/1s"]}))
    assert configured["invidious"] == [Limit("source:invidious", 10, 1.0),
                                       Limit("source:invidious", 100, 60.0)]
    assert configured[provider] == [Limit(f"source:{provider}", 1, 1.0)]  # configured wins
    assert provider not in source_limits(Settings(source_limits={provider: []}))
