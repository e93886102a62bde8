"""`beat bench schedule --items N`: a simulated week of keeping a YouTube watchlist fresh
against the sandbox, Beat's refresh scheduler against a cron-like baseline, in one run.

The watchlist holds N videos and N/20 channels of the sandbox world with Zipf importances; the
daily quota (the sandbox key's, and Beat's CREDENTIAL_QUOTAS alike) covers 60% of what
refreshing every item once per target age costs. Time is simulated (bench/schedule_world.py):
each simulated hour the system under test enqueues refreshes, a real worker process runs them
against the sandbox, the refreshes done are stamped with the simulated time, and freshness is
sampled; at each simulated Pacific midnight everything is drained, the sandbox's own quota
counter is read, and the limiter's day is started again (Redis time cannot be moved). Every
system starts from the same steady state (each item last refreshed at a random moment within
its target age).

- beat: a scheduler tick an hour (core/scheduler, the code the maintenance leader runs), with
  on-demand channel refreshes (outside the watchlist) arriving every hour meanwhile;
- baseline: round-robin over every item at a fixed rate sized to the whole quota (50-video
  calls and one call a channel, as a cron job would), no on-demand calls."""

import asyncio
import json
import math
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import fmean
from typing import Any

import asyncpg
import httpx

from bench.schedule_world import (
    DAY_S,
    SEED,
    START,
    SimClock,
    Watchlist,
    initial_ages,
    sandbox_thread,
    watchlist,
)
from bench.scratch import RUN_PREFIX, beat_process, rounded, scratch_database
from core import db
from core.config import Settings
from core.queue import NewTask, Queue
from core.ratelimit import RateLimiter, quota_limit
from core.scheduler.tick import SCHEDULED_PRIORITY, Watchers, run_tick, watched_items
from core.validation import RESERVED_KEY_PREFIX
from core.watchlists import store
from core.watchlists.freshness import shares
from youtube.settings import SANDBOX_KEYS

SOURCE = "youtube_data_api"
KEY = SANDBOX_KEYS[0]
TICK_S = 3600
QUOTA_SHARE = 0.6
ON_DEMAND_SHARE = 0.1  # of the daily quota, in on-demand channel refreshes spread over the day
ON_DEMAND_ACCOUNT = "bench-on-demand"
ON_DEMAND_PRIORITY = 100
ACTIVE = "status IN ('PENDING', 'PROCESSING')"


@dataclass
class Week:
    """One system's simulated week."""

    system: str
    used_by_day: list[int] = field(default_factory=list)
    on_demand_by_day: list[int] = field(default_factory=list)
    weighted: list[float] = field(default_factory=list)  # sampled every simulated hour
    top20: list[float] = field(default_factory=list)
    enqueued: int = 0
    duplicates: int = 0  # refreshes enqueued for an item whose refresh was in flight
    in_flight_max: int = 0  # most due items left out as in flight at one tick
    on_demand_sent: int = 0
    on_demand_failed: int = 0
    failed: dict[str, int] = field(default_factory=dict)  # tasks not done, by status and kind

    def figures(self, quota: int) -> dict[str, Any]:
        return {"quota_used": max(self.used_by_day), "quota_allowed": quota,
                "quota_used_share": max(self.used_by_day) / quota,
                "quota_used_by_day": self.used_by_day,
                "fresh_share_weighted": fmean(self.weighted),
                "fresh_share_top20": fmean(self.top20), "enqueued": self.enqueued,
                "failed": self.failed}


@dataclass
class Bench:
    settings: Settings
    pool: asyncpg.Pool
    limiter: RateLimiter
    client: httpx.AsyncClient
    clock: SimClock
    sandbox_url: str
    watch: Watchlist
    quota: int
    days: int
    drain_s: float
    watchers: Watchers
    top20: set[tuple[str, str]]
    credential: int = 0
    on_demand_credit: float = 0.0
    on_demand_sent: int = 0

    @property
    def quota_spec(self) -> str:
        return f"{self.quota}/day@America/Los_Angeles"

    async def reset(self) -> None:
        """The same start for every system: no tasks, the initial ages, a fresh quota day."""
        await self.pool.execute("TRUNCATE scrape_request_log, youtube_post, youtube_account, "
                                "post_log, profile_log, event_outbox")
        ages = initial_ages(self.watch.items, START)
        for kind, table, column in (("video", "youtube_post", "video_id"),
                                    ("profile", "youtube_account", "channel_id")):
            rows = [(ident, at) for k, ident, at in ages if k == kind]
            await self.pool.executemany(
                f"INSERT INTO {table} ({column}, refreshed_at) VALUES ($1, $2)", rows)
        self.clock.set(START)
        self.on_demand_credit, self.on_demand_sent = 0.0, 0
        await self.client.post(f"{self.sandbox_url}/_sandbox/quota",
                               json={"key": KEY, "reset": True})
        await self.new_limiter_day()

    async def new_limiter_day(self) -> None:
        await self.limiter.redis.delete(
            self.limiter.key(quota_limit(SOURCE, str(self.credential), self.quota_spec)))

    async def drain(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while await self.pool.fetchval(f"SELECT count(*) FROM scrape_request_log WHERE {ACTIVE}"):
            if time.monotonic() > deadline:
                return
            await asyncio.sleep(0.02)

    async def stamp(self, now: datetime) -> None:
        """Refreshes done since the last stamp (real timestamps, after the simulated span)
        happened at the simulated `now`."""
        after = START + timedelta(days=self.days + 1)
        for table in ("youtube_post", "youtube_account"):
            await self.pool.execute(f"UPDATE {table} SET refreshed_at = $1 "
                                    "WHERE refreshed_at > $2", now, after)

    async def sample(self, week: Week, now: datetime) -> None:
        items = await watched_items(self.pool, self.watchers)
        week.weighted.append(shares(items, now)[2])
        top = [i for i in items if (i.kind, i.id) in self.top20]
        week.top20.append(sum(i.fresh(now) for i in top) / len(top))

    async def sandbox_used(self) -> int:
        usage = (await self.client.get(f"{self.sandbox_url}/_sandbox/usage")).json()
        return int(usage["quota"]["keys"][KEY]["used"])

    async def on_demand(self) -> None:
        """This hour's on-demand refreshes: ON_DEMAND_SHARE of the quota a day, one unit each."""
        self.on_demand_credit += self.quota * ON_DEMAND_SHARE * TICK_S / DAY_S
        picked = set()
        while self.on_demand_credit >= 1:
            self.on_demand_credit -= 1
            picked.add(self.watch.on_demand[self.on_demand_sent % len(self.watch.on_demand)])
            self.on_demand_sent += 1
        if not picked:
            return
        await Queue(self.pool).enqueue_many([NewTask(
            flow="refresh_yt_profiles", params={"channel_ids": [c]}, platform="YOUTUBE",
            priority=ON_DEMAND_PRIORITY, account_id=ON_DEMAND_ACCOUNT,
            idempotency_key=f"{RESERVED_KEY_PREFIX}yt:profile:{c}") for c in sorted(picked)])


Tick = Callable[[Bench, Week, datetime], Awaitable[None]]


async def scheduler_tick(bench: Bench, week: Week, now: datetime) -> None:
    active = {r["idempotency_key"] for r in await bench.pool.fetch(
        f"SELECT idempotency_key FROM scrape_request_log WHERE {ACTIVE}")}
    plan, created = await run_tick(bench.pool, bench.settings, bench.limiter, now,
                                   bench.watchers)
    chosen = {RESERVED_KEY_PREFIX + c.refresh.key for c in plan.chosen}
    week.duplicates += len(chosen & active) + len(chosen) - created
    week.in_flight_max = max([week.in_flight_max,
                              *(p.in_flight for p in plan.platforms.values())])
    week.enqueued += created


def round_robin(bench: Bench) -> Tick:
    """The baseline: calls in a fixed cycle (50 videos, or one channel, a call), as many an
    hour as the quota allows spread evenly over the day."""
    videos = [i for i in bench.watch.items if i.kind == "video"]
    channels = [i for i in bench.watch.items if i.kind == "profile"]
    calls = [videos[n:n + 50] for n in range(0, len(videos), 50)] + [[c] for c in channels]
    random.Random(SEED).shuffle(calls)  # one fixed order, videos and channels mixed
    state = {"next": 0, "credit": 0.0}
    lookups = bench.watchers.lookups["youtube"]
    assert lookups.link is not None
    link = lookups.link

    async def tick(bench: Bench, week: Week, now: datetime) -> None:
        state["credit"] += bench.quota * TICK_S / DAY_S
        tasks = []
        while state["credit"] >= 1:
            state["credit"] -= 1
            call = calls[int(state["next"]) % len(calls)]
            state["next"] += 1
            for item in call:
                refresh = link(item.kind, item.id).refresh
                tasks.append(NewTask(flow=refresh.flow, params=refresh.params,
                                     platform="YOUTUBE", priority=SCHEDULED_PRIORITY,
                                     idempotency_key=RESERVED_KEY_PREFIX + refresh.key))
        if tasks:
            week.enqueued += sum(new for _, new in await Queue(bench.pool).enqueue_many(tasks))

    return tick


async def run_week(bench: Bench, system: str, tick: Tick, on_demand: bool) -> Week:
    await bench.reset()
    week = Week(system)
    for hour in range(bench.days * 24):
        now = bench.clock.now()
        if on_demand:
            await bench.on_demand()
        await tick(bench, week, now)
        await bench.drain(bench.drain_s)
        await bench.stamp(now)
        await bench.sample(week, now)
        if hour % 24 == 23:  # the next hour is the next day in Los Angeles
            await end_of_day(bench, week, now)
        bench.clock.advance(TICK_S)
    week.failed = {f"{r['status']}:{r['error_kind']}": r["tasks"] for r in await bench.pool.fetch(
        "SELECT status, error_kind, count(*) AS tasks FROM scrape_request_log "
        "WHERE status <> 'COMPLETE' GROUP BY 1, 2")}
    week.on_demand_sent = bench.on_demand_sent
    week.on_demand_failed = await bench.pool.fetchval(
        "SELECT count(*) FROM scrape_request_log WHERE account_id = $1 "
        "AND status <> 'COMPLETE'", ON_DEMAND_ACCOUNT)
    return week


async def end_of_day(bench: Bench, week: Week, now: datetime) -> None:
    """Drain (every call of the day is made within it), read the sandbox's quota counter and
    the on-demand refreshes done, and start the limiter's next day."""
    await bench.drain(300)
    await bench.stamp(now)
    week.used_by_day.append(await bench.sandbox_used())
    done = await bench.pool.fetchval(
        "SELECT count(*) FROM scrape_request_log WHERE account_id = $1 AND status = "
        "'COMPLETE'", ON_DEMAND_ACCOUNT)
    week.on_demand_by_day.append(done - sum(week.on_demand_by_day))
    await bench.new_limiter_day()


def line(bench: Bench, beat: Week, baseline: Week | None, seconds: float) -> dict[str, Any]:
    reserve = math.ceil(bench.quota * bench.settings.scheduler_reserve)
    found = {"system": "beat", "items": len(bench.watch.items), "days": bench.days,
             "need_per_day": bench.watch.need_per_day, **beat.figures(bench.quota),
             "reserve": reserve,
             "scheduled_used_by_day": [u - o for u, o in zip(beat.used_by_day,
                                                             beat.on_demand_by_day,
                                                             strict=True)],
             "on_demand_sent": beat.on_demand_sent, "on_demand_by_day": beat.on_demand_by_day,
             "on_demand_failed": beat.on_demand_failed, "duplicates": beat.duplicates,
             "in_flight_max": beat.in_flight_max}
    if baseline is not None:
        found.update({f"baseline_{k}": v for k, v in baseline.figures(bench.quota).items()})
        found["weighted_ratio_to_baseline"] = \
            found["fresh_share_weighted"] / found["baseline_fresh_share_weighted"]
    return rounded({**found, "seconds": seconds})


def run_schedule_bench(settings: Settings, items: int, days: int = 7, latency_ms: float = 0.0,
                       drain_s: float = 10.0, baseline: bool = True) -> dict[str, Any]:
    """One line: Beat's week and (unless `baseline` is False) the baseline's, in one run."""
    assert settings.database_url and settings.redis_url
    watch = watchlist(items, max(1, items // 20), on_demand=20, video_max_age_s=DAY_S,
                      channel_max_age_s=DAY_S)
    quota = math.ceil(watch.need_per_day * QUOTA_SHARE)
    clock = SimClock()
    spec = f"{quota}/day@America/Los_Angeles"
    with scratch_database(settings.database_url) as url, \
            sandbox_thread(clock, {KEY: quota}, watch.quiet_channels) as sandbox_url:
        env = {"DATABASE_URL": url, "REDIS_URL": settings.redis_url, "SANDBOX_URL": sandbox_url,
               "YOUTUBE_API_KEYS": KEY, "CREDENTIAL_QUOTAS": json.dumps({SOURCE: spec}),
               "SCHEDULER_INTERVAL": "0", "FLOW_OVERRIDES": json.dumps({
                   "refresh_yt_posts": {"processes": 1, "concurrency": 200},
                   "refresh_yt_profiles": {"processes": 1, "concurrency": 20}})}
        own = settings.model_copy(update={
            "database_url": url, "rate_limit_prefix": RUN_PREFIX, "sandbox_url": sandbox_url,
            "credential_quotas": {SOURCE: spec}, "scheduler_interval": TICK_S})
        with beat_process("worker", "--flows", "refresh_yt_posts,refresh_yt_profiles", **env):
            return asyncio.run(_measure(own, clock, sandbox_url, watch, quota, days,
                                        latency_ms, drain_s, baseline))


async def _measure(settings: Settings, clock: SimClock, sandbox_url: str, watch: Watchlist,
                   quota: int, days: int, latency_ms: float, drain_s: float,
                   baseline: bool) -> dict[str, Any]:
    assert settings.database_url and settings.redis_url
    pool = await db.create_pool(settings.database_url, max_size=4)
    limiter = RateLimiter.from_url(settings.redis_url, prefix=settings.rate_limit_prefix)
    ranked = sorted(watch.items, key=lambda i: i.importance, reverse=True)
    top20 = {(i.kind, i.id) for i in ranked[:max(1, len(ranked) // 5)]}
    try:
        async with httpx.AsyncClient(timeout=60) as client:
            bench = Bench(settings, pool, limiter, client, clock, sandbox_url, watch, quota,
                          days, drain_s, Watchers.of(settings), top20)
            await _prepare(bench, latency_ms)
            started = time.perf_counter()
            beat = await run_week(bench, "beat", scheduler_tick, on_demand=True)
            other = await run_week(bench, "baseline", round_robin(bench), on_demand=False) \
                if baseline else None
            return line(bench, beat, other, time.perf_counter() - started)
    finally:
        await limiter.aclose()
        await pool.close()


async def _prepare(bench: Bench, latency_ms: float) -> None:
    """The watchlist, the worker's imported key, and the sandbox's latency."""
    await store.create(bench.pool, "bench")
    for start in range(0, len(bench.watch.items), 10_000):
        await store.add_items(bench.pool, "bench", bench.watch.items[start:start + 10_000])
    deadline = time.monotonic() + 60
    while not (found := await bench.pool.fetchval(
            "SELECT id FROM credential WHERE source = $1", SOURCE)):
        if time.monotonic() > deadline:
            raise RuntimeError("the worker did not import the sandbox key")
        await asyncio.sleep(0.1)
    bench.credential = int(found)
    if latency_ms:
        await bench.client.post(f"{bench.sandbox_url}/_sandbox/faults",
                                json={"prefix": "/youtube", "latency_ms": latency_ms})
