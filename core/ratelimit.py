"""Stacked rate limits in Redis: one Lua script (`ratelimit.lua`) checks every limit of a call and
commits all or none in one round trip, on Redis server time, answering the exact wait if refused.
"""

import asyncio
import random
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from redis.asyncio import Redis, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from core import metrics
from core.config import Settings
from core.errors import RateLimited, SourceUnavailable
from core.platforms import registry

CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}
SCRIPT = Path(__file__).with_name("ratelimit.lua").read_text()
HEADROOM_SCRIPT = Path(__file__).with_name("headroom.lua").read_text()
DAY_S = 86_400
MAX_JITTER_S = 0.25
MAX_CACHED_STACKS = 10_000  # per-handle stacks are many; encoding one again costs microseconds
UNITS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60,
         "h": 3600, "hr": 3600, "hour": 3600, "d": DAY_S, "day": DAY_S}
SPEC = re.compile(r"^(?P<name>.+):(?P<limit>\d+)/(?P<count>\d+(?:\.\d+)?)?"
                  r"(?P<unit>(?i:s|m|h|d|(?:sec|second|min|minute|hr|hour|day)s?))"
                  r"(?:@(?P<zone>[A-Za-z][A-Za-z0-9_+-]*(?:/[A-Za-z0-9_+-]+)*))?$")


class RateLimiterUnavailable(SourceUnavailable):
    """The rate limiter's Redis cannot be reached; no call goes out unlimited."""

    kind = "rate_limiter_unavailable"


@dataclass(frozen=True, slots=True)
class Limit:
    """At most `limit` slots per `window_s` seconds for `name`: a sliding window; or, when
    `aligned`, a calendar window from the epoch, UTC; or, with a `zone`, the calendar day of that
    time zone (midnight to midnight there, 23 or 25 hours on a daylight-saving change), as
    YouTube's quota resets at midnight Pacific time."""

    name: str
    limit: int
    window_s: float
    aligned: bool = False
    zone: str | None = None

    def __post_init__(self) -> None:
        if not self.name or self.limit < 1 or self.window_s <= 0:
            raise ValueError(f"invalid limit {self.name!r}: {self.limit}/{self.window_s}s")
        if self.aligned and self.window_s != int(self.window_s):
            raise ValueError(f"aligned limit {self.name!r} needs a whole number of seconds")
        if self.zone is not None:
            if not self.aligned or self.window_s != DAY_S:
                raise ValueError(f"limit {self.name!r}: a time zone only for one day's window")
            try:
                ZoneInfo(self.zone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"limit {self.name!r}: unknown time zone {self.zone!r}") \
                    from None

    def __str__(self) -> str:
        return f"{self.name}:{self.limit}/{self.window_s:g}s" + \
            (f"@{self.zone}" if self.zone else "")

    def mode(self, now_s: float) -> tuple[int, str]:
        """The window in microseconds and its mode for the scripts: '0' sliding, '1' aligned
        to UTC, or 'Z<start us>' for the zone's day that `now_s` falls in."""
        if self.zone is None:
            return self.window_us, "1" if self.aligned else "0"
        zone = ZoneInfo(self.zone)
        day = datetime.fromtimestamp(now_s, zone).date()
        start = datetime.combine(day, dt_time(), zone)
        end = datetime.combine(day + timedelta(days=1), dt_time(), zone)
        # Timestamps, not `end - start`: Python subtracts times of one zone as wall clock times.
        return round((end.timestamp() - start.timestamp()) * 1e6), \
            f"Z{round(start.timestamp() * 1e6)}"

    def bind(self, **fields: str) -> "Limit":
        """This limit for one subject: `parse_limit("handle:{h}:1/s").bind(h="nasa")`."""
        return replace(self, name=self.name.format(**fields))

    @property
    def window_us(self) -> int:
        return round(self.window_s * 1_000_000)


def parse_limit(spec: str) -> Limit:
    """`"global:60/min"`, `"source:invidious:10/1s"`, `"handle:{h}:1/s"`, `"global:20000/day"`,
    `"quota:k1:10000/day@America/Los_Angeles"` -> Limit. Windows of whole days are aligned to
    UTC days (or to the named zone's days); the rest are sliding."""
    match = SPEC.match(spec.replace(" ", ""))
    if match is None:
        raise ValueError(f"invalid rate limit spec {spec!r} (expected NAME:N/[COUNT]UNIT, "
                         "e.g. global:60/min or source:invidious:10/1s)")
    unit = match["unit"].lower()
    window_s = float(match["count"] or 1) * UNITS[unit if unit == "s" else unit.rstrip("s")]
    return Limit(match["name"], int(match["limit"]), window_s,
                 aligned=window_s % DAY_S == 0, zone=match["zone"])


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
    refused_limit: "Limit | None" = None


NO_LIMITS = Decision(True, 0.0, None)


@dataclass(frozen=True, slots=True)
class Headroom:
    """How much of one limit is used now: `remaining` slots, and `frees_in_s`, when the window
    resets (aligned) or its oldest counted grant expires (sliding; None when nothing is used)."""

    limit: Limit
    used: int
    frees_in_s: float | None

    @property
    def remaining(self) -> int:
        return max(0, self.limit.limit - self.used)


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
        self._headroom = redis.register_script(HEADROOM_SCRIPT)
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
        if any(limit.zone for limit in stack):
            per_limit = _with_zones(stack, per_limit)
        return keys, [str(cost), "1" if commit else "0", *per_limit]

    def _encode_stack(self, stack: tuple[Limit, ...]) -> tuple[list[str], list[str], int]:
        unbound = [str(limit) for limit in stack if re.search(r"\{\w*\}", limit.name)]
        if unbound:
            raise ValueError(f"limits with unbound fields (call .bind()): {', '.join(unbound)}")
        if len({self.key(limit) for limit in stack}) != len(stack):
            raise ValueError(f"the same limit twice in one stack: {', '.join(map(str, stack))}")
        args = [str(part) for limit in stack
                for part in (limit.limit, *limit.mode(0.0))]
        return [self.key(limit) for limit in stack], args, min(limit.limit for limit in stack)

    async def acquire(self, limits: Sequence[Limit], cost: int = 1) -> Decision:
        """Take `cost` slots from EVERY limit, or from none and say how long to wait."""
        decision = await self._run(limits, cost, commit=True)
        if not decision.granted:
            metrics.ratelimit_refused(_label(decision))
        return decision

    async def peek(self, limits: Sequence[Limit], cost: int = 1) -> Decision:
        """What `acquire` would answer now, without taking anything (same single round trip)."""
        return await self._run(limits, cost, commit=False)

    async def headroom(self, limits: Sequence[Limit]) -> list[Headroom]:
        """How much of each limit is used now (one read-only round trip; limits that share no
        hash tag need not be asked together, but these are)."""
        if not limits:
            return []
        now_s = time.time()
        args = [str(part) for limit in limits for part in limit.mode(now_s)]
        try:
            reply: list[int] = await self._headroom(keys=[self.key(lim) for lim in limits],
                                                    args=args)
        except (RedisError, OSError) as exc:
            raise RateLimiterUnavailable(self._unavailable(exc)) from exc
        now, rest = reply[0], reply[1:]
        return [Headroom(limit, int(used), (frees - now) / 1_000_000 if frees else None)
                for limit, used, frees in zip(limits, rest[::2], rest[1::2], strict=True)]

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
            slept = decision.wait_s + jitter(decision.wait_s)
            metrics.ratelimit_waited(_label(decision), slept)
            await asyncio.sleep(slept)

    async def _run(self, limits: Sequence[Limit], cost: int, commit: bool) -> Decision:
        if not limits:
            return NO_LIMITS
        keys, args = self.encode(limits, cost, commit)
        try:
            reply: list[int] = await self._script(keys=keys, args=args)
        except (RedisError, OSError) as exc:  # down, loading, read-only, out of memory...
            raise RateLimiterUnavailable(self._unavailable(exc)) from exc
        granted, wait_us, refused, now_us = reply
        refusing = limits[refused - 1] if refused else None
        return Decision(bool(granted), wait_us / 1_000_000,
                        str(refusing) if refusing else None, now_us, refusing)

    def _unavailable(self, exc: BaseException) -> str:
        pool = getattr(self.redis, "connection_pool", None)  # a cluster client has none
        kwargs: dict[str, Any] = pool.connection_kwargs if pool else {}
        where = f"{kwargs.get('host', 'cluster')}:{kwargs.get('port', '')}".rstrip(":")
        detail = " ".join(str(exc).split()) or type(exc).__name__
        return f"rate limiter unavailable (failing closed): Redis at {where}: {detail}"


def _with_zones(stack: tuple[Limit, ...], per_limit: list[str]) -> list[str]:
    """The per-limit script arguments with each zoned limit's day as of now."""
    now_s, args = time.time(), list(per_limit)
    for i, limit in enumerate(stack):
        if limit.zone:
            window_us, mode = limit.mode(now_s)
            args[3 * i + 1], args[3 * i + 2] = str(window_us), mode
    return args


def _label(decision: Decision) -> str:
    limit = decision.refused_limit
    if limit is None:
        return "unknown"
    return metrics.limit_label(limit.name, limit.limit, limit.window_s)


def limit_key(limit: Limit, prefix: str = "beat:rl", tag: str = "beat-rl") -> str:
    """The Redis key holding `limit`'s state (a ZSET log, or a HASH for aligned windows)."""
    kind = f"day@{limit.zone}" if limit.zone else "day" if limit.aligned else "log"
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


def declared(settings: Settings, name: str) -> dict[str, Any]:
    """Per source, the setting `name` (SOURCE_LIMITS, CREDENTIAL_LIMITS, CREDENTIAL_QUOTAS)
    where it names the source, else what the source's platform declares in its field of the
    same name."""
    by_source: dict[str, Any] = {}
    for platform in registry(settings).values():
        by_source.update(getattr(platform, name))
    by_source.update(getattr(settings, name))
    return by_source


def source_limits(settings: Settings) -> dict[str, list[Limit]]:
    """Each source's limits: SOURCE_LIMITS where it names the source, else the defaults its
    platform declares (`Platform.source_limits`)."""
    return {name: [parse_limit(f"source:{name}:{spec}") for spec in specs]
            for name, specs in declared(settings, "source_limits").items() if specs}


def credential_quotas(settings: Settings) -> dict[str, str]:
    """Each source's per-credential quota spec: CREDENTIAL_QUOTAS where it names the source,
    else the default its platform declares (`Platform.credential_quotas`)."""
    return declared(settings, "credential_quotas")


def quota_limit(source: str, credential_id: str, spec: str) -> Limit:
    """One credential's quota: `quota_limit("youtube_data_api", "7", "10000/day@UTC")`."""
    return parse_limit(f"quota:{source}:{credential_id}:{spec}")
