"""GET /profiles/{platform}/{id}/timeseries on generated snapshots: every bucket's value is the
last snapshot inside it as a direct SQL recount finds it, a bucket without a snapshot is null
(never 0), and the growth figures are the recounted differences."""

import itertools
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

END = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
START = END - timedelta(days=40)
CHANNEL, ACCOUNT = "UCseries", "1789"

RECOUNT = """
SELECT (SELECT (metrics ->> $3)::float8 FROM profile_log
         WHERE platform = $1 AND profile_id = $2 AND metrics ? $3
           AND timestamp >= $4 AND timestamp < least($4 + $5::interval, $6)
         ORDER BY timestamp DESC LIMIT 1)
"""
LAST_BEFORE = """
SELECT (metrics ->> $3)::float8 FROM profile_log
 WHERE platform = $1 AND profile_id = $2 AND metrics ? $3 AND timestamp <= $4
 ORDER BY timestamp DESC LIMIT 1
"""


@pytest.fixture
async def snapshots(pool: asyncpg.Pool) -> None:
    """Forty days of snapshots at random times, none on the 10th to 12th UTC day (a gap), for
    a YouTube channel (subscribers) and an Instagram account (followers); never 0."""
    rng = random.Random(18)
    rows: list[tuple[str, str, dict[str, int], datetime]] = []
    for platform, profile, key in (("YOUTUBE", CHANNEL, "subscribers"),
                                   ("INSTAGRAM", ACCOUNT, "followers")):
        value = 1000
        for _ in range(400):
            at = START + timedelta(seconds=rng.uniform(0, 41 * 86400))
            if (at.date() - START.date()).days in (10, 11, 12):
                continue
            value += rng.randint(-20, 60)
            rows.append((platform, profile, {key: value, "views": value * 7}, at))
    await pool.execute("TRUNCATE profile_log")
    await pool.executemany("INSERT INTO profile_log (platform, profile_id, metrics, timestamp)"
                           " VALUES ($1, $2, $3, $4)", rows)


async def recount(pool: asyncpg.Pool, platform: str, profile: str, key: str,
                  points: list[dict[str, Any]], width: timedelta, end: datetime) -> list[Any]:
    found = []
    for point in points:
        value = await pool.fetchval(RECOUNT, platform, profile, key,
                                    datetime.fromisoformat(point["t"]), width, end)
        found.append(None if value is None else int(value))
    return found


async def get_series(client: httpx.AsyncClient, path: str, **params: Any) -> dict[str, Any]:
    response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize(("interval", "width", "days"), [
    ("day", timedelta(days=1), 40), ("hour", timedelta(hours=1), 3),
    ("week", timedelta(weeks=1), 40)])
async def test_each_bucket_holds_its_last_snapshot_or_null(
        client: httpx.AsyncClient, pool: asyncpg.Pool, snapshots: None, interval: str,
        width: timedelta, days: int) -> None:
    start = END - timedelta(days=days)
    body = await get_series(client, f"/profiles/INSTAGRAM/{ACCOUNT}/timeseries",
                            metric="followers", interval=interval, **{
                                "from": start.isoformat(), "to": END.isoformat()})
    points = body["points"]
    values = [p["value"] for p in points]
    assert values == await recount(pool, "INSTAGRAM", ACCOUNT, "followers", points, width, END)
    assert 0 not in values
    assert sum(1 for v in values if v is not None) > len(values) / 4
    assert datetime.fromisoformat(points[0]["t"]) <= start < (
        datetime.fromisoformat(points[0]["t"]) + width)
    assert datetime.fromisoformat(points[-1]["t"]) < END
    steps = {datetime.fromisoformat(b["t"]) - datetime.fromisoformat(a["t"])
             for a, b in itertools.pairwise(points)}
    assert steps == {width}
    if interval == "day":  # the three days without snapshots are there, as nulls
        assert sum(1 for v in values if v is None) >= 3
        assert all(p["snapshots"] == 0 for p in points if p["value"] is None)


async def test_followers_is_a_youtube_channels_subscribers(
        client: httpx.AsyncClient, pool: asyncpg.Pool, snapshots: None) -> None:
    body = await get_series(client, f"/profiles/youtube/{CHANNEL}/timeseries",
                            metric="followers", to=END.isoformat())
    assert body["platform"] == "YOUTUBE" and len(body["points"]) == 31
    assert [p["value"] for p in body["points"]] == await recount(
        pool, "YOUTUBE", CHANNEL, "subscribers", body["points"], timedelta(days=1), END)
    views = await get_series(client, f"/profiles/youtube/{CHANNEL}/timeseries",
                             metric="views", to=END.isoformat())
    assert [p["value"] for p in views["points"]] == [
        None if p["value"] is None else p["value"] * 7 for p in body["points"]]


async def test_growth_over_one_seven_and_thirty_days(
        client: httpx.AsyncClient, pool: asyncpg.Pool, snapshots: None) -> None:
    body = await get_series(client, f"/profiles/INSTAGRAM/{ACCOUNT}/timeseries",
                            to=END.isoformat())
    now = await pool.fetchval(LAST_BEFORE, "INSTAGRAM", ACCOUNT, "followers", END)
    for growth, days in zip(body["growth"], (1, 7, 30), strict=True):
        before = await pool.fetchval(LAST_BEFORE, "INSTAGRAM", ACCOUNT, "followers",
                                     END - timedelta(days=days))
        assert growth == {"days": days, "value": now, "previous": before,
                          "change": now - before,
                          "change_pct": round(100 * (now - before) / before, 4)}


async def test_growth_without_a_snapshot_that_old_is_null(
        client: httpx.AsyncClient, snapshots: None) -> None:
    early = START + timedelta(days=3)
    body = await get_series(client, f"/profiles/INSTAGRAM/{ACCOUNT}/timeseries",
                            to=early.isoformat())
    thirty = body["growth"][2]
    assert thirty["days"] == 30 and thirty["previous"] is None and thirty["change"] is None
    assert thirty["change_pct"] is None and thirty["value"] is not None


async def test_what_cannot_be_answered_says_why(client: httpx.AsyncClient,
                                                snapshots: None) -> None:
    path = f"/profiles/YOUTUBE/{CHANNEL}/timeseries"
    unknown = await client.get(path, params={"metric": "likes"})
    assert unknown.status_code == 422
    assert "known: followers, subscribers, views, video_count" in unknown.text
    assert (await client.get("/profiles/MYSPACE/x/timeseries")).status_code == 404
    nothing = await client.get("/profiles/YOUTUBE/UCnothing/timeseries")
    assert nothing.status_code == 404 and "no snapshots" in nothing.text
    too_many = await client.get(path, params={"interval": "hour", "from": "2020-01-01T00:00Z"})
    assert too_many.status_code == 422 and "buckets" in too_many.text
    backwards = await client.get(path, params={"from": "2026-11-20T00:00Z",
                                               "to": "2026-11-01T00:00Z"})
    assert backwards.status_code == 422
