"""Key rotation through the in-process sandbox: a key answering 429 rests for its Retry-After
while the work goes on with the others; an invalid key is retired until it validates again; a
key whose daily quota Beat counted as spent is passed over."""

import dataclasses
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest

from core import http
from core.budgets import read_budgets
from core.config import Settings
from core.flows import TaskContext
from core.ratelimit import process_limiter
from credentials import store
from credentials.crypto import Crypto
from credentials.validator import Validator, validate_and_record
from sandbox.app import create_sandbox_app
from youtube import flows

SANDBOX = "http://sandbox"
KEYS = ["sandbox-key-1", "sandbox-key-2", "sandbox-key-3"]
PACIFIC = ZoneInfo("America/Los_Angeles")


@pytest.fixture
async def sandbox() -> AsyncIterator[httpx.AsyncClient]:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_sandbox_app(seed=1)),
                               base_url=SANDBOX)
    http.use_client(client)
    await client.post("/_sandbox/quota", json={"key": "sandbox-key-3"})  # a third good key
    yield client
    await http.close_client()


@pytest.fixture
async def ctx(pool: asyncpg.Pool, settings: Settings, tmp_path: Path) -> TaskContext:
    await pool.execute("TRUNCATE credential, youtube_post, post_log")
    tuned = settings.model_copy(update={"sandbox_url": SANDBOX,
                                        "platform_settings": {"youtube": {"api_keys": KEYS}},
                                        "beat_home": tmp_path})
    return TaskContext(task_id=1, flow="test", attempt=1, pool=pool,
                       log=logging.getLogger("test"), settings=tuned)


async def video_ids(sandbox: httpx.AsyncClient, count: int) -> list[str]:
    world = (await sandbox.get("/_sandbox/world")).json()
    channel = next(c for c in world["channels"] if c["video_count"] >= count)
    ids: list[str] = []
    token = None
    while len(ids) < count:
        page = (await sandbox.get("/youtube/v3/playlistItems", params={
            "playlistId": channel["uploads"], "part": "contentDetails", "maxResults": 50,
            "key": "sandbox-key-3", **({"pageToken": token} if token else {})})).json()
        ids += [item["contentDetails"]["videoId"] for item in page["items"]]
        token = page.get("nextPageToken")
    return ids[:count]


async def credential_of(pool: asyncpg.Pool, ctx: TaskContext, key: str) -> dict[str, Any]:
    crypto = Crypto.from_settings(ctx.settings)
    for info in await store.list_infos(pool, "youtube_data_api"):
        cred = await store.get(pool, crypto, info.id)
        if cred and cred.secret("key") == key:
            return dict(await pool.fetchrow("SELECT * FROM credential WHERE id = $1", info.id))
    raise AssertionError(f"no credential for {key}")


async def units(sandbox: httpx.AsyncClient) -> dict[str, int]:
    keys = (await sandbox.get("/_sandbox/usage")).json()["quota"]["keys"]
    return {k: v["used"] for k, v in keys.items()}


async def test_a_key_answering_429_rests_for_its_retry_after_and_the_others_carry_on(
        ctx: TaskContext, sandbox: httpx.AsyncClient) -> None:
    ids = await video_ids(sandbox, 400)
    await sandbox.post("/_sandbox/quota", json={"key": "sandbox-key-1", "throttle_s": 120})
    before = await units(sandbox)
    first = dataclasses.replace(ctx, settings=ctx.settings.model_copy(
        update={"platform_settings": {"youtube": {"api_keys": ["sandbox-key-1"]}}}))
    result = await flows.refresh_yt_posts(flows.VideosParams(video_ids=ids[:50]), first)
    assert result["sources"] == ["invidious"], "its only key rests: the keyless fallback"
    resting = await credential_of(ctx.pool, ctx, "sandbox-key-1")
    expected = datetime.now(UTC) + timedelta(seconds=120)
    assert abs((resting["disabled_till"] - expected).total_seconds()) < 10
    assert resting["enabled"] and not resting["data_access_expired"]
    for start in range(50, 400, 50):  # the other keys join; the resting one is not asked
        result = await flows.refresh_yt_posts(flows.VideosParams(video_ids=ids[start:start + 50]),
                                              ctx)
        assert result["videos"] == 50 and result["sources"] == ["youtube_data_api"]
    after = await units(sandbox)
    assert after["sandbox-key-1"] == before["sandbox-key-1"]
    assert sum(after.values()) - sum(before.values()) == 7
    assert (await sandbox.get("/_sandbox/usage")).json()["statuses"]["429"] == 1
    assert await ctx.pool.fetchval("SELECT count(*) FROM youtube_post") == 400


async def test_an_invalid_key_is_retired_until_it_validates_again(
        ctx: TaskContext, sandbox: httpx.AsyncClient) -> None:
    bad = "not-a-sandbox-key"
    ids = await video_ids(sandbox, 250)
    only_bad = dataclasses.replace(ctx, settings=ctx.settings.model_copy(
        update={"platform_settings": {"youtube": {"api_keys": [bad]}}}))
    result = await flows.refresh_yt_posts(flows.VideosParams(video_ids=ids[:50]), only_bad)
    assert result["sources"] == ["invidious"], "no usable key left: the keyless fallback"
    retired = await credential_of(ctx.pool, ctx, bad)
    assert retired["data_access_expired"] and "keyInvalid" in (retired["last_error"] or "")
    with_good = dataclasses.replace(ctx, settings=ctx.settings.model_copy(
        update={"platform_settings": {"youtube": {"api_keys": ["sandbox-key-2"]}}}))
    for start in range(0, 250, 50):
        result = await flows.refresh_yt_posts(
            flows.VideosParams(video_ids=ids[start:start + 50]), with_good)
        assert result["videos"] == 50 and result["sources"] == ["youtube_data_api"]
    usage = (await sandbox.get("/_sandbox/usage")).json()
    assert usage["statuses"].get("400", 0) == 1, "the retired key is never tried again"
    await sandbox.post("/_sandbox/quota", json={"key": bad})  # the platform accepts it now
    outcome = await validate_and_record(ctx.pool, Crypto.from_settings(ctx.settings),
                                        Validator.from_settings(ctx.settings), retired["id"])
    assert outcome is not None and outcome[0].valid
    assert not (await credential_of(ctx.pool, ctx, bad))["data_access_expired"]


async def test_each_key_spends_its_daily_quota_then_the_fallback_answers(
        ctx: TaskContext, sandbox: httpx.AsyncClient) -> None:
    """Beat counts each key's quota units itself (a Pacific day), so a spent key is passed
    over before the platform refuses it; GET /budgets reads the same counts."""
    ids = await video_ids(sandbox, 350)
    tight = dataclasses.replace(ctx, settings=ctx.settings.model_copy(update={
        "credential_quotas": {"youtube_data_api": "2/day@America/Los_Angeles"}}))
    before = await units(sandbox)
    sources = []
    for start in range(0, 350, 50):
        result = await flows.refresh_yt_posts(
            flows.VideosParams(video_ids=ids[start:start + 50]), tight)
        sources.append(result["sources"])
    assert sources == [["youtube_data_api"]] * 6 + [["invidious"]]
    after = await units(sandbox)
    assert {key: after[key] - before.get(key, 0) for key in KEYS} == dict.fromkeys(KEYS, 2)
    found = await read_budgets(tight.settings, ctx.pool, process_limiter(tight.settings))
    [source] = [s for s in found.sources if s.source == "youtube_data_api"]
    quotas = [c.limits[-1] for c in source.credentials]
    assert [(q.used, q.remaining) for q in quotas] == [(2, 0)] * 3
    midnight = datetime.now(PACIFIC).replace(hour=0, minute=0, second=0, microsecond=0) \
        + timedelta(days=1)
    assert all(q.frees_at and abs((q.frees_at - midnight).total_seconds()) < 5 for q in quotas)
