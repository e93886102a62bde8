"""YouTube Analytics reports.query and the owners' token endpoint: the result table's shape,
figures that are the same for the same channel and day, and the API's errors."""

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from sandbox.app import create_sandbox_app
from sandbox.youtube import analytics as figures
from sandbox.youtube.world import Channel, World
from tests.sandbox.helpers import client_for
from youtube.settings import SANDBOX_OAUTH_CLIENT

TODAY = datetime(2025, 6, 1, 12, tzinfo=UTC)
DAY_METRICS = ("views,estimatedMinutesWatched,averageViewDuration,subscribersGained,"
               "subscribersLost,likes,comments,shares")
Clock = list[datetime]


@pytest.fixture
def now() -> Clock:
    return [TODAY]


@pytest.fixture
async def client(now: Clock) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(create_sandbox_app(seed=1, clock=lambda: now[0])) as c:
        yield c


def old_channel(world: World, index: int = 0) -> Channel:
    return [c for c in world.channels if c.published_at.year < 2020][index]


async def grant(client: httpx.AsyncClient, channel: Channel) -> dict[str, Any]:
    answer = await client.post("/_sandbox/youtube/oauth/grant",
                               json={"channel_id": channel.channel_id})
    assert answer.status_code == 200
    return dict(answer.json())


async def report(client: httpx.AsyncClient, token: str, **params: Any) -> httpx.Response:
    query = {"ids": "channel==MINE", "startDate": "2025-05-01", "endDate": "2025-05-31",
             "metrics": "views", **params}
    return await client.get("/youtube/analytics/v2/reports", params=query,
                            headers={"Authorization": f"Bearer {token}"})


def error_of(response: httpx.Response) -> tuple[int, str, str | None]:
    error = response.json()["error"]
    return error["code"], error["errors"][0]["reason"], error.get("status")


async def test_daily_report_is_the_channels_figures_per_day(client: httpx.AsyncClient,
                                                            world: World) -> None:
    channel = old_channel(world)
    token = (await grant(client, channel))["access_token"]
    answer = await report(client, token, metrics=DAY_METRICS, dimensions="day", sort="day")
    body = answer.json()
    assert answer.status_code == 200 and body["kind"] == "youtubeAnalytics#resultTable"
    assert body["columnHeaders"][0] == {"name": "day", "columnType": "DIMENSION",
                                        "dataType": "STRING"}
    assert [h["name"] for h in body["columnHeaders"][1:]] == DAY_METRICS.split(",")
    assert {h["dataType"] for h in body["columnHeaders"][1:]} == {"INTEGER"}
    # two days of lag: 2025-05-31 and 2025-05-30 are not there yet
    assert [row[0] for row in body["rows"]] == [f"2025-05-{d:02d}" for d in range(1, 31)]
    stats = figures.day_stats(world, channel, date(2025, 5, 7))
    assert body["rows"][6] == ["2025-05-07", stats.views, stats.minutes, stats.duration_s,
                               stats.gained, stats.lost, stats.likes, stats.comments,
                               stats.shares]
    again = await report(client, token, metrics=DAY_METRICS, dimensions="day", sort="day")
    assert again.json() == body


async def test_demographics_add_up_to_a_hundred_percent(client: httpx.AsyncClient,
                                                        world: World) -> None:
    channel = old_channel(world)
    token = (await grant(client, channel))["access_token"]
    body = (await report(client, token, metrics="viewerPercentage",
                         dimensions="ageGroup,gender", sort="gender,ageGroup")).json()
    assert body["columnHeaders"][2] == {"name": "viewerPercentage", "columnType": "METRIC",
                                        "dataType": "FLOAT"}
    assert abs(sum(row[2] for row in body["rows"]) - 100) < 1.5
    expected = figures.age_gender_shares(world, channel, date(2025, 5, 1), date(2025, 5, 31))
    assert sorted(map(tuple, body["rows"])) == sorted(expected)
    assert [row[1] for row in body["rows"]] == sorted(row[1] for row in body["rows"])


async def test_country_views_split_the_ranges_views(client: httpx.AsyncClient,
                                                    world: World) -> None:
    channel = old_channel(world)
    token = (await grant(client, channel))["access_token"]
    by_country = (await report(client, token, metrics="views,estimatedMinutesWatched",
                               dimensions="country", sort="-views", maxResults=3)).json()
    total = (await report(client, token, metrics="views")).json()
    assert len(by_country["rows"]) == 3
    views = [row[1] for row in by_country["rows"]]
    assert views == sorted(views, reverse=True)
    days = figures.days_with_data(channel, date(2025, 5, 1), date(2025, 5, 31), TODAY.date())
    assert by_country["rows"] == [list(row) for row in
                                  figures.country_views(world, channel, days)[:3]]
    assert total["rows"] == [[figures.totals(world, channel, days).views]]


async def test_no_rows_key_when_the_range_has_no_data(client: httpx.AsyncClient,
                                                      world: World) -> None:
    token = (await grant(client, old_channel(world)))["access_token"]
    body = (await report(client, token, startDate="2025-05-31", endDate="2025-06-01",
                         dimensions="day")).json()
    assert "rows" not in body and body["columnHeaders"]


async def test_errors_are_googles(client: httpx.AsyncClient, world: World) -> None:
    mine, other = old_channel(world), old_channel(world, 1)
    token = (await grant(client, mine))["access_token"]
    assert error_of(await report(client, "ya29.nonsense")) == (401, "authError",
                                                               "UNAUTHENTICATED")
    assert error_of(await report(client, token, ids=f"channel=={other.channel_id}")) == \
        (403, "forbidden", "PERMISSION_DENIED")
    assert (await report(client, token, ids=f"channel=={mine.channel_id}")).status_code == 200
    unsupported = await report(client, token, metrics="viewerPercentage", dimensions="country")
    assert error_of(unsupported) == (400, "badRequest", "INVALID_ARGUMENT")
    assert "The query is not supported" in unsupported.json()["error"]["message"]
    assert error_of(await report(client, token, metrics="views",
                                 dimensions="ageGroup"))[0] == 400


async def test_expired_token_is_refused_until_refreshed(client: httpx.AsyncClient,
                                                        world: World, now: Clock) -> None:
    channel = old_channel(world)
    granted = await grant(client, channel)
    expired = await client.post("/_sandbox/youtube/oauth/expire",
                                json={"channel_id": channel.channel_id})
    assert expired.json() == {"expired": 1}
    assert (await report(client, granted["access_token"])).status_code == 401
    form = {"grant_type": "refresh_token", "refresh_token": granted["refresh_token"],
            "client_id": SANDBOX_OAUTH_CLIENT[0], "client_secret": SANDBOX_OAUTH_CLIENT[1]}
    fresh = (await client.post("/youtube/oauth2/token", data=form)).json()
    assert fresh["expires_in"] == 3599 and fresh["token_type"] == "Bearer"
    assert (await report(client, fresh["access_token"])).status_code == 200
    now[0] += timedelta(seconds=3600)  # an hour later it has expired by itself
    assert (await report(client, fresh["access_token"])).status_code == 401
    grants = (await client.get("/_sandbox/youtube/oauth")).json()["channels"]
    assert grants[channel.channel_id]["refreshes"] == 1


async def test_token_endpoint_refusals(client: httpx.AsyncClient, world: World) -> None:
    channel = old_channel(world)
    refresh = (await grant(client, channel))["refresh_token"]
    form = {"grant_type": "refresh_token", "refresh_token": refresh,
            "client_id": SANDBOX_OAUTH_CLIENT[0], "client_secret": "wrong"}
    wrong_client = await client.post("/youtube/oauth2/token", data=form)
    assert (wrong_client.status_code, wrong_client.json()["error"]) == (401, "invalid_client")
    await client.post("/_sandbox/youtube/oauth/revoke", json={"channel_id": channel.channel_id})
    revoked = await client.post("/youtube/oauth2/token",
                                data={**form, "client_secret": SANDBOX_OAUTH_CLIENT[1]})
    assert (revoked.status_code, revoked.json()["error"]) == (400, "invalid_grant")
