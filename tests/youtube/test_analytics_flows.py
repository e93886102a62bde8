"""The owner-analytics flows against the in-process sandbox: daily figures and demographics
stored in their tables and written as CSV row for row as the sandbox made them, and insights
that take the owner's figures when there is an owner token and the public averages otherwise,
saying which source gave each figure."""

import csv
import logging
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from core.config import Settings
from core.errors import NotAuthorised
from core.flows import TaskContext
from credentials import store
from credentials.crypto import Crypto
from sandbox.youtube import analytics as figures
from sandbox.youtube.world import Channel, build_world
from tests.youtube.conftest import SANDBOX
from youtube import analytics, flows
from youtube.settings import SANDBOX_OAUTH_CLIENT

WORLD = build_world(1)
CHANNEL = next(c for c in WORLD.channels if c.published_at.year < 2020 and c.video_count >= 30)


@pytest.fixture
async def ctx(pool: asyncpg.Pool, settings: Settings, tmp_path: Path,
              sandbox: httpx.AsyncClient) -> TaskContext:
    await pool.execute("TRUNCATE youtube_account, youtube_post, credential, "
                       "youtube_channel_daily, youtube_channel_audience, youtube_channel_country")
    youtube = {"api_keys": ["sandbox-key-1"], "oauth_client_id": SANDBOX_OAUTH_CLIENT[0],
               "oauth_client_secret": SANDBOX_OAUTH_CLIENT[1]}
    tuned = settings.model_copy(update={"sandbox_url": SANDBOX, "beat_home": tmp_path,
                                        "platform_settings": {"youtube": youtube}})
    return TaskContext(task_id=7, flow="test", attempt=1, pool=pool,
                       log=logging.getLogger("test"), settings=tuned)


async def authorise(ctx: TaskContext, sandbox: httpx.AsyncClient, channel: Channel) -> None:
    granted = (await sandbox.post("/_sandbox/youtube/oauth/grant",
                                  json={"channel_id": channel.channel_id})).json()
    await store.upsert(ctx.pool, Crypto.from_settings(ctx.settings), "youtube_oauth",
                       {"refresh_token": granted["refresh_token"],
                        "access_token": granted["access_token"]}, handle=channel.channel_id)


def read_csv(path: str) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


async def test_daily_stats_csv_is_the_owners_figures_day_by_day(
        ctx: TaskContext, sandbox: httpx.AsyncClient) -> None:
    await authorise(ctx, sandbox, CHANNEL)
    params = flows.PeriodParams(channel_id=CHANNEL.channel_id, start_date=date(2025, 1, 1),
                                end_date=date(2025, 3, 31))
    result = await flows.fetch_channel_daily_stats_csv(params, ctx)
    assert result["rows"] == 90
    lines = read_csv(result["path"])
    stored = await ctx.pool.fetch("SELECT * FROM youtube_channel_daily WHERE channel_id = $1 "
                                  "ORDER BY day", CHANNEL.channel_id)
    assert len(lines) == len(stored) == 90
    for line, row in zip(lines, stored):
        day = date.fromisoformat(line["day"])
        made = figures.day_stats(WORLD, CHANNEL, day)
        expected = [made.views, made.minutes, made.duration_s, made.gained, made.lost,
                    made.likes, made.comments, made.shares]
        assert [int(line[c]) for c in analytics.DAILY_COLUMNS[1:]] == expected
        assert [row[c] for c in analytics.DAILY_COLUMNS[1:]] == expected
        assert row["day"] == day and row["source"] == "youtube_analytics"


async def test_demographic_csv_by_age_gender_and_country(ctx: TaskContext,
                                                         sandbox: httpx.AsyncClient) -> None:
    await authorise(ctx, sandbox, CHANNEL)
    start, end = date(2025, 4, 1), date(2025, 4, 30)
    params = flows.DemographicParams(channel_id=CHANNEL.channel_id, start_date=start,
                                     end_date=end)
    result = await flows.fetch_channel_demographic_csv(params, ctx)
    lines = read_csv(result["path"])
    ages = [(x["age_group"], x["gender"], float(x["viewer_percentage"]))
            for x in lines if x["breakdown"] == "age_gender"]
    assert sorted(ages) == sorted(figures.age_gender_shares(WORLD, CHANNEL, start, end))
    countries = [(x["country"], int(x["views"]), int(x["estimated_minutes_watched"]))
                 for x in lines if x["breakdown"] == "country"]
    days = figures.days_with_data(CHANNEL, start, end, datetime.now(UTC).date())
    assert countries == figures.country_views(WORLD, CHANNEL, days)
    stored = await ctx.pool.fetch("SELECT country, views, viewer_percentage FROM "
                                  "youtube_channel_country WHERE channel_id = $1 AND start_date"
                                  " = $2 ORDER BY views DESC, country", CHANNEL.channel_id, start)
    assert [(r["country"], r["views"]) for r in stored] == [c[:2] for c in countries]
    assert sum(r["viewer_percentage"] for r in stored) == pytest.approx(100, abs=0.1)
    assert await ctx.pool.fetchval("SELECT count(*) FROM youtube_channel_audience") == len(ages)
    again = await flows.fetch_channel_demographic_csv(params, ctx)  # the period is replaced
    assert again["rows"] == result["rows"]
    assert await ctx.pool.fetchval("SELECT count(*) FROM youtube_channel_audience") == len(ages)


async def test_without_owner_authorisation_the_csv_flows_refuse_for_good(
        ctx: TaskContext) -> None:
    params = flows.PeriodParams(channel_id=CHANNEL.channel_id, start_date=date(2025, 1, 1),
                                end_date=date(2025, 1, 31))
    with pytest.raises(NotAuthorised, match=f"no owner authorisation for {CHANNEL.channel_id}"):
        await flows.fetch_channel_daily_stats_csv(params, ctx)


async def insights(ctx: TaskContext) -> tuple[dict[str, Any], dict[str, Any]]:
    result = await flows.refresh_yt_profile_insights(
        flows.InsightsParams(channel_id=CHANNEL.channel_id, recent=10), ctx)
    row = await ctx.pool.fetchrow("SELECT * FROM youtube_account WHERE channel_id = $1",
                                  CHANNEL.channel_id)
    return result, dict(row)


async def test_insights_take_the_owners_figures_when_authorised(
        ctx: TaskContext, sandbox: httpx.AsyncClient) -> None:
    public, public_row = await insights(ctx)
    assert public["owner_analytics"] == f"no owner authorisation for {CHANNEL.channel_id}"
    assert public_row["views_28d"] is None and public_row["avg_view_duration_s"] is None
    assert set(public_row["insights_sources"].values()) == {"youtube_data_api"}
    assert public_row["insights_sources"]["engagement_rate"] == "youtube_data_api"

    await authorise(ctx, sandbox, CHANNEL)
    owned, row = await insights(ctx)
    start, end = analytics.default_period()
    days = figures.days_with_data(CHANNEL, start, end, datetime.now(UTC).date())
    total = figures.totals(WORLD, CHANNEL, days)
    assert row["views_28d"] == total.views and row["watch_minutes_28d"] == total.minutes
    assert row["subscribers_net_28d"] == total.gained - total.lost
    assert row["engagement_rate"] == pytest.approx(100 * (total.likes + total.comments)
                                                   / total.views)
    assert row["avg_views"] == pytest.approx(public_row["avg_views"])  # still public
    assert row["insights_sources"]["views_28d"] == "youtube_analytics"
    assert row["insights_sources"]["engagement_rate"] == "youtube_analytics"
    assert row["insights_sources"]["avg_views"] == "youtube_data_api"
    assert owned["sources"] == row["insights_sources"]
    assert owned["top_country"] == figures.country_views(WORLD, CHANNEL, days)[0][0]
    assert await ctx.pool.fetchval("SELECT count(*) FROM youtube_channel_daily") == len(days)
