"""Stacked rate limits in Redis: one Lua script (`ratelimit.lua`) checks every limit of a call and
commits all or none in one round trip, on Redis server time, answering the exact wait if refused.
"""

import asyncio
import random
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from redis.asyncio import Redis, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from core.config import Settings
from core.errors import RateLimited, SourceUnavailable
from core.platforms import registry

CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}
SCRIPT = Path(__file__).with_name("ratelimit.lua").read_text()
DAY_S = 86_400
MAX_JITTER_S = 0.25
MAX_CACHED_STACKS = 10_000  # per-handle stacks are many; encoding one again costs microseconds
UNITS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60,
         "h": 3600, "hr": 3600, "hour": 3600, "d": DAY_S, "day": DAY_S}
SPEC = re.compile(r"^(?P<name>.+):(?P<limit>\d+)/(?P<count>\d+(?:\.\d+)?)?"
                  r"(?P<unit>(?i:s|m|h|d|(?:sec|second|min|minute|hr|hour|day)s?))$")


class RateLimiterUnavailable(SourceUnavailable):
    """The rate limiter's Redis cannot be reached; no call goes out unlimited."""

    kind = "rate_limiter_unavailable"


@dataclass(frozen=True, slots=True)
class Limit:
    """At most `limit` slots per `window_s` seconds for `name` (a sliding window, or a calendar
    window from the epoch, UTC, when `aligned`)."""

    name: str
    limit: int
    window_s: float
    aligned: bool = False

    def __post_init__(self) -> None:
        if not self.name or self.limit < 1 or self.window_s <= 0:
            raise ValueError(f"invalid limit {self.name!r}: {self.limit}/{self.window_s}s")
        if self.aligned and self.window_s != int(self.window_s):
            raise ValueError(f"aligned limit {self.name!r} needs a whole number of seconds")

    def __str__(self) -> str:
        return f"{self.name}:{self.limit}/{self.window_s:g}s"

    def bind(self, **fields: str) -> "Limit":
        """This limit for one subject: `parse_limit("handle:{h}:1/s").bind(h="nasa")`."""
        return replace(self, name=self.name.format(**fields))

    @property
    def window_us(self) -> int:
        return round(self.window_s * 1_000_000)


def parse_limit(spec: str) -> Limit:
    """`"global:60/min"`, `"source:invidious:10/1s"`, `"handle:{h}:1/s"`, `"global:20000/day"`
    -> Limit. Windows of whole days are aligned to UTC days; the rest are sliding."""
    match = SPEC.match(spec.replace(" ", ""))
    if match is None:
        raise ValueError(f"invalid rate limit spec {spec!r} (expected NAME:N/[COUNT]UNIT, "
                         "e.g. global:60/min or source:invidious:10/1s)")
    unit = match["unit"].lower()
    window_s = float(match["count"] or 1) * UNITS[unit if unit == "s" else unit.rstrip("s")]
    return Limit(match["name"], int(match["limit"]), window_s,
                 aligned=window_s % DAY_S == 0)


GLOBAL_LIMITS = (parse_limit("global:20000/day"), parse_limit("global:60/min"))
HANDLE_LIMIT = parse_limit("handle:{h}:1/s")


def credential_limit(credential_id: str, rate: str) -> Limit:
    """The limit of one credential, from its quota: `credential_limit("key-7", "100/30s")`."""
    return parse_limit(f"credential:{credential_id}:{rate}")


@dataclass(frozen=True, slots=True)
class Decision:
    """An acquire's answer: granted, or the wait until the refusing limit frees enough slots."""

    granted: bool
    wait_s: float
    refused_by: str | None
    server_time_us: int = 0


NO_LIMITS = Decision(True, 0.0, None)


class RateLimiter:
    """Acquire slots from a stack of limits atomically, in one EVALSHA round trip.

    Algorithm. Windows shorter than a day are exact sliding windows kept as a sliding log (a ZSET
    of grant times, one entry per granted slot): "at most N in ANY window of W seconds" holds
    exactly, and a refusal knows precisely when the slot it needs frees (when the grant that must
    expire first does). GCRA would need O(1) memory, but it lets a burst of N through and then one
    every W/N, so one sliding window can see nearly 2N; the log's memory grows with the limit,
    which is small for per-second and per-minute limits. Windows of whole days are aligned
    (calendar days, UTC: they reset at 00:00 UTC, as daily API quotas do) and kept as one counter.

    Keys: `{prefix}:{{tag}}:{name}:{window}s:{log|day}`. Every key of a limiter carries the same
    hash tag (`{beat-rl}` by default), so all limits of one acquire live in one Redis Cluster slot
    and the script stays atomic there. Stacks that never share a limit can use limiters with
    different tags to spread over shards.

    Failure: when Redis cannot serve the script, the limiter FAILS CLOSED with
    `RateLimiterUnavailable` (so no call goes out unlimited); the client reconnects by itself on
    a later call once Redis is back, without a restart.
    """

    def __init__(self, redis: "Redis | RedisCluster", prefix: str = "beat:rl",
                 tag: str = "beat-rl") -> None:
        self.redis = redis
        self.prefix = prefix
        self.tag = tag
        self._script = redis.register_script(SCRIPT)
        self._encoded: dict[tuple[Limit, ...], tuple[list[str], list[str], int]] = {}

    @classmethod
    def from_url(cls, url: str, prefix: str = "beat:rl", tag: str = "beat-rl") -> "RateLimiter":
        """A limiter on its own client that gives up fast when Redis is down (one immediate
        retry, 1 s connect timeout), so failing closed does not stall the caller. A
        `redis+cluster://` (or `rediss+cluster://`) URL names a node of a Redis Cluster."""
        options: dict[str, Any] = {"socket_connect_timeout": 1.0, "socket_timeout": 2.0,
                                   "retry": Retry(NoBackoff(), 1)}
        scheme, _, rest = url.partition("://")
        if scheme in CLUSTER_SCHEMES:  # every key shares one hash tag: one slot, one node
            return cls(RedisCluster.from_url(f"{CLUSTER_SCHEMES[scheme]}://{rest}", **options),
                       prefix, tag)
        return cls(Redis.from_url(url, **options), prefix, tag)

    @classmethod
    def from_settings(cls, settings: Settings) -> "RateLimiter":
        if not settings.redis_url:
            raise RateLimiterUnavailable("rate limiter unavailable: REDIS_URL is not set")
        return cls.from_url(settings.redis_url, prefix=settings.rate_limit_prefix)

    async def aclose(self) -> None:
        await self.redis.aclose()

    def key(self, limit: Limit) -> str:
        return limit_key(limit, self.prefix, self.tag)

    def encode(self, limits: Sequence[Limit], cost: int = 1,
               commit: bool = True) -> tuple[list[str], list[str]]:
        """The KEYS and ARGV of one script call for this stack (cached per stack)."""
        stack = tuple(limits)
        encoded = self._encoded.get(stack)
        if encoded is None:
            if len(self._encoded) >= MAX_CACHED_STACKS:
                self._encoded.clear()
            encoded = self._encoded[stack] = self._encode_stack(stack)
        keys, per_limit, most = encoded
        if not 1 <= cost <= most:
            raise ValueError(f"cost {cost} can never fit the stack {', '.join(map(str, stack))}")
        return keys, [str(cost), "1" if commit else "0", *per_limit]

    def _encode_stack(self, stack: tuple[Limit, ...]) -> tuple[list[str], list[str], int]:
        unbound = [str(limit) for limit in stack if re.search(r"\{\w*\}", limit.name)]
        if unbound:
            raise ValueError(f"limits with unbound fields (call .bind()): {', '.join(unbound)}")
        if len({self.key(limit) for limit in stack}) != len(stack):
            raise ValueError(f"the same limit twice in one stack: {', '.join(map(str, stack))}")
        args = [str(part) for limit in stack
                for part in (limit.limit, limit.window_us, int(limit.aligned))]
        return [self.key(limit) for limit in stack], args, min(limit.limit for limit in stack)

    async def acquire(self, limits: Sequence[Limit], cost: int = 1) -> Decision:
        """Take `cost` slots from EVERY limit, or from none and say how long to wait."""
        return await self._run(limits, cost, commit=True)

    async def peek(self, limits: Sequence[Limit], cost: int = 1) -> Decision:
        """What `acquire` would answer now, without taking anything (same single round trip)."""
        return await self._run(limits, cost, commit=False)

    async def wait_and_acquire(self, limits: Sequence[Limit], cost: int = 1,
                               max_wait_s: float | None = None) -> Decision:
        """Acquire, sleeping each exact wait plus a little jitter; raise `RateLimited` when the
        total wait would exceed `max_wait_s`."""
        deadline = None if max_wait_s is None else time.monotonic() + max_wait_s
        while True:
            decision = await self.acquire(limits, cost)
            if decision.granted:
                return decision
            if deadline is not None and time.monotonic() + decision.wait_s > deadline:
                raise RateLimited(decision.wait_s, f"rate limit {decision.refused_by} is full: "
                                  f"next slot in {decision.wait_s:.3f}s (over {max_wait_s}s)")
            await asyncio.sleep(decision.wait_s + jitter(decision.wait_s))

    async def usage(self, limits: Sequence[Limit]) -> list[int]:
        """Slots in use now of each limit (for the dashboard's headroom), in one pipelined
        round trip; nothing is written. RateLimiterUnavailable when Redis cannot answer."""
        try:
            seconds, micros = await self.redis.time()
            now_us = int(seconds) * 1_000_000 + int(micros)
            pipe = self.redis.pipeline(transaction=False)
            for limit in limits:
                if limit.aligned:
                    pipe.hmget(self.key(limit), "start", "used")
                else:
                    pipe.zcount(self.key(limit), f"({now_us - limit.window_us}", "+inf")
            replies = await pipe.execute()
        except (RedisError, OSError) as exc:
            raise RateLimiterUnavailable(self._unavailable(exc)) from exc
        used = []
        for limit, reply in zip(limits, replies, strict=True):
            if not limit.aligned:
                used.append(int(reply))
                continue
            start, count = reply
            current = now_us - now_us % limit.window_us
            used.append(int(count) if start is not None and int(start) == current else 0)
        return used

    async def _run(self, limits: Sequence[Limit], cost: int, commit: bool) -> Decision:
        if not limits:
            return NO_LIMITS
        keys, args = self.encode(limits, cost, commit)
        try:
            reply: list[int] = await self._script(keys=keys, args=args)
        except (RedisError, OSError) as exc:  # down, loading, read-only, out of memory...
            raise RateLimiterUnavailable(self._unavailable(exc)) from exc
        granted, wait_us, refused, now_us = reply
        refused_by = str(limits[refused - 1]) if refused else None
        return Decision(bool(granted), wait_us / 1_000_000, refused_by, now_us)

    def _unavailable(self, exc: BaseException) -> str:
        pool = getattr(self.redis, "connection_pool", None)  # a cluster client has none
        kwargs: dict[str, Any] = pool.connection_kwargs if pool else {}
        where = f"{kwargs.get('host', 'cluster')}:{kwargs.get('port', '')}".rstrip(":")
        detail = " ".join(str(exc).split()) or type(exc).__name__
        return f"rate limiter unavailable (failing closed): Redis at {where}: {detail}"


def limit_key(limit: Limit, prefix: str = "beat:rl", tag: str = "beat-rl") -> str:
    """The Redis key holding `limit`'s state (a ZSET log, or a HASH for aligned windows)."""
    kind = "day" if limit.aligned else "log"
    return f"{prefix}:{{{tag}}}:{limit.name}:{limit.window_s:g}s:{kind}"


def jitter(wait_s: float) -> float:
    """A little random extra sleep, so callers refused together do not all retry together."""
    return random.uniform(0.0, min(MAX_JITTER_S, 0.001 + 0.05 * wait_s))


_process_limiters: dict[str, RateLimiter] = {}


def process_limiter(settings: Settings) -> RateLimiter | None:
    """This process's limiter for REDIS_URL; None without one (limits are then off)."""
    if not settings.redis_url:
        return None
    key = f"{settings.redis_url} {settings.rate_limit_prefix}"
    if key not in _process_limiters:
        _process_limiters[key] = RateLimiter.from_url(settings.redis_url,
                                                      prefix=settings.rate_limit_prefix)
    return _process_limiters[key]


def source_limits(settings: Settings) -> dict[str, list[Limit]]:
    """Each source's limits: SOURCE_LIMITS where it names the source, else the defaults its
    platform declares (`Platform.source_limits`)."""
    specs_by_source: dict[str, list[str]] = {}
    for platform in registry(settings).values():
        specs_by_source.update(platform.source_limits)
    specs_by_source.update(settings.source_limits)
    return {name: [parse_limit(f"source:{name}:{spec}") for spec in specs]
            for name, specs in specs_by_source.items() if specs}


def credential_budget(limiter: RateLimiter | None, rates: list[str]
                      ) -> Callable[[Any], Awaitable[bool]] | None:
    """A credential manager's `has_budget` check: one acquire over the credential's own limits
    (granted = it has budget, and the budget is taken). None when there is nothing to check."""
    if limiter is None or not rates:
        return None

    async def has_budget(credential: Any) -> bool:
        limits = [credential_limit(str(credential.id), rate) for rate in rates]
        return (await limiter.acquire(limits)).granted

    return has_budget
