"""The sandbox's YouTube Analytics figures: what a channel's owner sees, generated from the seed.

Every number depends only on (seed, channel, day) — or, for the breakdowns, on the channel and
the date range — so a test can compute the rows the API answers with these same functions:

    day_stats(world, channel, date(2025, 3, 1))       # views, watch time, subscribers, ... a day
    age_gender_shares(world, channel, start, end)     # viewerPercentage per (ageGroup, gender)
    country_views(world, channel, start, end)         # views per country over the range

A channel has figures from the day after it was created up to two days before the sandbox's
clock (the real API's data lag); days outside that have no row.
"""

import math
from dataclasses import dataclass
from datetime import date, timedelta

from sandbox import rng as r
from sandbox.youtube.world import Channel, World

AGE_GROUPS = ("age13-17", "age18-24", "age25-34", "age35-44", "age45-54", "age55-64", "age65-")
GENDERS = ("female", "male", "user_specified")
COUNTRY_POOL = ("US", "IN", "BR", "GB", "DE", "FR", "JP", "MX", "ID", "CA", "ES", "IT", "KR",
                "PH", "TR", "NL", "PL", "AU")
LAG_DAYS = 2
# The day metrics, in the API's names, with the DayStats field each comes from.
DAY_METRICS = {
    "views": "views", "estimatedMinutesWatched": "minutes", "averageViewDuration": "duration_s",
    "subscribersGained": "gained", "subscribersLost": "lost", "likes": "likes",
    "comments": "comments", "shares": "shares",
}


@dataclass(frozen=True)
class DayStats:
    views: int
    minutes: int
    duration_s: int  # average view duration, seconds
    gained: int
    lost: int
    likes: int
    comments: int
    shares: int


def first_day(channel: Channel) -> date:
    return channel.published_at.date() + timedelta(days=1)


def last_day(today: date) -> date:
    return today - timedelta(days=LAG_DAYS)


def days_with_data(channel: Channel, start: date, end: date, today: date) -> list[date]:
    """The days of [start, end] the channel has figures for, in order."""
    low, high = max(start, first_day(channel)), min(end, last_day(today))
    return [low + timedelta(days=n) for n in range((high - low).days + 1)]


def day_stats(world: World, channel: Channel, day: date) -> DayStats:
    """One day of a channel's figures: views around a fifth of its popularity, weekends
    busier, the rest as rates of the views."""
    def u(name: str) -> float:
        return r.unit(world.seed, "analytics", name, channel.channel_id, day.isoformat())

    weekend = 1.25 if day.weekday() >= 5 else 1.0
    views = int(channel.popularity * 0.2 * weekend * (0.4 + 1.2 * u("views")))
    duration = 45 + int(300 * u("duration"))
    gained = int(views * (0.0005 + 0.004 * u("gained")))
    return DayStats(
        views=views, minutes=views * duration // 60, duration_s=duration, gained=gained,
        lost=int(gained * (0.05 + 0.35 * u("lost"))),
        likes=int(views * (0.01 + 0.05 * u("likes"))),
        comments=int(views * (0.0005 + 0.004 * u("comments"))),
        shares=int(views * (0.0005 + 0.003 * u("shares"))),
    )


def totals(world: World, channel: Channel, days: list[date]) -> DayStats:
    """The figures summed over `days`; the average view duration weighted by views."""
    stats = [day_stats(world, channel, day) for day in days]
    views = sum(s.views for s in stats)
    minutes = sum(s.minutes for s in stats)
    return DayStats(views=views, minutes=minutes,
                    duration_s=round(minutes * 60 / views) if views else 0,
                    gained=sum(s.gained for s in stats), lost=sum(s.lost for s in stats),
                    likes=sum(s.likes for s in stats), comments=sum(s.comments for s in stats),
                    shares=sum(s.shares for s in stats))


def age_gender_shares(world: World, channel: Channel, start: date,
                      end: date) -> list[tuple[str, str, float]]:
    """(ageGroup, gender, viewerPercentage) with a share above zero, in the order of
    AGE_GROUPS × GENDERS; percentages with one decimal, adding up to 100 within rounding.
    The channel sets the shape, the range shifts it a little."""
    weights: list[tuple[str, str, float]] = []
    peak = 1 + int(r.unit(world.seed, "audience-peak", channel.channel_id) * 3)
    lean = r.unit(world.seed, "audience-lean", channel.channel_id)
    for index, age in enumerate(AGE_GROUPS):
        spread = math.exp(-((index - peak) ** 2) / 2.5)
        for gender in GENDERS:
            share = {"female": 1 - lean, "male": lean, "user_specified": 0.02}[gender]
            jitter = r.unit(world.seed, "audience", channel.channel_id, start.isoformat(),
                            end.isoformat(), age, gender)
            weights.append((age, gender, spread * share * (0.85 + 0.3 * jitter)))
    total = sum(w for _, _, w in weights)
    shares = [(age, gender, round(100 * w / total, 1)) for age, gender, w in weights]
    return [share for share in shares if share[2] > 0]


def country_weights(world: World, channel: Channel) -> list[tuple[str, float]]:
    """The channel's audience countries (its own country first when it has one)."""
    count = 6 + int(r.unit(world.seed, "countries", channel.channel_id) * 8)
    ranked = sorted(COUNTRY_POOL, key=lambda c: r.unit(world.seed, "country-rank",
                                                         channel.channel_id, c))
    if channel.country in ranked:
        ranked.remove(channel.country)
        ranked.insert(0, channel.country)
    return [(country, 1 / (rank + 1.5)) for rank, country in enumerate(ranked[:count])]


def country_views(world: World, channel: Channel, days: list[date]) -> list[tuple[str, int, int]]:
    """(country, views, estimatedMinutesWatched) over `days`: the range's totals split by the
    channel's country weights (largest remainder, so they add up exactly), biggest first."""
    whole = totals(world, channel, days)
    weights = country_weights(world, channel)
    views = _split(whole.views, [w for _, w in weights])
    minutes = _split(whole.minutes, [w for _, w in weights])
    rows = [(country, v, m) for (country, _), v, m in zip(weights, views, minutes) if v > 0]
    return sorted(rows, key=lambda row: (-row[1], row[0]))


def _split(total: int, weights: list[float]) -> list[int]:
    """`total` in parts proportional to `weights`, whole numbers adding up to `total`."""
    exact = [total * w / sum(weights) for w in weights]
    parts = [int(x) for x in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: parts[i] - exact[i])
    for i in by_remainder[:total - sum(parts)]:
        parts[i] += 1
    return parts
