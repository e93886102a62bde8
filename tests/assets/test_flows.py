"""The asset flows' handler against a real database: a stored asset is logged, its URL put on
the item's row through the item's platform (every platform's hook), and announced once in the
outbox; a refused URL is logged with its reason and fails for good; the same image twice is
one object."""

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from pydantic import ValidationError

from assets import flows
from assets.flows import AssetParams, asset_upload_flow, asset_upload_flow_stories
from assets.guard import Refused
from core import metrics
from core.config import Settings
from core.errors import BadParams
from core.flows import TaskContext, load_flows

ROWS = """
TRUNCATE asset_log, event_outbox, youtube_post, youtube_account, instagram_post,
         instagram_account, facebook_post, facebook_page, x_post, x_account;
INSERT INTO youtube_post (video_id) VALUES ('dQw4w9WgXcQ');
INSERT INTO youtube_account (channel_id, handle) VALUES ('UCS-A9sNwldL25QGft_hdTMA', '@lucky');
INSERT INTO instagram_post (post_id, shortcode) VALUES ('3100', 'C1a2b3');
INSERT INTO instagram_account (profile_id, handle) VALUES ('17841', 'million.brand');
INSERT INTO facebook_post (post_id, aliases) VALUES ('10_20', '{pfbid0abc}');
INSERT INTO facebook_page (page_id, username) VALUES ('10', 'beatsandbox');
INSERT INTO x_post (tweet_id) VALUES ('1790000000000000001');
INSERT INTO x_account (user_id, handle) VALUES ('44', 'beatnews');
"""


@pytest.fixture
def asset_settings(settings: Settings, sandbox_url: str, tmp_path: Path) -> Settings:
    return settings.model_copy(update={
        "sandbox_url": sandbox_url,
        "platform_settings": {"assets": {"assets_dir": str(tmp_path / "store")}}})


@pytest.fixture
async def db(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Pool]:
    await pool.execute(ROWS)
    yield pool
    for _, service in flows._services.values():
        await service.close()
    flows._services.clear()


def context(pool: asyncpg.Pool, settings: Settings, task_id: int = 1) -> TaskContext:
    return TaskContext(task_id=task_id, flow="asset_upload_flow", attempt=1, pool=pool,
                       log=logging.getLogger("test"), settings=settings)


def test_the_flows_run_on_the_assets_platform_with_the_seed_sizes() -> None:
    found = load_flows(Settings())
    sizes = {name: (f.platform, f.processes, f.concurrency) for name, f in found.items()
             if f.platform == "ASSETS"}
    assert sizes == {"asset_upload_flow": ("ASSETS", 15, 5),
                     "asset_upload_flow_stories": ("ASSETS", 5, 5)}


@pytest.mark.parametrize("platform, kind, item_id, table, column, value", [
    ("youtube", "video", "dQw4w9WgXcQ", "youtube_post", "video_id", "dQw4w9WgXcQ"),
    ("youtube", "profile", "@lucky", "youtube_account", "handle", "@lucky"),
    ("instagram", "post", "C1a2b3", "instagram_post", "post_id", "3100"),
    ("instagram", "story", "million.brand/3100", "instagram_post", "post_id", "3100"),
    ("INSTAGRAM", "profile", "million.brand", "instagram_account", "profile_id", "17841"),
    ("facebook", "post", "pfbid0abc", "facebook_post", "post_id", "10_20"),
    ("facebook", "profile", "beatsandbox", "facebook_page", "page_id", "10"),
    ("x", "post", "1790000000000000001", "x_post", "tweet_id", "1790000000000000001"),
    ("x", "profile", "beatnews", "x_account", "user_id", "44"),
])
async def test_a_stored_asset_is_logged_attached_and_announced(
        db: asyncpg.Pool, asset_settings: Settings, sandbox_url: str, platform: str,
        kind: str, item_id: str, table: str, column: str, value: str) -> None:
    params = AssetParams(url=f"{sandbox_url}/assets/images/9.jpg", platform=platform,
                         kind=kind, id=item_id)
    result = await asset_upload_flow(params, context(db, asset_settings, task_id=77))

    assert result["attached"] == 1
    row = await db.fetchrow(f"SELECT asset_url FROM {table} WHERE {column} = $1", value)
    assert row["asset_url"] == result["url"]
    log = await db.fetchrow("SELECT * FROM asset_log")
    assert (log["status"], log["platform"], log["entity_kind"], log["entity_id"],
            log["key"], log["bytes"], log["width"], log["height"], log["task_id"]) == \
        ("STORED", platform.lower(), kind, item_id, result["key"], result["bytes"],
         result["width"], result["height"], 77)
    assert log["sha256"] == result["sha256"] and log["source_bytes"] > log["bytes"]
    [event] = await db.fetch("SELECT * FROM event_outbox WHERE type = 'asset.stored'")
    changes = json.loads(event["changes"])
    assert (event["platform"], event["entity_key"], event["source"]) == \
        (platform.lower(), result["key"], "assets")
    assert changes["entity"] == {"platform": platform.lower(), "kind": kind, "id": item_id}
    assert (changes["url"], changes["asset_log_id"]) == (result["url"], log["id"])


async def test_an_item_not_stored_yet_gets_nothing_but_the_asset_is_kept(
        db: asyncpg.Pool, asset_settings: Settings, sandbox_url: str) -> None:
    params = AssetParams(url=f"{sandbox_url}/assets/images/9.png", platform="x", kind="post",
                         id="1")
    result = await asset_upload_flow_stories(params, context(db, asset_settings))
    assert result["attached"] == 0
    assert await db.fetchval("SELECT count(*) FROM asset_log WHERE status = 'STORED'") == 1


def stored_bytes() -> float:
    """The asset bytes this process counted in its metrics (assets of no item)."""
    found = metrics.parse(metrics.render().decode())
    return found.get(("beat_asset_bytes_total", frozenset({("platform", "none")})), 0.0)


async def test_the_same_image_twice_is_one_object_and_two_log_rows(
        db: asyncpg.Pool, asset_settings: Settings, sandbox_url: str, tmp_path: Path) -> None:
    counted = stored_bytes()
    first = await asset_upload_flow(AssetParams(url=f"{sandbox_url}/assets/images/10.jpg"),
                                    context(db, asset_settings))
    again = await asset_upload_flow(AssetParams(url=f"{sandbox_url}/assets/pages/10"),
                                    context(db, asset_settings))
    assert (first["created"], again["created"]) == (True, False)
    assert first["key"] == again["key"]
    assert stored_bytes() - counted == first["bytes"]  # the metric counts new bytes once
    files = [p for p in (tmp_path / "store").rglob("*") if p.is_file()]
    assert [p.relative_to(tmp_path / "store").as_posix() for p in files] == [first["key"]]
    rows = await db.fetch("SELECT key, created FROM asset_log ORDER BY id")
    assert [(r["key"], r["created"]) for r in rows] == [(first["key"], True),
                                                        (first["key"], False)]


async def test_a_refused_url_is_logged_with_its_reason_and_fails_for_good(
        db: asyncpg.Pool, asset_settings: Settings) -> None:
    params = AssetParams(url="http://169.254.169.254/latest/meta-data/", platform="youtube",
                         kind="video", id="dQw4w9WgXcQ")
    with pytest.raises(Refused, match="cloud metadata address"):
        await asset_upload_flow(params, context(db, asset_settings))
    row = await db.fetchrow("SELECT * FROM asset_log")
    assert (row["status"], row["error_kind"], row["key"]) == ("FAILED", "refused", None)
    assert "cloud metadata address" in row["error"]
    assert await db.fetchval("SELECT count(*) FROM event_outbox") == 0
    assert await db.fetchval("SELECT asset_url FROM youtube_post") is None


async def test_an_unknown_platform_is_bad_params(db: asyncpg.Pool, asset_settings: Settings,
                                                 sandbox_url: str) -> None:
    params = AssetParams(url=f"{sandbox_url}/assets/images/9.jpg", platform="myspace",
                         kind="post", id="1")
    with pytest.raises(BadParams, match="unknown platform 'myspace'"):
        await asset_upload_flow(params, context(db, asset_settings))
    row = await db.fetchrow("SELECT status, error_kind, key FROM asset_log")
    assert (row["status"], row["error_kind"], row["key"]) == ("FAILED", "bad_params", None)


@pytest.mark.parametrize("params, says", [
    ({"url": "ftp://example.com/a.jpg"}, "should match pattern"),
    ({"url": "https://example.com/a.jpg", "platform": "x"}, "platform, kind and id together"),
    ({"url": "https://example.com/a.jpg", "size": 3}, "unknown field 'size'"),
])
def test_params_are_checked_at_enqueue(params: dict[str, Any], says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        AssetParams(**params)
