"""Full snapshots end to end: entities of every platform stored by the platform's own store
functions, their events relayed to a non-default AMQP_EXCHANGE on the real RabbitMQ, and the
sink, as `beat sink clickhouse` builds it from the settings, writing each event's entity to an
embedded ClickHouse (chdb). Every row's numbers equal the PostgreSQL row's (checked by SQL of
this module's own, not through the platforms' declarations), also for events that changed one
field only; an entity written again before the sink read it is written as that later state
with its later time; the README's query examples answer what PostgreSQL says."""

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aio_pika
import asyncpg
import pytest

import facebook.models as fb
import instagram.models as ig
import x.models as xm
import youtube.models as yt
from core import db
from core.clickhouse.sink import ClickHouseSink
from core.config import Settings
from facebook import store as fb_store
from instagram import store as ig_store
from tests.clickhouse.embedded import EmbeddedClickHouse
from tests.conftest import AMQP_URL
from tests.test_consumers import eventually
from tests.test_relay import FAST, Relay
from tests.test_relay import running as relaying
from x import store as x_store
from youtube import store as yt_store

README = Path(__file__).parents[2] / "README.md"
N = 3  # entities of each kind per platform

# Per platform and kind: the table, its key, and the counts a full snapshot must hold (a
# profile's audience also as "followers": YouTube's is `subscribers`).
TABLES: dict[tuple[str, str], tuple[str, str, tuple[str, ...]]] = {
    ("youtube", "profile"): ("youtube_account", "channel_id",
                             ("subscribers", "views", "video_count")),
    ("youtube", "post"): ("youtube_post", "video_id", ("views", "likes", "comments")),
    ("youtube", "comment"): ("youtube_comment", "comment_id", ("likes", "reply_count")),
    ("instagram", "profile"): ("instagram_account", "profile_id",
                               ("followers", "following", "media_count")),
    ("instagram", "post"): ("instagram_post", "post_id", ("likes", "comments", "views")),
    ("instagram", "comment"): ("instagram_comment", "comment_id", ("likes", "replies")),
    ("facebook", "profile"): ("facebook_page", "page_id",
                              ("fan_count", "followers", "talking_about")),
    ("facebook", "post"): ("facebook_post", "post_id", ("likes", "comments", "shares")),
    ("x", "profile"): ("x_account", "user_id", ("followers", "following", "tweets", "listed")),
    ("x", "post"): ("x_post", "tweet_id", ("likes", "comments", "shares")),
}
AUDIENCE = {"youtube": "subscribers", "instagram": "followers", "facebook": "followers",
            "x": "followers"}
STORED_AT = {"youtube_comment": "refreshed_at", "instagram_comment": "refreshed_at"}


async def store_round(pool: asyncpg.Pool, r: int) -> None:
    """Round 0 creates N entities of each kind per platform; round r > 0 changes ONE field of
    each (a page's likes, a channel's views, ...), the others sent again unchanged or not at
    all."""
    first = r == 0
    async with pool.acquire() as conn:
        await yt_store.save_channels(conn, [yt.Channel(
            channel_id=f"UC{i}", handle=f"@chan{i}", title=f"Channel {i}",
            subscribers=1000 * (i + 1) if first else None, views=50_000 * (i + 1) + r,
            video_count=10 + i, source="test") for i in range(N)])
        await yt_store.save_videos(conn, [yt.Video(
            video_id=f"v{i}", channel_id=f"UC{i}", title=f"Video {i}", views=900 + i,
            likes=40 + i + r, comments=5 + i, source="test") for i in range(N)])
        await yt_store.save_comments(conn, [yt.Comment(
            comment_id=f"yc{i}", video_id=f"v{i}", text=f"nice {i}", likes=3 + i + r,
            reply_count=i, source="test") for i in range(N)])
    await ig_store.save_profiles(pool, [ig.Profile(
        profile_id=f"ig{i}", handle=f"insta{i}", followers=2000 * (i + 1),
        following=100 + i + r, media_count=30 + i, source="test") for i in range(N)])
    await ig_store.save_posts(pool, [ig.Post(
        post_id=f"igp{i}", profile_id=f"ig{i}", caption=f"post {i}", likes=70 + i + r,
        comments=7 + i, views=700 + i, source="test") for i in range(N)])
    await ig_store.save_comments(pool, "igp0", [ig.Comment(
        comment_id=f"igc{i}", text=f"wow {i}", likes=1 + i + r, replies=i, source="test")
        for i in range(N)])
    await fb_store.save_pages(pool, [fb.Page(
        page_id=f"fb{i}", username=f"page{i}", fan_count=3000 * (i + 1) + r,
        followers=3100 * (i + 1), talking_about=50 + i, source="test") for i in range(N)])
    await fb_store.save_posts(pool, [fb.Post(
        post_id=f"fbp{i}", page_id=f"fb{i}", message=f"hello {i}", likes=90 + i + r,
        comments=9 + i, shares=2 + i, source="test") for i in range(N)])
    await x_store.save_accounts(pool, [xm.Account(
        user_id=f"x{i}", handle=f"tw{i}", followers=4000 * (i + 1), following=300 + i,
        tweets=500 + i, listed=20 + i + r, source="test") for i in range(N)])
    await x_store.save_posts(pool, [xm.Tweet(
        tweet_id=f"t{i}", user_id=f"x{i}", text=f"tweet {i}", likes=60 + i + r, replies=6 + i,
        retweets=3 + i, source="test") for i in range(N)])


@dataclass
class Rig:
    settings: Settings
    pool: asyncpg.Pool
    store: EmbeddedClickHouse
    seen: set[uuid.UUID] = field(default_factory=set)  # events the sink has written
    rounds: list[list[asyncpg.Record]] = field(default_factory=list)  # new events per round
    # Per event, the PostgreSQL row right after its round (what the sink read).
    postgres: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)
    queue: str = ""
    late: asyncpg.Record | None = None  # the event whose entity was written again

    async def entity_events(self) -> list[asyncpg.Record]:
        return await self.pool.fetch(
            "SELECT event_id, type, platform, entity_key, occurred_at, changes FROM event_outbox"
            " WHERE type ~ '^(profile|post|comment)[.]' ORDER BY id")

    def row(self, event_id: uuid.UUID) -> dict[str, Any]:
        found = self.store.query(
            f"SELECT *, toString(stored_at) AS stored, toString(occurred_at) AS occurred "
            f"FROM {self.store.database}.entity_snapshot FINAL "
            f"WHERE event_id = {{id:UUID}}", id=str(event_id))
        assert len(found) == 1, f"one row for event {event_id}: {found}"
        return found[0]


def kind_of(event: asyncpg.Record) -> str:
    return str(event["type"]).split(".")[0]


@asynccontextmanager
async def sinking(rig: Rig) -> AsyncIterator[ClickHouseSink]:
    """The sink as `beat sink clickhouse` builds it: exchange and queue from the settings."""
    sink = ClickHouseSink(rig.settings, rig.store)
    runner = asyncio.create_task(sink.run())
    try:
        await asyncio.wait_for(sink.ready.wait(), 20)
        rig.queue = sink.queue
        yield sink
    finally:
        sink.stop()
        await asyncio.wait_for(runner, 20)


def relay(rig: Rig) -> Relay:
    return Relay(rig.settings, exchange=rig.settings.amqp_exchange, options=FAST)


async def relay_round(rig: Rig, sink: ClickHouseSink, r: int) -> None:
    """Store round `r`, relay it, wait for the sink to write every event, and keep what
    PostgreSQL holds of each event's entity then."""
    await store_round(rig.pool, r)
    events = [e for e in await rig.entity_events() if e["event_id"] not in rig.seen]
    total = len(rig.seen) + len(events)
    async with relaying(relay(rig)):
        await eventually(lambda: sink.stats["rows"] == total, timeout=60)
    rig.seen |= {e["event_id"] for e in events}
    rig.rounds.append(events)
    for e in events:
        rig.postgres[e["event_id"]] = await stored(rig.pool, e["platform"], kind_of(e),
                                                   e["entity_key"])


async def written_again(rig: Rig) -> None:
    """With no sink running: a channel update (an event), relayed; then another write of the
    channel (no event, as the analytics' own update writes); then the sink comes back."""
    async with rig.pool.acquire() as conn:
        await yt_store.save_channels(conn, [yt.Channel(channel_id="UC2", subscribers=120_000,
                                                       source="test")])
    (event,) = [e for e in await rig.entity_events() if e["event_id"] not in rig.seen]
    async with relaying(relay(rig)):
        await eventually(lambda: _sent(rig.pool, event["event_id"]), timeout=30)
    await rig.pool.execute("UPDATE youtube_account SET subscribers = 123456, updated_at = now()"
                           " WHERE channel_id = 'UC2'")
    async with sinking(rig) as sink:
        await eventually(lambda: sink.stats["rows"] == 1, timeout=30)
    rig.seen.add(event["event_id"])
    rig.late = event
    rig.postgres[event["event_id"]] = await stored(rig.pool, "youtube", "profile", "UC2")


async def _sent(pool: asyncpg.Pool, event_id: uuid.UUID) -> bool:
    return await pool.fetchval("SELECT status FROM event_outbox WHERE event_id = $1",
                               event_id) == "SENT"


@pytest.fixture(scope="module")
async def rig(settings: Settings, tmp_path_factory: pytest.TempPathFactory
              ) -> AsyncIterator[Rig]:
    """Round 0 (every entity created), round 1 (one field of each changed), then a channel
    written again behind its event's back, all through the relay and the sink."""
    tuned = settings.model_copy(update={"amqp_exchange": f"beat-test-{uuid.uuid4().hex[:10]}",
                                        "clickhouse_flush_seconds": 0.3})
    assert tuned.database_url
    pool = await db.create_pool(tuned.database_url, max_size=4)
    store = EmbeddedClickHouse(Path(tmp_path_factory.mktemp("chdb-snapshots")))
    rig = Rig(tuned, pool, store)
    try:
        async with sinking(rig) as sink:
            for r in (0, 1):
                await relay_round(rig, sink, r)
        await written_again(rig)
        yield rig
    finally:
        store.close()
        await pool.close()
        connection = await aio_pika.connect(AMQP_URL)
        channel = await connection.channel()
        if rig.queue:
            await channel.queue_delete(rig.queue)
        for name in (tuned.amqp_exchange, f"{tuned.amqp_exchange}.dlx"):
            await channel.exchange_delete(name)
        await connection.close()


async def stored(pool: asyncpg.Pool, platform: str, kind: str, key: str) -> dict[str, Any]:
    """The entity's PostgreSQL row (as JSON), its write time and source."""
    table, column, _ = TABLES[(platform, kind)]
    stamp = STORED_AT.get(table, "updated_at")
    found = await pool.fetchrow(
        f"SELECT to_jsonb(t)::text AS row, {stamp} AS stored_at, source FROM {table} AS t "
        f"WHERE {column} = $1", key)
    assert found is not None
    return {**dict(found), "row": json.loads(found["row"])}


def micros(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def check_row_equals_postgres(rig: Rig, event: asyncpg.Record) -> dict[str, int]:
    """The event's row holds every count the PostgreSQL row held after the event; answers
    its metrics."""
    kind, row, pg = kind_of(event), rig.row(event["event_id"]), rig.postgres[event["event_id"]]
    metrics = {name: int(value) for name, value in row["metrics"].items()}
    needed = TABLES[(event["platform"], kind)][2]
    assert row["complete"] and set(needed) <= set(metrics), (event["type"], metrics)
    for name, value in metrics.items():
        column = AUDIENCE[event["platform"]] if (name, kind) == ("followers", "profile") \
            else name
        assert value == int(pg["row"][column]), (event["type"], name)
    assert row["stored"] == micros(pg["stored_at"])
    assert row["changed"] == sorted(dict(event["changes"]))
    assert row["source"] == pg["source"] == "test"
    return metrics


def test_every_platforms_rows_are_full_snapshots_equal_to_postgres(rig: Rig) -> None:
    assert rig.queue == f"{rig.settings.amqp_exchange}.clickhouse_sink_q"
    created, changed = rig.rounds
    assert {(e["platform"], kind_of(e)) for e in created} == set(TABLES)
    assert len(created) == len(changed) == N * len(TABLES)
    for event in [*created, *changed]:
        check_row_equals_postgres(rig, event)
        row = rig.row(event["event_id"])
        assert row["stored"] == row["occurred"], "nothing wrote the entity after its event"


def test_an_event_that_changed_one_field_still_has_every_count(rig: Rig) -> None:
    _, changed = rig.rounds
    by = {(e["platform"], kind_of(e), e["entity_key"]): e for e in changed}
    page = by[("facebook", "profile", "fb1")]
    assert dict(page["changes"]) == {"fan_count": [6000, 6001]}  # the page's likes only
    assert check_row_equals_postgres(rig, page) == {
        "fan_count": 6001, "followers": 6200, "talking_about": 51}
    channel = by[("youtube", "profile", "UC1")]
    assert set(dict(channel["changes"])) == {"views"}
    # Counts never stored (the owner's 28-day figures) are left out, not 0.
    assert check_row_equals_postgres(rig, channel) == {
        "subscribers": 2000, "followers": 2000, "views": 100_001, "video_count": 11}
    for event in changed:
        assert len(dict(event["changes"])) == 1, event["type"]


def test_an_entity_written_again_before_the_read_is_its_later_state(rig: Rig) -> None:
    """The event's own state is gone once the entity is written again: the row holds the later
    state stamped with the later write's time, never later numbers at the event's time."""
    assert rig.late is not None
    assert dict(rig.late["changes"]) == {"subscribers": [3000, 120_000]}
    metrics = check_row_equals_postgres(rig, rig.late)
    assert metrics["subscribers"] == metrics["followers"] == 123_456
    row = rig.row(rig.late["event_id"])
    assert row["stored"] > row["occurred"] == micros(rig.late["occurred_at"])


def readme_examples() -> list[str]:
    """The SQL blocks of the README's ClickHouse section."""
    text = README.read_text()
    section = text[text.index("### ClickHouse sink"):]
    section = section[:section.index("\n## ")]
    return re.findall(r"```sql\n(.*?)```", section, re.DOTALL)


async def test_the_readme_examples_answer_what_postgres_says(rig: Rig) -> None:
    history, top = readme_examples()
    # The channel's followers over time: each state the sink wrote (round 0, round 1, and the
    # state after the analytics' write), at the time it was stored.
    found = rig.store.query(history, platform="youtube", key="UC2")
    assert [int(r["followers"]) for r in found] == [3000, 3000, 123_456]
    assert [r["stored_at"] for r in found] == sorted(r["stored_at"] for r in found)
    # Profiles of every platform by their latest followers.
    expected = await rig.pool.fetch(
        "SELECT * FROM (SELECT 'youtube' AS platform, channel_id AS key, subscribers AS n"
        " FROM youtube_account UNION ALL SELECT 'instagram', profile_id, followers"
        " FROM instagram_account UNION ALL SELECT 'facebook', page_id, followers"
        " FROM facebook_page UNION ALL SELECT 'x', user_id, followers FROM x_account) AS p"
        " ORDER BY n DESC, platform, key LIMIT 10")
    answer = rig.store.query(top)
    assert [(r["platform"], r["entity_key"], int(r["followers"])) for r in answer] == [
        (r["platform"], r["key"], r["n"]) for r in expected]
