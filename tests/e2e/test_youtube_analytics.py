"""YouTube owner analytics end to end: the sandbox, the server and a worker as real processes.
A channel whose owner authorised Beat (the token stored through /tokens, as the identity_token
listener stores it) gets both CSV exports, every row checked against the sandbox's figures; an
access token that expired mid-life is refreshed once and the run goes on; a channel without
authorisation fails with the reason after one attempt."""

import csv
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from core import db
from core.config import Settings
from credentials import store
from credentials.crypto import Crypto
from sandbox.youtube import analytics as figures
from sandbox.youtube.world import Channel, build_world
from tests.e2e.procs import Launcher, free_port, wait_server_ready, wait_worker_ready
from tests.e2e.support import wait_for
from tests.e2e.test_youtube import Stack
from youtube.settings import SANDBOX_OAUTH_CLIENT

FLOWS = "fetch_channel_daily_stats_csv,fetch_channel_demographic_csv"
WORLD = build_world(1)  # the sandbox's default seed
OLD = [c for c in WORLD.channels if c.published_at.year < 2020]
ADMIN_KEY = "analytics-e2e-admin-key"  # /tokens takes an admin key


@pytest.fixture(scope="module")
async def stack(launcher: Launcher, database_url: str,
                tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    sandbox_port, api_port = free_port(), free_port()
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    sandbox_proc = launcher.spawn("sandbox", ["sandbox", "--port", str(sandbox_port)],
                                  launcher.env())
    settings = {"SANDBOX_URL": sandbox_url, "YOUTUBE_API_KEYS": "sandbox-key-1",
                "YOUTUBE_OAUTH_CLIENT_ID": SANDBOX_OAUTH_CLIENT[0],
                "YOUTUBE_OAUTH_CLIENT_SECRET": SANDBOX_OAUTH_CLIENT[1],
                "BEAT_HOME": str(tmp_path_factory.mktemp("home"))}
    worker = launcher.worker(FLOWS, WORKER_PROCESS_CAP=1, **settings)
    server = launcher.server(api_port, BEAT_ADMIN_KEYS=ADMIN_KEY, **settings)
    await wait_server_ready(server, api_port)
    await wait_worker_ready(worker, database_url, workers=2)
    pool = await db.create_pool(database_url)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_port}", timeout=30,
                                 headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as api, \
            httpx.AsyncClient(base_url=sandbox_url, timeout=30) as sandbox:
        await wait_for(lambda: answers(sandbox), 30, "sandbox answer", sandbox_proc)
        yield Stack(api, sandbox, pool)
    await pool.close()


async def answers(sandbox: httpx.AsyncClient) -> bool:
    try:
        return (await sandbox.get("/_sandbox/world")).status_code == 200
    except httpx.TransportError:
        return False


async def authorise(stack: Stack, channel: Channel) -> dict[str, Any]:
    """The owner's consent in the sandbox, handed to Beat the way the identity service does."""
    granted = dict((await stack.sandbox.post("/_sandbox/youtube/oauth/grant",
                                             json={"channel_id": channel.channel_id})).json())
    stored = await stack.api.post("/tokens", json={
        "source": "youtube_oauth", "handle": channel.channel_id,
        "credentials": {"refresh_token": granted["refresh_token"],
                        "access_token": granted["access_token"]}})
    assert stored.status_code == 201, stored.text
    return granted


async def refreshes(stack: Stack, channel: Channel) -> int:
    grants = (await stack.sandbox.get("/_sandbox/youtube/oauth")).json()["channels"]
    return int(grants[channel.channel_id]["refreshes"])


def read_csv(path: str) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def today() -> date:
    return datetime.now(UTC).date()


def check_daily(path: str, channel: Channel, start: date, end: date) -> None:
    lines = read_csv(path)
    days = figures.days_with_data(channel, start, end, today())
    assert [line["day"] for line in lines] == [day.isoformat() for day in days]
    for line, day in zip(lines, days):
        made = figures.day_stats(WORLD, channel, day)
        assert [int(line[name]) for name in (
            "views", "estimated_minutes_watched", "average_view_duration_s",
            "subscribers_gained", "subscribers_lost", "likes", "comments", "shares")] == [
            made.views, made.minutes, made.duration_s, made.gained, made.lost, made.likes,
            made.comments, made.shares], day


async def test_both_csv_flows_for_an_authorised_channel(stack: Stack) -> None:
    channel = OLD[0]
    await authorise(stack, channel)
    start, end = date(2025, 1, 1), date(2025, 2, 28)
    daily = await stack.run("fetch_channel_daily_stats_csv", {
        "channel_id": channel.channel_id, "start_date": "2025-01-01", "end_date": "2025-02-28"})
    assert daily["status"] == "COMPLETE", daily["last_error"]
    assert daily["data"]["rows"] == 59
    check_daily(daily["data"]["path"], channel, start, end)
    stored = await stack.pool.fetchval("SELECT sum(views) FROM youtube_channel_daily WHERE "
                                       "channel_id = $1", channel.channel_id)
    assert stored == figures.totals(WORLD, channel, figures.days_with_data(
        channel, start, end, today())).views

    demographic = await stack.run("fetch_channel_demographic_csv", {
        "channel_id": channel.channel_id, "start_date": "2025-03-01", "end_date": "2025-03-31"})
    assert demographic["status"] == "COMPLETE", demographic["last_error"]
    lines = read_csv(demographic["data"]["path"])
    ages = sorted((x["age_group"], x["gender"], float(x["viewer_percentage"]))
                  for x in lines if x["breakdown"] == "age_gender")
    assert ages == sorted(figures.age_gender_shares(WORLD, channel, date(2025, 3, 1),
                                                    date(2025, 3, 31)))
    countries = [(x["country"], int(x["views"]), int(x["estimated_minutes_watched"]))
                 for x in lines if x["breakdown"] == "country"]
    march = figures.days_with_data(channel, date(2025, 3, 1), date(2025, 3, 31), today())
    assert countries == figures.country_views(WORLD, channel, march)
    assert demographic["data"]["rows"] == len(ages) + len(countries) == len(lines)
    assert await refreshes(stack, channel) == 0


async def test_an_expired_access_token_is_refreshed_once_and_the_run_goes_on(
        stack: Stack, database_url: str) -> None:
    channel = OLD[1]
    granted = await authorise(stack, channel)
    await stack.sandbox.post("/_sandbox/youtube/oauth/expire",
                             json={"channel_id": channel.channel_id})
    task = await stack.run("fetch_channel_daily_stats_csv", {
        "channel_id": channel.channel_id, "start_date": "2025-04-01", "end_date": "2025-04-30"})
    assert task["status"] == "COMPLETE", task["last_error"]
    assert task["retry_count"] == 1, "the refresh happened inside the first attempt"
    check_daily(task["data"]["path"], channel, date(2025, 4, 1), date(2025, 4, 30))
    assert await refreshes(stack, channel) == 1
    crypto = Crypto.from_settings(Settings(database_url=database_url))
    credential = await store.usable_for(stack.pool, crypto, "youtube_oauth", channel.channel_id)
    assert credential is not None
    assert credential.secrets["access_token"] != granted["access_token"]
    raw = await stack.pool.fetchval("SELECT credentials::text FROM credential WHERE id = $1",
                                    credential.id)
    assert credential.secrets["access_token"] not in raw, "stored encrypted"
    again = await stack.run("fetch_channel_demographic_csv", {"channel_id": channel.channel_id})
    assert again["status"] == "COMPLETE", again["last_error"]
    assert await refreshes(stack, channel) == 1, "the stored new token is used"


async def test_a_channel_without_authorisation_fails_after_one_attempt(stack: Stack) -> None:
    channel = OLD[2]
    task = await stack.run("fetch_channel_daily_stats_csv", {
        "channel_id": channel.channel_id, "start_date": "2025-01-01", "end_date": "2025-01-31"})
    assert task["status"] == "FAILED"
    assert task["last_error"] == f"NotAuthorised: no owner authorisation for {channel.channel_id}"
    assert task["error_kind"] == "not_authorised" and task["retry_count"] == 1
    assert task["max_attempts"] > 1, "it could have been retried, and was not"
