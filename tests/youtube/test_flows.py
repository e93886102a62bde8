"""YouTube flows against the in-process sandbox (real PostgreSQL): what they store, what they
cost in quota, and how they fall back to the keyless source when the keys run dry."""

import asyncio
import csv
import dataclasses
import logging
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from core.config import Settings
from core.errors import NotFound
from core.flows import TaskContext
from core.progress import Progress, ProgressReporter
from tests.youtube.conftest import SANDBOX
from youtube import flows

LOG = logging.getLogger("test")


@pytest.fixture
async def world(sandbox: httpx.AsyncClient) -> dict[str, Any]:
    return dict((await sandbox.get("/_sandbox/world")).json())


@pytest.fixture
async def ctx(pool: asyncpg.Pool, settings: Settings, tmp_path: Path) -> TaskContext:
    await pool.execute("TRUNCATE youtube_account, youtube_post, youtube_comment, profile_log, "
                       "post_log, credential")
    tuned = settings.model_copy(update={
        "sandbox_url": SANDBOX,
        "platform_settings": {"youtube": {"api_keys": ["sandbox-key-1", "sandbox-key-2"]}},
        "beat_home": tmp_path})
    return TaskContext(task_id=1, flow="test", attempt=1, pool=pool, log=LOG, settings=tuned)


async def usage(sandbox: httpx.AsyncClient) -> dict[str, Any]:
    return dict((await sandbox.get("/_sandbox/usage")).json())


def units(report: dict[str, Any]) -> int:
    return sum(key["used"] for key in report["quota"]["keys"].values())


def read_csv(path: str) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def channel_with(world: dict[str, Any], at_least: int) -> dict[str, Any]:
    return next(c for c in world["channels"] if c["video_count"] >= at_least)


async def test_profiles_by_id_and_handle(ctx: TaskContext, world: dict[str, Any],
                                         sandbox: httpx.AsyncClient) -> None:
    first, second = world["channels"][:2]
    result = await flows.refresh_yt_profiles(
        flows.ProfilesParams(channel_ids=[first["channel_id"], "UC" + "x" * 22],
                             handles=[second["handle"]]), ctx)
    assert result["channels"] == sorted([first["channel_id"], second["channel_id"]])
    assert result["missing"] == ["UC" + "x" * 22]
    row = await ctx.pool.fetchrow("SELECT * FROM youtube_account WHERE channel_id = $1",
                                  second["channel_id"])
    assert row["handle"] == second["handle"] and row["source"] == "youtube_data_api"
    assert (row["subscribers"] is None) == second["hidden_subscribers"]
    assert await ctx.pool.fetchval("SELECT count(*) FROM profile_log WHERE profile_id = $1",
                                   second["channel_id"]) == 1
    with pytest.raises(NotFound):
        await flows.refresh_yt_profiles(flows.ProfilesParams(handles=["@nobodyhere123"]), ctx)


async def test_single_video_tasks_share_fifty_id_calls(ctx: TaskContext, world: dict[str, Any],
                                                       sandbox: httpx.AsyncClient) -> None:
    channel = channel_with(world, 150)
    page = (await sandbox.get("/youtube/v3/playlistItems", params={
        "playlistId": channel["uploads"], "maxResults": 50, "part": "contentDetails",
        "key": "sandbox-key-1"})).json()
    ids = [item["contentDetails"]["videoId"] for item in page["items"]]
    before = units(await usage(sandbox))
    tasks = [flows.refresh_yt_posts(flows.VideosParams(video_ids=[i]), ctx) for i in ids]
    results = await asyncio.gather(*tasks)
    assert all(r["videos"] == 1 for r in results)
    assert units(await usage(sandbox)) - before == 1, "50 single-video tasks, one videos.list"
    assert await ctx.pool.fetchval("SELECT count(*) FROM youtube_post WHERE video_id = ANY($1)",
                                   ids) == 50


async def test_channel_refresh_stores_every_upload_for_few_quota_units(
        ctx: TaskContext, world: dict[str, Any], sandbox: httpx.AsyncClient) -> None:
    channel = channel_with(world, 1000)
    count = channel["video_count"]
    before = units(await usage(sandbox))
    result = await flows.refresh_yt_posts_by_channel_id(
        flows.ChannelVideosParams(channel_id=channel["channel_id"]), ctx)
    assert result["videos"] == count and result["sources"] == {"youtube_data_api": count}
    pages = -(-count // 50)
    assert units(await usage(sandbox)) - before == 1 + 2 * pages  # channel + pages + videos
    stored = await ctx.pool.fetchval("SELECT count(*) FROM youtube_post WHERE channel_id = $1",
                                     channel["channel_id"])
    assert stored == count
    assert await ctx.pool.fetchval("SELECT count(DISTINCT post_id) FROM post_log "
                                   "WHERE profile_id = $1", channel["channel_id"]) == count


async def test_keys_running_dry_mid_run_fall_back_to_the_keyless_source(
        ctx: TaskContext, world: dict[str, Any], sandbox: httpx.AsyncClient) -> None:
    channel = channel_with(world, 500)
    for key in ("sandbox-key-1", "sandbox-key-2"):
        await sandbox.post("/_sandbox/quota", json={"key": key, "limit": 8, "used": 0})
    result = await flows.refresh_yt_posts_by_channel_id(
        flows.ChannelVideosParams(channel_id=channel["channel_id"], max_videos=500), ctx)
    assert result["videos"] == 500
    assert set(result["sources"]) == {"youtube_data_api", "invidious"}
    sources = dict(await ctx.pool.fetch(
        "SELECT source, count(*) FROM youtube_post WHERE channel_id = $1 GROUP BY source",
        channel["channel_id"]))
    assert sum(sources.values()) == 500 and sources["invidious"] > 0
    assert sources == result["sources"]


async def test_comments_and_disabled_comments(ctx: TaskContext, world: dict[str, Any]) -> None:
    channel = channel_with(world, 50)
    await flows.refresh_yt_posts_by_channel_id(
        flows.ChannelVideosParams(channel_id=channel["channel_id"], max_videos=5), ctx)
    video_id = await ctx.pool.fetchval("SELECT video_id FROM youtube_post WHERE channel_id = $1 "
                                       "AND comments > 0 ORDER BY comments LIMIT 1",
                                       channel["channel_id"])
    result = await flows.fetch_yt_post_comments(
        flows.CommentsParams(video_id=video_id, max_comments=30), ctx)
    stored = await ctx.pool.fetchval("SELECT count(*) FROM youtube_comment WHERE video_id = $1 "
                                     "AND parent_id IS NULL", video_id)
    assert result["comments"] == stored and 0 < stored <= 30
    # The replies each thread shows are stored under it (YouTube threads are one level deep).
    replies = await ctx.pool.fetch(
        "SELECT r.parent_id, p.parent_id AS grandparent FROM youtube_comment AS r "
        "LEFT JOIN youtube_comment AS p ON p.comment_id = r.parent_id "
        "WHERE r.video_id = $1 AND r.parent_id IS NOT NULL", video_id)
    assert replies and all(r["grandparent"] is None for r in replies)
    assert await ctx.pool.fetchval(
        "SELECT count(*) FROM youtube_comment WHERE comment_id = ANY($1::text[])",
        [r["parent_id"] for r in replies]) == len({r["parent_id"] for r in replies})
    disabled = world["examples"]["comments_disabled_video"]
    result = await flows.fetch_yt_post_comments(flows.CommentsParams(video_id=disabled), ctx)
    assert result == {"video_id": disabled, "comments": 0, "comments_disabled": True}


async def test_insights_average_recent_videos(ctx: TaskContext, world: dict[str, Any]) -> None:
    channel = channel_with(world, 100)
    result = await flows.refresh_yt_profile_insights(
        flows.InsightsParams(channel_id=channel["channel_id"], recent=20), ctx)
    rows = await ctx.pool.fetch("SELECT views, likes, comments FROM youtube_post "
                                "WHERE channel_id = $1 ORDER BY published_at DESC LIMIT 20",
                                channel["channel_id"])
    assert result["insights_videos"] == 20
    assert result["avg_views"] == pytest.approx(sum(r["views"] for r in rows) / 20)
    assert result["uploads_per_week"] > 0 and result["engagement_rate"] > 0
    stored = await ctx.pool.fetchrow("SELECT avg_views, engagement_rate FROM youtube_account "
                                     "WHERE channel_id = $1", channel["channel_id"])
    assert stored["avg_views"] == pytest.approx(result["avg_views"])


async def test_csv_exports(ctx: TaskContext, world: dict[str, Any]) -> None:
    channel = channel_with(world, 100)
    result = await flows.fetch_channel_videos_csv(
        flows.ChannelVideosParams(channel_id=channel["channel_id"], max_videos=60), ctx)
    rows = read_csv(result["path"])
    assert result["rows"] == len(rows) == 60 and rows[0]["channel_id"] == channel["channel_id"]
    result = await flows.fetch_channels_csv(
        flows.ChannelsCsvParams(channel_ids=[c["channel_id"] for c in world["channels"][:3]]), ctx)
    assert result["rows"] == 3 and Path(result["path"]).parent == ctx.settings.beat_home / "exports"
    result = await flows.fetch_channel_engagement_csv(
        flows.InsightsParams(channel_id=channel["channel_id"], recent=10), ctx)
    rows = read_csv(result["path"])
    assert len(rows) == 10
    for row in rows:
        known = row["views"] not in ("", "0") and row["likes"] != "" and row["comments"] != ""
        expected = 100 * (int(row["likes"]) + int(row["comments"])) / int(row["views"]) \
            if known else None
        assert (float(row["engagement_rate"]) if row["engagement_rate"] else None) == \
            (pytest.approx(expected, rel=1e-3) if known else None)
    assert result["summary"]["insights_videos"] == 10


async def test_keyword_search_refreshes_the_matching_videos(
        ctx: TaskContext, sandbox: httpx.AsyncClient) -> None:
    before = units(await usage(sandbox))
    result = await flows.refresh_yt_posts_by_keyword(
        flows.KeywordParams(keyword="deadlift", max_videos=60), ctx)
    assert result["videos"] == 60 and result["sources"] == {"youtube_data_api": 60}
    stored = await ctx.pool.fetch("SELECT title, description, tags FROM youtube_post")
    assert len(stored) == 60
    assert all("deadlift" in f"{v['title']} {v['description']} {v['tags']}".lower()
               for v in stored), "search matches title, description or tags"
    assert units(await usage(sandbox)) - before == 2 * 100 + 2  # two search pages, two videos.list


async def test_a_channel_crawl_and_its_csv_export_report_progress(
        ctx: TaskContext, world: dict[str, Any]) -> None:
    seen: list[Progress] = []

    async def record(progress: Progress) -> None:
        seen.append(progress)

    channel = channel_with(world, 200)
    watched = dataclasses.replace(ctx, progress=ProgressReporter(record, interval=0))
    result = await flows.fetch_channel_videos_csv(
        flows.ChannelVideosParams(channel_id=channel["channel_id"], max_videos=150), watched)
    listed = [p.done for p in seen if p.unit == "videos listed"]
    refreshed = [p.done for p in seen if p.unit == "videos refreshed"]
    assert listed == [50, 100, 150] and refreshed == [50, 100, 150]
    assert all(p.total == 150 for p in seen if p.unit.startswith("videos"))
    assert seen[-1] == Progress(done=result["rows"], total=result["rows"], unit="rows written")
