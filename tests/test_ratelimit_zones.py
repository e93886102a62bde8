"""The limiter's time-zone days (YouTube's quota resets at midnight Pacific time, 23 or 25 hours
after the last on a daylight-saving change) and its read-only headroom, against real Redis."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.ratelimit import DAY_S, RateLimiter, parse_limit
from tests.test_ratelimit import limiter

__all__ = ["limiter"]

PACIFIC = "America/Los_Angeles"


@pytest.mark.parametrize(("at", "start", "hours"), [
    ("2026-11-30T10:00:00+00:00", "2026-11-30T08:00:00+00:00", 24),  # 02:00 PST
    ("2026-11-30T07:59:59+00:00", "2026-11-29T08:00:00+00:00", 24),  # still the 29th there
    ("2026-03-08T12:00:00+00:00", "2026-03-08T08:00:00+00:00", 23),  # clocks go forward
    ("2026-11-01T12:00:00+00:00", "2026-11-01T07:00:00+00:00", 25),  # clocks go back
])
def test_a_zoned_day_runs_from_midnight_to_midnight_there(at: str, start: str,
                                                          hours: int) -> None:
    quota = parse_limit(f"quota:key-1:10000/day@{PACIFIC}")
    assert (quota.zone, quota.aligned, str(quota)) == (
        PACIFIC, True, f"quota:key-1:10000/86400s@{PACIFIC}")
    window_us, mode = quota.mode(datetime.fromisoformat(at).timestamp())
    assert window_us == hours * 3600 * 1_000_000
    assert mode == f"Z{round(datetime.fromisoformat(start).timestamp() * 1e6)}"
    for bad in ("q:1/day@Mars/Olympus", "q:1/h@UTC", "q:1/2days@UTC"):
        with pytest.raises(ValueError):
            parse_limit(bad)


async def test_a_zoned_day_limit_frees_at_midnight_there(limiter: RateLimiter) -> None:
    quota = parse_limit(f"quota:key-1:5/day@{PACIFIC}")
    assert (await limiter.acquire([quota], cost=3)).granted
    refused = await limiter.acquire([quota], cost=3)
    midnight = datetime.now(ZoneInfo(PACIFIC)).replace(hour=0, minute=0, second=0,
                                                       microsecond=0) + timedelta(days=1)
    left = (midnight - datetime.now(UTC)).total_seconds()
    assert not refused.granted and abs(refused.wait_s - left) < 5
    [room] = await limiter.headroom([quota])
    assert (room.used, room.remaining) == (3, 2) and abs((room.frees_in_s or 0) - left) < 5
    assert limiter.key(quota).endswith(f":day@{PACIFIC}")


async def test_headroom_reads_what_acquires_took_without_taking(limiter: RateLimiter) -> None:
    minute, day, idle = parse_limit("x:5/min"), parse_limit("x:100/day"), parse_limit("y:2/s")
    assert all([(await limiter.acquire([minute, day])).granted for _ in range(3)])
    await limiter.acquire([day], cost=4)
    rooms = await limiter.headroom([minute, day, idle])
    assert [(r.used, r.remaining) for r in rooms] == [(3, 2), (7, 93), (0, 2)]
    assert 59 < (rooms[0].frees_in_s or 0) <= 60  # the oldest of the three expires
    assert 0 < (rooms[1].frees_in_s or 0) <= DAY_S  # the UTC day ends
    assert rooms[2].frees_in_s is None
    again = await limiter.headroom([minute, day, idle])
    assert [r.used for r in again] == [3, 7, 0]  # reading took nothing
    assert (await limiter.headroom([])) == []
