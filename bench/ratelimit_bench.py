"""`beat bench ratelimit`: processes hammer one limit stack through Beat's limiter and through
nested asyncio-redis-rate-limit limiters in the same run, next to a do-nothing script (the
ceiling)."""

import asyncio
import math
import multiprocessing
import random
import time
import traceback
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterable
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from typing import Any, ClassVar

import redis
from asyncio_redis_rate_limit import RateLimiter as NestedLimiter
from asyncio_redis_rate_limit import RateLimitError, RateSpec
from redis.asyncio import Redis
from redis.asyncio.connection import Connection

from core.ratelimit import DAY_S, Limit, RateLimiter, limit_key, parse_limit

GLOBAL = parse_limit("bench:global:2000/s")
PER_KEY = parse_limit("bench:key:{k}:110/s")
DAILY = parse_limit("bench:global:1000000/day")
KEYS = 20
CONCURRENCY = 16  # acquires in flight per process
TRIVIAL_SCRIPT = "return {1, 0, 0, 0}"  # same reply shape as Beat's script, no work
# (what runs, share of `seconds`): the ceiling brackets Beat, so load drifting on a shared
# machine does not favour either side.
PHASES = (("ceiling", 0.5), ("beat", 1.0), ("ceiling", 0.5), ("asyncio-redis-rate-limit", 1.0))
Attempt = Callable[[int], Awaitable[int | None]]  # key index -> grant time (us) or None
Grant = tuple[int, int]  # (time in us, key index)


class CountingConnection(Connection):
    """A connection that counts what it writes: one write = one round trip (a pipeline too)."""

    sends: ClassVar[int] = 0

    async def send_packed_command(self, command: bytes | str | Iterable[bytes],
                                  check_health: bool = True) -> None:
        CountingConnection.sends += 1
        await super().send_packed_command(command, check_health)


def run_ratelimit_bench(redis_url: str, processes: int = 8, seconds: float = 10.0,
                        prefix: str | None = None) -> list[dict[str, Any]]:
    """One line per system; Beat's line also has the trivial script's rate (the ceiling).

    The stack: global 2000/s, 20 keys x 110/s, 10^6/day. The global limit binds (the keys
    together allow 2200/s), but with keys drawn at random several keys fill up in every window:
    Beat then hands the global budget to the other keys, where a nested limiter has already
    spent it. Every loop retries at once when refused, so `acquires_per_s` is the limiter's own
    decision rate. Every grant carries Redis time (for the baseline, a TIME inside its innermost
    MULTI) and is checked against every window of every limit (`overshoot`); `granted` counts
    grants within the run [start, start + seconds), `allowed` is what the binding limit permits
    there, and `daily_budget_used` is the daily counter afterwards (the baseline counts every
    attempt that reached it). Its Redis keys (under `prefix`, default a new `bench:rl:…`) are
    deleted at the end.
    """
    prefix = prefix or f"bench:rl:{uuid.uuid4().hex[:10]}"
    try:
        results = _run_workers(redis_url, prefix, processes, seconds)
        counters = budget_counters(redis_url, prefix)
    finally:
        _delete_keys(redis_url, prefix)
    lines = [_line(system, results[system], processes, seconds) | {
        "daily_budget_used": counters[system]} for system in ("beat", "asyncio-redis-rate-limit")]
    lines[0]["ceiling_acquires_per_s"] = round(results["ceiling"]["attempts"] / seconds, 1)
    return lines


def _line(system: str, result: dict[str, Any], processes: int,
          seconds: float) -> dict[str, Any]:
    grants: list[Grant] = result["grants"]
    start_us, end_us = result["start_us"], result["start_us"] + round(seconds * 1e6)
    granted = sum(1 for at, _ in grants if start_us <= at < end_us)
    allowed, binding = allowed_grants(start_us, seconds)
    return {"system": system, "processes": processes, "seconds": seconds,
            "granted": granted, "allowed": allowed, "binding_limit": binding,
            "overshoot": overshoot(grants), "overshoot_peak": overshoot_peak(grants),
            "utilization": round(granted / allowed, 4),
            "round_trips_per_acquire": round(result["sends"] / max(1, result["attempts"]), 3),
            "acquires_per_s": round(result["attempts"] / seconds, 1)}


def permitted(limit: Limit, start_us: int, seconds: float) -> int:
    """The most grants `limit` allows in [start, start + seconds): limit x ceil(S/W) for a
    sliding window, limit x the aligned windows the run touches for an aligned one."""
    if limit.aligned:
        end_us = start_us + round(seconds * 1e6) - 1
        return limit.limit * (end_us // limit.window_us - start_us // limit.window_us + 1)
    return limit.limit * math.ceil(seconds / limit.window_s - 1e-9)


def allowed_grants(start_us: int, seconds: float) -> tuple[int, str]:
    """What the whole stack allows over the run: the binding (smallest) of its limits."""
    options = {str(GLOBAL): permitted(GLOBAL, start_us, seconds),
               f"{KEYS} x {PER_KEY}": KEYS * permitted(PER_KEY, start_us, seconds),
               str(DAILY): permitted(DAILY, start_us, seconds)}
    binding = min(options, key=lambda name: options[name])
    return options[binding], binding


def excess(times: list[int], limit: Limit) -> int:
    """Grants beyond `limit` in any of its windows, for sorted grant times (us)."""
    if limit.aligned:
        per_window = Counter(at // limit.window_us for at in times)
        return sum(max(0, count - limit.limit) for count in per_window.values())
    n, window = limit.limit, limit.window_us
    return sum(1 for i in range(n, len(times)) if times[i] - times[i - n] < window)


def most_in_a_window(times: list[int], limit: Limit) -> int:
    """The most grants in one window of `limit` (sliding: [t, t + W) for any t), sorted times."""
    if limit.aligned:
        return max(Counter(at // limit.window_us for at in times).values(), default=0)
    most, first = 0, 0
    for last, at in enumerate(times):
        while at - times[first] >= limit.window_us:
            first += 1
        most = max(most, last - first + 1)
    return most


def series(grants: list[Grant]) -> list[tuple[list[int], Limit]]:
    """Sorted grant times for each limit of the stack: global, daily, and each key's."""
    per_key: dict[int, list[int]] = defaultdict(list)
    for at, key in grants:
        per_key[key].append(at)
    times = sorted(at for at, _ in grants)
    return [(times, GLOBAL), (times, DAILY),
            *((sorted(ts), PER_KEY) for ts in per_key.values())]


def overshoot(grants: list[Grant]) -> int:
    """Grants beyond any limit of the stack in any window (sliding: every window, anywhere)."""
    return sum(excess(times, limit) for times, limit in series(grants))


def overshoot_peak(grants: list[Grant]) -> int:
    """The worst single window: how far its grants went past its limit (0 if none did)."""
    return max(0, *(most_in_a_window(times, limit) - limit.limit
                    for times, limit in series(grants)))


def _run_workers(url: str, prefix: str, processes: int,
                 seconds: float) -> dict[str, dict[str, Any]]:
    ctx = multiprocessing.get_context("spawn")
    outbox: Queue[tuple[str, Any]] = ctx.Queue()
    go = [ctx.Event() for _ in PHASES]
    starts = ctx.Array("d", len(PHASES))
    workers = [ctx.Process(target=_worker, args=(url, prefix, seconds, outbox, go, starts),
                           daemon=True) for _ in range(processes)]
    for worker in workers:
        worker.start()
    try:
        _collect(outbox, processes, "ready", timeout=120)
        results: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for i, (phase, _) in enumerate(PHASES):
            starts[i] = time.time() + 0.2
            go[i].set()
            results[phase] += _collect(outbox, processes, "result", seconds + 60)
        return {phase: _merge(parts) for phase, parts in results.items()}
    finally:
        for worker in workers:
            worker.join(timeout=10)
            if worker.is_alive():
                worker.kill()


def _collect(outbox: "Queue[tuple[str, Any]]", count: int, kind: str,
             timeout: float) -> list[Any]:
    payloads = []
    for _ in range(count):
        got, payload = outbox.get(timeout=timeout)
        if got != kind:
            raise RuntimeError(f"ratelimit bench worker failed: {payload}")
        payloads.append(payload)
    return payloads


def _merge(results: list[dict[str, Any]]) -> dict[str, Any]:
    return {"attempts": sum(r["attempts"] for r in results),
            "sends": sum(r["sends"] for r in results),
            "grants": [grant for r in results for grant in r["grants"]],
            "start_us": results[0]["start_us"]}


def _worker(url: str, prefix: str, seconds: float, outbox: "Queue[tuple[str, Any]]",
            go: list[Event], starts: Any) -> None:
    import uvloop

    try:
        uvloop.run(_work(url, prefix, seconds, outbox, go, starts))
    except Exception:  # noqa: BLE001 - the parent reports it and stops the run
        outbox.put(("error", traceback.format_exc(limit=-3)))


async def _work(url: str, prefix: str, seconds: float, outbox: "Queue[tuple[str, Any]]",
                go: list[Event], starts: Any) -> None:
    client = Redis.from_url(url, connection_class=CountingConnection)
    limiter = RateLimiter(client, prefix=prefix)
    stacks = [[DAILY, GLOBAL, PER_KEY.bind(k=str(key))] for key in range(KEYS)]
    attempts = {"ceiling": _ceiling(client, limiter, stacks), "beat": _beat(limiter, stacks),
                "asyncio-redis-rate-limit": _nested(client, f"{prefix}:arrl:")}
    await limiter.peek(stacks[0])  # loads the script
    await asyncio.gather(*(attempts["ceiling"](0) for _ in range(CONCURRENCY)))  # connections
    outbox.put(("ready", None))
    for i, (phase, share) in enumerate(PHASES):
        await asyncio.to_thread(go[i].wait)
        outbox.put(("result", await _hammer(attempts[phase], starts[i], seconds * share)))
    await client.aclose()


async def _hammer(attempt: Attempt, start: float, seconds: float) -> dict[str, Any]:
    """CONCURRENCY loops calling `attempt` on random keys from `start` for `seconds`."""
    await asyncio.sleep(max(0.0, start - time.time()))
    stop, sends = start + seconds, CountingConnection.sends
    grants: list[Grant] = []
    calls = 0

    async def loop(rng: random.Random) -> None:
        nonlocal calls
        while time.time() < stop:
            key = rng.randrange(KEYS)
            at = await attempt(key)
            calls += 1
            if at is not None:
                grants.append((at, key))

    await asyncio.gather(*(loop(random.Random()) for _ in range(CONCURRENCY)))
    return {"attempts": calls, "sends": CountingConnection.sends - sends, "grants": grants,
            "start_us": round(start * 1e6)}


def _ceiling(client: Redis, limiter: RateLimiter, stacks: list[list[Limit]]) -> Attempt:
    """The same EVALSHA request as Beat's (keys, args, reply shape) to a script doing nothing."""
    script = client.register_script(TRIVIAL_SCRIPT)
    encoded = [limiter.encode(stack) for stack in stacks]

    async def attempt(key: int) -> None:
        keys, args = encoded[key]
        await script(keys=keys, args=args)

    return attempt


def _beat(limiter: RateLimiter, stacks: list[list[Limit]]) -> Attempt:
    async def attempt(key: int) -> int | None:
        decision = await limiter.acquire(stacks[key])
        return decision.server_time_us if decision.granted else None

    return attempt


def _nested(client: Redis, cache_prefix: str) -> Attempt:
    """The baseline as the seed uses it: daily, then global, then per key, nested."""
    daily = RateSpec(DAILY.limit, DAY_S)
    second = RateSpec(GLOBAL.limit, int(GLOBAL.window_s))
    per_key = RateSpec(PER_KEY.limit, int(PER_KEY.window_s))

    async def attempt(key: int) -> int | None:
        innermost = TimedNestedLimiter(f"key:{key}", per_key, client, cache_prefix=cache_prefix)
        try:
            async with (NestedLimiter("daily", daily, client, cache_prefix=cache_prefix),
                        NestedLimiter("global", second, client, cache_prefix=cache_prefix),
                        innermost):
                return innermost.granted_at_us
        except RateLimitError:
            return None

    return attempt


class TimedNestedLimiter(NestedLimiter):
    """The baseline's own INCR + EXPIRE NX transaction plus a TIME in the same MULTI (no extra
    round trip), so the baseline's grants carry Redis time like Beat's."""

    __slots__ = ("granted_at_us",)
    granted_at_us: int

    async def _run_pipeline(self, cache_key: str, pipeline: Any) -> int:
        seconds = self._rate_spec.seconds
        rate, _, (now_s, now_us) = await pipeline.incr(cache_key).expire(
            cache_key, seconds, nx=True).time().execute()
        self.granted_at_us = now_s * 1_000_000 + now_us
        return int(rate)


def budget_counters(url: str, prefix: str) -> dict[str, int]:
    """The daily counter of each system after the run: Beat's counts grants, the baseline's
    counts every attempt that reached it (it counts first and checks after)."""
    client = redis.Redis.from_url(url)
    spec, cache_prefix = RateSpec(DAILY.limit, DAY_S), f"{prefix}:arrl:"
    baseline = NestedLimiter("daily", spec, client, cache_prefix=cache_prefix)
    baseline_key = baseline._make_cache_key("daily", spec, cache_prefix)  # the library's scheme
    try:
        beat_used = client.hget(limit_key(DAILY, prefix), "used")
        baseline_used = client.get(baseline_key)
        return {"beat": int(beat_used or 0),
                "asyncio-redis-rate-limit": int(baseline_used or 0)}
    finally:
        client.close()


def _delete_keys(url: str, prefix: str) -> None:
    client = redis.Redis.from_url(url)
    try:
        batch: list[bytes] = []
        for key in client.scan_iter(match=f"{prefix}:*", count=1000):
            batch.append(key)
            if len(batch) >= 500:
                client.delete(*batch)
                batch.clear()
        if batch:
            client.delete(*batch)
    finally:
        client.close()
