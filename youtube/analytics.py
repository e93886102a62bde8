"""Channel owners' analytics, fetched through the director's YouTube Analytics source and kept in
tables of their own: figures per day, the audience by age group × gender and by country over a
period, and the owner figures of a channel's insights (last 28 days).

The API answers viewerPercentage only by age group and gender; the country breakdown is views
and watch time per country, its `viewer_percentage` each country's share of those views.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from core import sqlfile
from core.errors import NotAuthorised
from core.sources import Director
from youtube.models import ANALYTICS
from youtube.sources.analytics import Report

SQL = Path(__file__).with_name("sql") / "analytics.sql"
DAY_METRICS = ("views", "estimatedMinutesWatched", "averageViewDuration", "subscribersGained",
               "subscribersLost", "likes", "comments", "shares")
DAILY_COLUMNS = ("day", "views", "estimated_minutes_watched", "average_view_duration_s",
                 "subscribers_gained", "subscribers_lost", "likes", "comments", "shares")
DEMOGRAPHIC_COLUMNS = ("breakdown", "age_group", "gender", "country", "viewer_percentage",
                       "views", "estimated_minutes_watched")
LAG_DAYS = 2  # the API's figures of the last two days are not final yet
WINDOW_DAYS = 28
OWNER_FIGURES = ("views_28d", "watch_minutes_28d", "avg_view_duration_s",
                 "subscribers_net_28d", "engagement_rate")


def sql(name: str) -> str:
    return sqlfile.load(SQL)[name]


def default_period(today: date | None = None) -> tuple[date, date]:
    """The last 28 days with final figures."""
    end = (today or datetime.now(UTC).date()) - timedelta(days=LAG_DAYS)
    return end - timedelta(days=WINDOW_DAYS - 1), end


async def _report(director: Director, channel_id: str, **query: Any) -> Report:
    got = await director.fetch("analytics_report", target=channel_id, channel_id=channel_id,
                               **query)
    report: Report = got.value
    return report


async def fetch_daily(director: Director, pool: asyncpg.Pool, channel_id: str, start: date,
                      end: date) -> list[dict[str, Any]]:
    """The channel's figures per day over [start, end] (days without figures have no row),
    stored by day; the rows in DAILY_COLUMNS' names."""
    report = await _report(director, channel_id, metrics=list(DAY_METRICS), start_date=start,
                           end_date=end, dimensions=["day"], sort="day")
    rows = [{"day": date.fromisoformat(row["day"]),
             **{column: row[metric] for column, metric in zip(DAILY_COLUMNS[1:], DAY_METRICS)}}
            for row in report.rows]
    await pool.execute(sql("upsert_daily"), channel_id,
                       *([row[c] for row in rows] for c in DAILY_COLUMNS), ANALYTICS)
    return rows


async def fetch_demographics(director: Director, pool: asyncpg.Pool, channel_id: str,
                             start: date, end: date) -> list[dict[str, Any]]:
    """The audience over [start, end] by age group × gender, then by country (most views
    first), stored as the period's breakdowns; rows in DEMOGRAPHIC_COLUMNS' names."""
    ages = await _report(director, channel_id, metrics=["viewerPercentage"], start_date=start,
                         end_date=end, dimensions=["ageGroup", "gender"],
                         sort="ageGroup,gender")
    countries = await _report(director, channel_id,
                              metrics=["views", "estimatedMinutesWatched"], start_date=start,
                              end_date=end, dimensions=["country"], sort="-views")
    total = sum(row["views"] or 0 for row in countries.rows)
    audience = [{"breakdown": "age_gender", "age_group": row["ageGroup"],
                 "gender": row["gender"], "viewer_percentage": row["viewerPercentage"]}
                for row in ages.rows]
    by_country = [{"breakdown": "country", "country": row["country"], "views": row["views"],
                   "estimated_minutes_watched": row["estimatedMinutesWatched"],
                   "viewer_percentage": round(100 * row["views"] / total, 2) if total else None}
                  for row in countries.rows]
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(sql("clear_audience"), channel_id, start, end)
        await conn.execute(sql("insert_audience"), channel_id, start, end,
                           *_arrays(audience, ("age_group", "gender", "viewer_percentage")),
                           ANALYTICS)
        await conn.execute(sql("clear_countries"), channel_id, start, end)
        await conn.execute(sql("insert_countries"), channel_id, start, end,
                           *_arrays(by_country, ("country", "views",
                                                 "estimated_minutes_watched",
                                                 "viewer_percentage")), ANALYTICS)
    return audience + by_country


def _arrays(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> list[list[Any]]:
    return [[row[c] for row in rows] for c in columns]


@dataclass(frozen=True)
class OwnerInsights:
    figures: dict[str, float | int | None]
    top_age_group: str | None
    top_gender: str | None
    top_country: str | None


async def owner_insights(director: Director, pool: asyncpg.Pool, channel_id: str,
                         today: date | None = None) -> OwnerInsights | str:
    """The owner's figures over the last 28 days (daily figures and audience stored too); the
    reason instead when the owner has not authorised Beat (public figures are the fallback)."""
    start, end = default_period(today)
    try:
        daily = await fetch_daily(director, pool, channel_id, start, end)
    except NotAuthorised as exc:
        return str(exc)
    audience = await fetch_demographics(director, pool, channel_id, start, end)
    return OwnerInsights(_figures(daily), *_top_audience(audience))


def _figures(daily: list[dict[str, Any]]) -> dict[str, float | int | None]:
    def total(column: str) -> int:
        return sum(row[column] or 0 for row in daily)

    views, minutes = total("views"), total("estimated_minutes_watched")
    return {
        "views_28d": views if daily else None,
        "watch_minutes_28d": minutes if daily else None,
        "avg_view_duration_s": round(minutes * 60 / views) if views else None,
        "subscribers_net_28d": total("subscribers_gained") - total("subscribers_lost")
        if daily else None,
        "engagement_rate": 100 * (total("likes") + total("comments")) / views if views else None,
    }


def _top_audience(rows: list[dict[str, Any]]) -> tuple[str | None, str | None, str | None]:
    ages: dict[str, float] = {}
    genders: dict[str, float] = {}
    for row in rows:
        if row["breakdown"] == "age_gender":
            ages[row["age_group"]] = ages.get(row["age_group"], 0) + row["viewer_percentage"]
            genders[row["gender"]] = genders.get(row["gender"], 0) + row["viewer_percentage"]
    countries = [row["country"] for row in rows if row["breakdown"] == "country"]
    return (max(ages, key=ages.__getitem__, default=None),
            max(genders, key=genders.__getitem__, default=None),
            countries[0] if countries else None)


def insight_sources(public: dict[str, Any], owner: OwnerInsights | None,
                    public_source: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The figures to store (owner figures over public ones where both exist) and which
    source gave each figure that is known."""
    figures = {**public, **{name: None for name in OWNER_FIGURES if name not in public}}
    sources = {name: public_source for name, value in public.items()
               if value is not None and name != "insights_videos"}
    if owner is not None:
        for name, value in owner.figures.items():
            if value is not None:
                figures[name] = value
                sources[name] = ANALYTICS
    return figures, sources
