"""A profile's metric over time, read from its snapshots (profile_log): one value per bucket
(hour, day or week; the last snapshot in the bucket, None when there is none, never 0), and
its growth over 1, 7 and 30 days. Which metrics exist is the platform's to say
(`Platform.profile_metrics`)."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from core import sqlfile
from core.platforms import Platform

SQL = sqlfile.load(Path(__file__).parent.parent / "sql" / "timeseries.sql")
Interval = Literal["hour", "day", "week"]
INTERVALS: dict[str, timedelta] = {"hour": timedelta(hours=1), "day": timedelta(days=1),
                                   "week": timedelta(weeks=1)}
MAX_BUCKETS = 5000
GROWTH_DAYS = (1, 7, 30)
DEFAULT_SPAN = timedelta(days=30)


class UnknownMetric(ValueError):
    """The platform's snapshots carry no such metric; str() names those they carry."""


class TooManyBuckets(ValueError):
    """The range holds more buckets than one answer may (a wider interval fits)."""


class NoSnapshots(LookupError):
    """Nothing is stored about this profile."""


def number(value: float | None) -> int | float | None:
    """Counts come back as whole numbers; a ratio keeps its fraction."""
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


@dataclass(frozen=True, slots=True)
class Growth:
    days: int
    value: int | float | None
    previous: int | float | None
    change: int | float | None
    change_pct: float | None

    def line(self) -> dict[str, Any]:
        return {"days": self.days, "value": self.value, "previous": self.previous,
                "change": self.change, "change_pct": self.change_pct}


def stored_metric(platform: Platform, metric: str) -> str:
    key = platform.snapshot_metric(metric)
    if key is None:
        known = ", ".join(platform.metric_names()) or "none"
        raise UnknownMetric(f"{platform.api_name} profiles have no metric {metric!r} "
                            f"(known: {known})")
    return key


def check_range(start: datetime, end: datetime, interval: Interval) -> None:
    if end <= start:
        raise ValueError("`to` must come after `from`")
    if (end - start) / INTERVALS[interval] > MAX_BUCKETS:
        raise TooManyBuckets(f"more than {MAX_BUCKETS} {interval} buckets from {start:%Y-%m-%d}"
                             f" to {end:%Y-%m-%d}: ask for a wider interval or a shorter range")


async def series(pool: Any, platform: Platform, profile_id: str, metric: str,
                 start: datetime, end: datetime, interval: Interval) -> list[dict[str, Any]]:
    """[{t, value, snapshots}] for each bucket of the range, oldest first."""
    key = stored_metric(platform, metric)
    check_range(start, end, interval)
    await _check_profile(pool, platform, profile_id)
    rows = await pool.fetch(SQL["buckets"], platform.api_name, profile_id, INTERVALS[interval],
                            start, end, key)
    return [{"t": r["bucket"], "value": number(r["value"]), "snapshots": r["snapshots"]}
            for r in rows]


async def growth(pool: Any, platform: Platform, profile_id: str, metric: str, at: datetime,
                 periods: tuple[int, ...] = GROWTH_DAYS) -> list[Growth]:
    """The metric's absolute and relative change over each period ending at `at`: the last
    snapshot at or before `at` against the last one at or before `at` minus the period."""
    key = stored_metric(platform, metric)
    await _check_profile(pool, platform, profile_id)
    now = await _value_at(pool, platform, profile_id, key, at)
    found = []
    for days in periods:
        before = await _value_at(pool, platform, profile_id, key, at - timedelta(days=days))
        change = None if now is None or before is None else now - before
        pct = None if change is None or not before else round(100.0 * change / before, 4)
        found.append(Growth(days, number(now), number(before), number(change), pct))
    return found


async def read_timeseries(pool: Any, platform: Platform, profile_id: str, metric: str,
                          start: datetime | None, end: datetime | None,
                          interval: Interval) -> dict[str, Any]:
    """The answer of GET /profiles/{platform}/{id}/timeseries and `beat timeseries`: the
    buckets from `start` (default: `end` minus 30 days) to `end` (default: now), and the
    growth over 1, 7 and 30 days before `end`."""
    end_at = as_utc(end) if end else datetime.now(UTC)
    start_at = as_utc(start) if start else end_at - DEFAULT_SPAN
    points = await series(pool, platform, profile_id, metric, start_at, end_at, interval)
    found = await growth(pool, platform, profile_id, metric, end_at)
    return {"platform": platform.api_name, "profile_id": profile_id, "metric": metric,
            "interval": interval, "from": start_at, "to": end_at, "points": points,
            "growth": [g.line() for g in found]}


def as_utc(moment: datetime) -> datetime:
    """A moment without a zone is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


async def _value_at(pool: Any, platform: Platform, profile_id: str, key: str,
                    at: datetime) -> float | None:
    row = await pool.fetchrow(SQL["value_at"], platform.api_name, profile_id, key, at)
    return None if row is None else row["value"]


async def _check_profile(pool: Any, platform: Platform, profile_id: str) -> None:
    if not await pool.fetchval(SQL["has_snapshots"], platform.api_name, profile_id):
        raise NoSnapshots(f"no snapshots of {platform.api_name} profile {profile_id!r} are "
                          "stored (refresh it first)")
