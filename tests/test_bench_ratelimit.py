"""`beat bench ratelimit` on a small scale against the real Redis (REDIS_URL), and the window
arithmetic its lines are computed with."""

import os
import uuid

import redis

from bench.ratelimit_bench import (
    GLOBAL,
    KEYS,
    PER_KEY,
    allowed_grants,
    excess,
    overshoot,
    overshoot_peak,
    permitted,
    run_ratelimit_bench,
)
from core.ratelimit import Limit, parse_limit

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
LINE_KEYS = {"system", "granted", "allowed", "overshoot", "utilization",
             "round_trips_per_acquire", "acquires_per_s"}
NOON_US = 20_000 * 86_400_000_000 + 43_200_000_000  # a UTC noon, in microseconds


def test_excess_counts_grants_beyond_any_sliding_window() -> None:
    two_per_second = Limit("x", 2, 1.0)
    assert excess([0, 10, 1_000_000, 1_000_010], two_per_second) == 0
    assert excess([0, 10, 999_999], two_per_second) == 1
    assert excess([0, 1, 2, 3], two_per_second) == 2


def test_excess_counts_aligned_windows_per_calendar_day() -> None:
    two_per_day = parse_limit("d:2/day")
    midnight = NOON_US + 43_200_000_000
    assert excess([midnight - 2, midnight - 1, midnight, midnight + 1], two_per_day) == 0
    assert excess([midnight, midnight + 1, midnight + 2], two_per_day) == 1


def test_permitted_is_limit_times_the_windows_a_run_can_fill() -> None:
    assert permitted(GLOBAL, NOON_US, 10.0) == 2000 * 10
    assert permitted(GLOBAL, NOON_US, 2.5) == 2000 * 3
    assert permitted(parse_limit("m:100/min"), NOON_US, 90.0) == 200
    before_midnight = NOON_US + 43_200_000_000 - 1_000_000
    assert permitted(parse_limit("d:5/day"), before_midnight, 2.0) == 10
    assert permitted(parse_limit("d:5/day"), NOON_US, 2.0) == 5
    assert allowed_grants(NOON_US, 10.0) == (20_000, str(GLOBAL))
    assert KEYS * permitted(PER_KEY, NOON_US, 10.0) > 20_000


def test_overshoot_checks_every_limit_of_the_stack() -> None:
    per_key_burst = [(NOON_US + i, 3) for i in range(PER_KEY.limit + 5)]
    assert overshoot(per_key_burst) == overshoot_peak(per_key_burst) == 5
    spread = [(NOON_US + i, i % KEYS) for i in range(GLOBAL.limit + 7)]
    assert overshoot(spread) == overshoot_peak(spread) == 7
    two_windows = [(NOON_US + i * 1_000_000 + j, j % KEYS) for i in range(2)
                   for j in range(GLOBAL.limit)]
    assert overshoot(two_windows) == overshoot_peak(two_windows) == 0
    # two full bursts 0.7 s apart (as fixed windows allow at an edge): one sliding second sees
    # 4000 global grants and 200 per key
    edges = [(NOON_US + start + j, j % KEYS) for start in (500_000, 1_200_000)
             for j in range(GLOBAL.limit)]
    key_excess = KEYS * (2 * GLOBAL.limit // KEYS - PER_KEY.limit)
    assert overshoot(edges) == GLOBAL.limit + key_excess
    assert overshoot_peak(edges) == GLOBAL.limit


def test_small_run_beat_never_overshoots_in_one_round_trip() -> None:
    prefix = f"bench:rl:{uuid.uuid4().hex[:10]}"
    lines = run_ratelimit_bench(REDIS_URL, processes=2, seconds=2.0, prefix=prefix)
    assert [line["system"] for line in lines] == ["beat", "asyncio-redis-rate-limit"]
    assert all(LINE_KEYS <= line.keys() for line in lines)
    beat, baseline = lines
    assert beat["overshoot"] == 0
    assert 0 < beat["granted"] <= beat["allowed"]
    assert beat["round_trips_per_acquire"] == 1
    assert beat["ceiling_acquires_per_s"] > 0
    assert beat["daily_budget_used"] >= beat["granted"]  # + grants in flight at the end
    assert baseline["round_trips_per_acquire"] > 1
    assert baseline["granted"] > 0 and baseline["acquires_per_s"] > 0
    client = redis.Redis.from_url(REDIS_URL)
    try:
        # Cleaned up (this run's keys: another run of the benchmark may share the server).
        assert not list(client.scan_iter(match=f"{prefix}*", count=1000))
    finally:
        client.close()
