"""The YouTube Analytics source against the in-process sandbox, with owners' tokens in the real
credential table: reports read as the owner, an expired token refreshed once and stored
encrypted, and the refusals that no retry would fix."""

from datetime import date
from typing import Any

import asyncpg
import httpx
import pytest

from core.config import Settings
from core.errors import BadParams, NotAuthorised
from credentials import store
from credentials.crypto import Crypto
from credentials.validator import Validator, validate_and_record
from sandbox.youtube import analytics as figures
from sandbox.youtube.world import Channel, build_world
from tests.youtube.conftest import SANDBOX
from youtube.models import OWNER_OAUTH
from youtube.settings import SANDBOX_OAUTH_CLIENT
from youtube.sources.analytics import AnalyticsSource, OAuthClient, OwnerTokens

MAY = (date(2025, 5, 1), date(2025, 5, 20))
DAY_METRICS = ["views", "estimatedMinutesWatched", "averageViewDuration", "subscribersGained",
               "subscribersLost", "likes", "comments", "shares"]


@pytest.fixture
def crypto(settings: Settings) -> Crypto:
    return Crypto.from_settings(settings)


@pytest.fixture
async def source(pool: asyncpg.Pool, crypto: Crypto,
                 sandbox: httpx.AsyncClient) -> AnalyticsSource:
    await pool.execute("TRUNCATE credential")
    client = OAuthClient(f"{SANDBOX}/youtube/oauth2/token", *SANDBOX_OAUTH_CLIENT)
    return AnalyticsSource(f"{SANDBOX}/youtube/analytics/v2", OwnerTokens(pool, crypto, client))


def channels() -> list[Channel]:
    return [c for c in build_world(1).channels if c.published_at.year < 2020]


async def authorise(sandbox: httpx.AsyncClient, pool: asyncpg.Pool, crypto: Crypto,
                    channel: Channel, **secrets: str) -> dict[str, Any]:
    """The owner's consent, stored as the identity_token listener stores it."""
    granted = dict((await sandbox.post("/_sandbox/youtube/oauth/grant",
                                       json={"channel_id": channel.channel_id})).json())
    given = {"refresh_token": granted["refresh_token"], "access_token": granted["access_token"],
             "user_id": channel.channel_id, **secrets}
    await store.upsert(pool, crypto, OWNER_OAUTH, {k: v for k, v in given.items() if v})
    return granted


async def refreshes(sandbox: httpx.AsyncClient, channel: Channel) -> int:
    grants = (await sandbox.get("/_sandbox/youtube/oauth")).json()["channels"]
    return int(grants.get(channel.channel_id, {}).get("refreshes", 0))


async def test_daily_report_as_the_owner(source: AnalyticsSource, sandbox: httpx.AsyncClient,
                                         pool: asyncpg.Pool, crypto: Crypto) -> None:
    channel = channels()[0]
    await authorise(sandbox, pool, crypto, channel)
    report = await source.report(channel.channel_id, DAY_METRICS, *MAY, dimensions=["day"],
                                 sort="day")
    assert report.dimensions == ("day",) and len(report.rows) == 20
    first = figures.day_stats(build_world(1), channel, MAY[0])
    assert report.rows[0] == {"day": "2025-05-01", "views": first.views,
                              "estimatedMinutesWatched": first.minutes,
                              "averageViewDuration": first.duration_s,
                              "subscribersGained": first.gained, "subscribersLost": first.lost,
                              "likes": first.likes, "comments": first.comments,
                              "shares": first.shares}
    assert await refreshes(sandbox, channel) == 0


async def test_an_expired_token_is_refreshed_once_and_stored_encrypted(
        source: AnalyticsSource, sandbox: httpx.AsyncClient, pool: asyncpg.Pool,
        crypto: Crypto) -> None:
    channel = channels()[1]
    granted = await authorise(sandbox, pool, crypto, channel)
    await sandbox.post("/_sandbox/youtube/oauth/expire", json={"channel_id": channel.channel_id})
    report = await source.report(channel.channel_id, ["viewerPercentage"], *MAY,
                                 dimensions=["ageGroup", "gender"])
    assert abs(sum(row["viewerPercentage"] for row in report.rows) - 100) < 1.5
    assert await refreshes(sandbox, channel) == 1
    stored = await store.usable_for(pool, crypto, OWNER_OAUTH, channel.channel_id)
    assert stored is not None
    new_token = stored.secrets["access_token"]
    assert new_token != granted["access_token"]
    assert stored.secrets["refresh_token"] == granted["refresh_token"]
    raw = await pool.fetchval("SELECT credentials::text FROM credential WHERE id = $1", stored.id)
    assert new_token not in raw and granted["refresh_token"] not in raw
    await source.report(channel.channel_id, ["views"], *MAY)  # the stored token is used
    assert await refreshes(sandbox, channel) == 1


async def test_a_token_known_to_have_expired_is_refreshed_before_the_call(
        source: AnalyticsSource, sandbox: httpx.AsyncClient, pool: asyncpg.Pool,
        crypto: Crypto) -> None:
    channel = channels()[2]
    await authorise(sandbox, pool, crypto, channel, access_token="", access_expires_at="0")
    report = await source.report(channel.channel_id, ["views"], *MAY, dimensions=["country"],
                                 sort="-views")
    assert report.rows and await refreshes(sandbox, channel) == 1


async def test_no_owner_token_is_a_clear_permanent_refusal(source: AnalyticsSource) -> None:
    channel = channels()[0]
    with pytest.raises(NotAuthorised, match=f"^no owner authorisation for {channel.channel_id}$"):
        await source.report(channel.channel_id, ["views"], *MAY)


async def test_another_channels_token_is_forbidden(source: AnalyticsSource,
                                                   sandbox: httpx.AsyncClient,
                                                   pool: asyncpg.Pool, crypto: Crypto) -> None:
    mine, other = channels()[0], channels()[1]
    granted = await authorise(sandbox, pool, crypto, mine)
    await store.upsert(pool, crypto, OWNER_OAUTH, {"refresh_token": granted["refresh_token"],
                                                   "access_token": granted["access_token"]},
                       handle=other.channel_id)
    with pytest.raises(NotAuthorised, match="does not cover its analytics.*403 forbidden"):
        await source.report(other.channel_id, ["views"], *MAY)


async def test_a_revoked_authorisation_retires_the_credential(
        source: AnalyticsSource, sandbox: httpx.AsyncClient, pool: asyncpg.Pool,
        crypto: Crypto) -> None:
    channel = channels()[0]
    await authorise(sandbox, pool, crypto, channel)
    await sandbox.post("/_sandbox/youtube/oauth/revoke", json={"channel_id": channel.channel_id})
    with pytest.raises(NotAuthorised, match="revoked or has expired"):
        await source.report(channel.channel_id, ["views"], *MAY)
    assert await store.usable_for(pool, crypto, OWNER_OAUTH, channel.channel_id) is None
    with pytest.raises(NotAuthorised, match="^no owner authorisation"):
        await source.report(channel.channel_id, ["views"], *MAY)


async def test_an_unsupported_query_is_bad_params(source: AnalyticsSource,
                                                  sandbox: httpx.AsyncClient,
                                                  pool: asyncpg.Pool, crypto: Crypto) -> None:
    channel = channels()[0]
    await authorise(sandbox, pool, crypto, channel)
    with pytest.raises(BadParams, match="query is not supported"):
        await source.report(channel.channel_id, ["viewerPercentage"], *MAY,
                            dimensions=["country"])



async def test_validation_asks_the_token_endpoint(source: AnalyticsSource,
                                                  sandbox: httpx.AsyncClient, pool: asyncpg.Pool,
                                                  crypto: Crypto, settings: Settings) -> None:
    channel = channels()[0]
    await authorise(sandbox, pool, crypto, channel)
    [info] = await store.list_infos(pool, OWNER_OAUTH)
    tuned = settings.model_copy(update={"sandbox_url": SANDBOX, "platform_settings": {"youtube": {
        "oauth_client_id": SANDBOX_OAUTH_CLIENT[0],
        "oauth_client_secret": SANDBOX_OAUTH_CLIENT[1]}}})
    validator = Validator.from_settings(tuned)
    outcome = await validate_and_record(pool, crypto, validator, info.id)
    assert outcome is not None and outcome[0].valid
    assert "https://www.googleapis.com/auth/yt-analytics.readonly" in (outcome[1].scopes or ())
    await sandbox.post("/_sandbox/youtube/oauth/revoke", json={"channel_id": channel.channel_id})
    outcome = await validate_and_record(pool, crypto, validator, info.id)
    assert outcome is not None and not outcome[0].valid
    assert outcome[1].data_access_expired and outcome[1].last_error == \
        "invalid_grant: Token has been expired or revoked."
