"""YouTube storage on real PostgreSQL: idempotent upserts, snapshots, per-metric sources."""

from datetime import UTC, datetime

import asyncpg

from youtube.models import Channel, Comment, Video
from youtube.store import save_channels, save_comments, save_videos

WHEN = datetime(2024, 5, 1, tzinfo=UTC)


def video(**changes: object) -> Video:
    fields: dict[str, object] = {"video_id": "abcdefghijk", "channel_id": "UC" + "a" * 22,
                                 "title": "A video", "published_at": WHEN, "views": 100,
                                 "likes": 10, "comments": 3, "tags": ["x"],
                                 "source": "youtube_data_api"}
    return Video.model_validate({**fields, **changes})


async def test_saving_a_video_twice_leaves_one_row_and_two_snapshots(pool: asyncpg.Pool) -> None:
    await pool.execute("TRUNCATE youtube_post, post_log")
    async with pool.acquire() as conn:
        await save_videos(conn, [video()])
        await save_videos(conn, [video(views=150)])
    rows = await pool.fetch("SELECT * FROM youtube_post")
    assert len(rows) == 1 and rows[0]["views"] == 150 and rows[0]["tags"] == ["x"]
    snapshots = await pool.fetch("SELECT metrics, source FROM post_log ORDER BY id")
    assert [s["metrics"]["views"] for s in snapshots] == [100, 150]
    assert snapshots[0]["source"] == "youtube_data_api"


async def test_a_metric_the_fallback_lacks_keeps_its_value_and_source(pool: asyncpg.Pool) -> None:
    await pool.execute("TRUNCATE youtube_post, post_log")
    async with pool.acquire() as conn:
        await save_videos(conn, [video()])
        await save_videos(conn, [video(views=200, likes=20, comments=None, source="invidious")])
    row = await pool.fetchrow("SELECT * FROM youtube_post")
    assert (row["views"], row["likes"], row["comments"]) == (200, 20, 3)
    assert row["metric_sources"] == {"views": "invidious", "likes": "invidious",
                                     "comments": "youtube_data_api"}
    last = await pool.fetchrow("SELECT metrics, source FROM post_log ORDER BY id DESC LIMIT 1")
    assert last["metrics"] == {"views": 200, "likes": 20} and last["source"] == "invidious"


async def test_a_video_without_metrics_gets_no_snapshot(pool: asyncpg.Pool) -> None:
    await pool.execute("TRUNCATE youtube_post, post_log")
    async with pool.acquire() as conn:
        await save_videos(conn, [video(views=None, likes=None, comments=None)])
    assert await pool.fetchval("SELECT count(*) FROM post_log") == 0
    assert await pool.fetchval("SELECT count(*) FROM youtube_post") == 1


async def test_channels_upsert_and_snapshot(pool: asyncpg.Pool) -> None:
    await pool.execute("TRUNCATE youtube_account, profile_log")
    channel = Channel(channel_id="UC" + "b" * 22, handle="@someone", title="Someone",
                      subscribers=None, views=5000, video_count=12, source="youtube_data_api")
    async with pool.acquire() as conn:
        first = await save_channels(conn, [channel])
        again = await save_channels(conn, [channel.model_copy(update={"views": 6000})])
    assert first[0]["id"] == again[0]["id"] and again[0]["views"] == 6000
    assert again[0]["subscribers"] is None and again[0]["refreshed_at"] is not None
    snapshots = await pool.fetch("SELECT metrics FROM profile_log ORDER BY id")
    assert [s["metrics"] for s in snapshots] == [{"views": 5000, "video_count": 12},
                                                 {"views": 6000, "video_count": 12}]


async def test_comments_upsert_and_their_events(pool: asyncpg.Pool) -> None:
    await pool.execute("TRUNCATE youtube_comment, event_outbox")
    comment = Comment(comment_id="c1", video_id="abcdefghijk", author="a", text="hi", likes=1,
                      source="youtube_data_api")
    async with pool.acquire() as conn:
        await save_comments(conn, [comment, comment.model_copy(update={"comment_id": "c2"})])
        await save_comments(conn, [comment.model_copy(update={"likes": 5})])
    rows = await pool.fetch("SELECT comment_id, likes FROM youtube_comment ORDER BY comment_id")
    assert [(r["comment_id"], r["likes"]) for r in rows] == [("c1", 5), ("c2", 1)]
    events = await pool.fetch("SELECT type, entity_key, changes FROM event_outbox "
                              "WHERE type LIKE 'comment.%' ORDER BY id")
    assert [(e["type"], e["entity_key"]) for e in events] == [
        ("comment.youtube.created", "c1"), ("comment.youtube.created", "c2"),
        ("comment.youtube.updated", "c1")]
    assert events[2]["changes"] == {"likes": [1, 5]}


async def test_a_threads_replies_are_stored_under_it(pool: asyncpg.Pool) -> None:
    await pool.execute("TRUNCATE youtube_comment, event_outbox")
    reply = Comment(comment_id="c1.r1", video_id="abcdefghijk", text="yes", likes=2,
                    parent_id="c1", source="youtube_data_api")
    thread = Comment(comment_id="c1", video_id="abcdefghijk", text="hi", likes=1, reply_count=1,
                     replies=[reply], source="youtube_data_api")
    async with pool.acquire() as conn:
        assert await save_comments(conn, [thread]) == 1  # threads stored
        await save_comments(conn, [thread.model_copy(update={"replies": []})])
    rows = await pool.fetch("SELECT comment_id, parent_id FROM youtube_comment ORDER BY 1")
    assert [(r["comment_id"], r["parent_id"]) for r in rows] == [("c1", None), ("c1.r1", "c1")]
    created = await pool.fetchval("SELECT changes FROM event_outbox WHERE entity_key = 'c1.r1'")
    assert created["parent_id"] == "c1" and created["video_id"] == "abcdefghijk"


async def test_events_say_what_changed_and_nothing_when_nothing_did(pool: asyncpg.Pool) -> None:
    await pool.execute("TRUNCATE youtube_post, post_log, event_outbox")
    async with pool.acquire() as conn:
        await save_videos(conn, [video()])
        await save_videos(conn, [video()])  # the same task run twice: no second event
        await save_videos(conn, [video(views=150, source="invidious")])
    events = await pool.fetch("SELECT type, entity_key, changes, source FROM event_outbox "
                              "ORDER BY id")
    assert [e["type"] for e in events] == ["post.youtube.created", "post.youtube.updated"]
    assert events[0]["changes"]["views"] == [None, 100] and events[0]["entity_key"] == \
        "abcdefghijk"
    assert events[1]["changes"] == {"views": [100, 150]} and events[1]["source"] == "invidious"


async def test_channel_events(pool: asyncpg.Pool) -> None:
    await pool.execute("TRUNCATE youtube_account, profile_log, event_outbox")
    channel = Channel(channel_id="UC" + "c" * 22, handle="@c", title="C", subscribers=10,
                      source="youtube_data_api")
    async with pool.acquire() as conn:
        await save_channels(conn, [channel])
        await save_channels(conn, [channel])
        await save_channels(conn, [channel.model_copy(update={"subscribers": 11})])
    events = await pool.fetch("SELECT type, changes FROM event_outbox ORDER BY id")
    assert [e["type"] for e in events] == ["profile.youtube.created", "profile.youtube.updated"]
    assert events[1]["changes"] == {"subscribers": [10, 11]}
