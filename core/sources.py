"""Sources (strategy crawlers) and the director that tries them best-first per capability.

A source is one way to reach a platform (an official API, a keyless fallback); it knows which
capabilities it serves and turns every failure into a core.errors class. The director moves to
the next source on unavailable / rate-limited / credential errors, stops on permanent ones, and
stops asking a source that keeps failing (circuit breaker) for a cool-down period. When every
source was held back by a rate limit, full or unreachable, the task waits (RateLimited: no
attempt used) instead of failing.
"""

import json
import logging
import os
import random
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, NoReturn, Protocol, TypeVar

from redis.exceptions import RedisError

from core import metrics
from core.errors import (
    AllSourcesFailed,
    CredentialInvalid,
    NotVisible,
    Permanent,
    RateLimited,
    SourceUnavailable,
    Unsupported,
    kind_of,
)
from core.logcontext import bind_source
from core.ratelimit import RateLimiter, RateLimiterUnavailable, parse_limit

log = logging.getLogger(__name__)

T = TypeVar("T")
OK, CIRCUIT_OPEN = "ok", "circuit_open"  # upstream call outcomes besides the error kinds
LIMITER_UNREACHABLE = "rate limiter unreachable (Redis down or refusing): will run again"


class Source(Protocol):
    name: str
    capabilities: frozenset[str]
    needs_credential: bool

    async def call(self, capability: str, **params: Any) -> Any:
        """Fetch and parse; raise only core.errors classes."""
        ...


@dataclass(frozen=True, slots=True)
class Sourced(Generic[T]):
    value: T
    source: str


@dataclass
class _State:
    failures: int = 0
    open_until: float = 0.0


@dataclass
class CircuitBreaker:
    """Opens after `threshold` consecutive failures of a source; after `cooldown` seconds one
    trial call is let through (half-open), and a success closes it again."""

    threshold: int = 5
    cooldown: float = 30.0
    clock: Callable[[], float] = time.monotonic
    states: dict[str, _State] = field(default_factory=dict)

    def allow(self, name: str) -> bool:
        state = self.states.get(name)
        if state is None or state.failures < self.threshold:
            return True
        if self.clock() >= state.open_until:
            state.open_until = self.clock() + self.cooldown  # one trial per cool-down
            return True
        return False

    def success(self, name: str) -> bool:
        """Close the circuit; True when it was open (a change worth reporting)."""
        state = self.states.pop(name, None)
        return state is not None and state.failures >= self.threshold

    def failure(self, name: str) -> bool:
        """Count a failure; True when the circuit (re)opens (its first opening, or a failed
        trial call while half-open)."""
        state = self.states.setdefault(name, _State())
        state.failures += 1
        if state.failures == self.threshold:
            state.open_until = self.clock() + self.cooldown
            log.warning("circuit open for source %s after %d failures (%.0fs cool-down)",
                        name, state.failures, self.cooldown)
        return state.failures >= self.threshold

    def open_for(self, name: str) -> float:
        """Seconds until the next trial call of `name` (0 when its circuit is closed)."""
        state = self.states.get(name)
        if state is None or state.failures < self.threshold:
            return 0.0
        return max(0.0, state.open_until - self.clock())


class BreakerBoard(Protocol):
    """Where a process reports its circuits' changes, so that the dashboard (another process)
    can show them: breakers live in each worker process's memory."""

    async def report(self, source: str, failures: int, open_for_s: float) -> None: ...


BREAKER_STALE_S = 3600.0  # a report older than this says nothing about the source any more


@dataclass
class RedisBreakerBoard:
    """One Redis hash (`key`), a field per source: the last change any process reported, as
    JSON {failures, open_until (epoch s, 0 when closed), at, host, pid}. Written only when a
    circuit opens or closes; a Redis failure is logged and forgotten (the breaker works on)."""

    redis: Any
    key: str

    async def report(self, source: str, failures: int, open_for_s: float) -> None:
        now = time.time()
        entry = {"failures": failures, "open_until": now + open_for_s if open_for_s else 0.0,
                 "at": now, "host": socket.gethostname(), "pid": os.getpid()}
        try:
            await self.redis.hset(self.key, source, json.dumps(entry))
            await self.redis.expire(self.key, int(BREAKER_STALE_S))
        except (RedisError, OSError) as exc:  # reporting must never fail a call
            log.debug("could not report circuit of %s: %s", source, exc)


def breaker_key(prefix: str) -> str:
    """The hash the circuits are reported in, beside the rate limits (RATE_LIMIT_PREFIX)."""
    return f"{prefix}:breakers"


def breaker_board(limiter: Any) -> BreakerBoard | None:
    """The board of a director whose limiter is a Redis rate limiter (its client and prefix)."""
    if isinstance(limiter, RateLimiter):
        return RedisBreakerBoard(limiter.redis, breaker_key(limiter.prefix))
    return None


class Limits(Protocol):
    """What the director needs of a rate limiter (core.ratelimit.RateLimiter)."""

    async def wait_and_acquire(self, limits: Sequence[Any], cost: int = 1,
                               max_wait_s: float | None = None) -> Any: ...


class Director:
    """`limits[source name]` (and `target_limit` per source and target, for calls about one
    target) are acquired before each call of that source; a wait longer than `max_wait_s` counts
    as rate-limited (the next source is tried), and an unreachable limiter keeps the call from
    going out at all: that source is waited for like a full limit, about `limiter_retry_s`."""

    def __init__(self, sources: Sequence[Source], breaker: CircuitBreaker | None = None,
                 limiter: Limits | None = None, limits: Mapping[str, Sequence[Any]] | None = None,
                 max_wait_s: float = 10.0, target_limit: str | None = None,
                 limiter_retry_s: float = 5.0, board: BreakerBoard | None = None) -> None:
        self.sources = list(sources)
        self.breaker = breaker or CircuitBreaker()
        self.board = board or breaker_board(limiter)
        self.limiter = limiter
        self.limits = dict(limits or {})
        self.max_wait_s = max_wait_s
        self.target_limit = target_limit
        self.limiter_retry_s = limiter_retry_s

    def for_capability(self, capability: str) -> list[Source]:
        return [s for s in self.sources if capability in s.capabilities]

    async def fetch(self, capability: str, target: str | None = None,
                    **params: Any) -> Sourced[Any]:
        """The first source that answers; Permanent errors stop the search at once, except
        NotVisible (nothing seen, gone or hidden: the next sources are asked, and it is final
        only when every other source failed for good rather than resting or being down). A
        call about one `target` (a handle, a channel) also waits for that target's limit at
        the source."""
        candidates = self.for_capability(capability)
        if not candidates:
            raise AllSourcesFailed(f"no source can {capability}")
        failures: list[str] = []
        waits: list[float] = []
        unseen: list[NotVisible] = []
        unable = 0  # sources that cannot serve this call at all (no credential, unsupported)
        for source in candidates:
            if not self.breaker.allow(source.name):
                metrics.upstream_call(source.name, CIRCUIT_OPEN)
                failures.append(f"{source.name}: circuit open")
                continue
            try:
                value = await self._call(source, capability, target, params)
            except NotVisible as exc:
                self.breaker.success(source.name)
                unseen.append(exc)
                failures.append(f"{source.name}: {exc}")
                continue
            except Permanent:
                await self._succeeded(source.name)  # it answered; the answer is final
                raise
            except RateLimited as exc:
                waits.append(exc.retry_after)
                failures.append(f"{source.name}: {exc}")
                continue
            except RateLimiterUnavailable:
                # No call goes out unlimited; neither the source's fault nor the task's: a wait.
                waits.append(self.limiter_retry_s * random.uniform(0.5, 1.5))
                failures.append(f"{source.name}: {LIMITER_UNREACHABLE}")
                continue
            except (CredentialInvalid, Unsupported) as exc:
                unable += 1
                failures.append(f"{source.name}: {exc}")
                continue
            except SourceUnavailable as exc:
                if self.breaker.failure(source.name) and self.board is not None:
                    await self.board.report(source.name, self.breaker.states[source.name].failures,
                                            self.breaker.open_for(source.name))
                failures.append(f"{source.name}: {exc}")
                continue
            await self._succeeded(source.name)
            return Sourced(value, source.name)
        if unseen and len(failures) == len(unseen) + unable:
            raise unseen[0]  # no source that could tell more is only resting or down: as seen
        self._give_up(capability, failures, waits, len(unseen))

    async def _call(self, source: Source, capability: str, target: str | None,
                    params: dict[str, Any]) -> Any:
        """One call of `source` after its limits, with its name on every log line meanwhile;
        counted by outcome (`ok` or the error's kind) in the upstream metrics."""
        started = time.monotonic()
        try:
            with bind_source(source.name):
                await self._acquire(source.name, target)
                value = await source.call(capability, **params)
        except Exception as exc:
            metrics.upstream_call(source.name, kind_of(exc), time.monotonic() - started)
            raise
        metrics.upstream_call(source.name, OK, time.monotonic() - started)
        return value

    async def _succeeded(self, source: str) -> None:
        if self.breaker.success(source) and self.board is not None:
            await self.board.report(source, 0, 0.0)

    async def _acquire(self, source: str, target: str | None) -> None:
        stack = list(self.limits.get(source, ()))
        if target and self.target_limit:
            stack.append(parse_limit(f"target:{source}:{target}:{self.target_limit}"))
        if self.limiter is None or not stack:
            return
        await self.limiter.wait_and_acquire(stack, max_wait_s=self.max_wait_s)

    def _give_up(self, capability: str, failures: list[str], waits: list[float],
                 unseen: int = 0) -> NoReturn:
        """RateLimited when every source rested (or saw nothing while a better one rested),
        else AllSourcesFailed."""
        summary = f"{capability}: " + "; ".join(failures)
        log.warning("all sources failed for %s", summary)
        if waits and len(waits) + unseen == len(failures):
            raise RateLimited(min(waits), summary)
        raise AllSourcesFailed(summary)
