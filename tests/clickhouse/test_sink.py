"""The ClickHouse sink: its DDL and documented queries on an embedded ClickHouse (chdb), and
the buffered consumer on the real RabbitMQ writing batches of 1,000 rows or what gathered
within the flush time, acking only what was written, and keeping one copy of a repeat
(test_snapshots.py: the full snapshots of every platform's entities, end to end)."""

import asyncio
import json
import random
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aio_pika
import pytest

from core.clickhouse.rows import (
    NotASnapshot,
    StoredState,
    ddl,
    parse_event,
    queries,
    snapshot_row,
)
from core.clickhouse.sink import ClickHouseSink
from core.config import Settings
from core.entities import EntityTable
from tests.clickhouse.embedded import EmbeddedClickHouse
from tests.conftest import AMQP_URL
from tests.test_cli import beat, beat_env
from tests.test_consumers import eventually

START = datetime(2026, 3, 1, tzinfo=UTC)


def event(kind: str, platform: str, key: str, at: datetime, changes: dict[str, Any],
          created: bool = False) -> dict[str, Any]:
    """An event body as the relay publishes it."""
    return {"event_id": str(uuid.uuid4()), "occurred_at": at.isoformat(),
            "type": f"{kind}.{platform}.{'created' if created else 'updated'}",
            "platform": platform, "entity_key": key, "changes": changes, "source": "test",
            "schema_version": 1}


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedClickHouse]:
    store = EmbeddedClickHouse(Path(tmp_path_factory.mktemp("chdb")))
    yield store
    store.close()


def test_an_event_becomes_a_row_of_its_stored_state_or_else_of_its_changes() -> None:
    body = event("post", "youtube", "vid", START, {"views": [1, 5], "title": [None, "Hi"],
                                                   "comments_disabled": [None, True],
                                                   "video_id": "vid", "score": [0, 1.5]},
                 created=True)
    parsed = parse_event(body)
    state = StoredState(START + timedelta(seconds=1), "data_api",
                        {"views": 5, "likes": 2, "comments": 0}, {"title": "Hi"})
    row = snapshot_row(parsed, state)
    assert (row["kind"], row["platform"], row["entity_key"], row["created"]) == (
        "post", "youtube", "vid", True)
    assert (row["metrics"], row["texts"], row["stored_at"], row["source"]) == (
        state.metrics, state.texts, state.stored_at, "data_api")
    assert row["complete"] and row["changed"] == [
        "comments_disabled", "score", "title", "video_id", "views"]
    bare = snapshot_row(parsed, None)  # not stored (any more): the changed fields only
    assert not bare["complete"] and bare["stored_at"] == START and bare["source"] == "test"
    assert bare["metrics"] == {"views": 5, "comments_disabled": 1}
    assert bare["texts"] == {"title": "Hi", "video_id": "vid"}
    for bad in ({**body, "type": "task.complete"}, {**body, "event_id": "nope"},
                {k: v for k, v in body.items() if k != "occurred_at"},
                {**body, "changes": [1]}):
        with pytest.raises(NotASnapshot):
            parse_event(bad)


async def test_ddl_and_queries_on_embedded_clickhouse(embedded: EmbeddedClickHouse) -> None:
    await embedded.create_tables()
    await embedded.create_tables()  # IF NOT EXISTS: a restart finds them
    rng = random.Random(5)
    bodies = [event("profile", "instagram", f"p{n}", START + timedelta(hours=h),
                    {"followers": [None, 1000 * n + h]}, created=h == 0)
              for n in range(3) for h in range(0, 120, rng.choice([5, 7, 11]))]
    rows = [snapshot_row(parse_event(b), None) for b in bodies]
    await embedded.insert(rows)
    await embedded.insert(rows[:10])  # a redelivered batch: kept once
    sql = queries(embedded.database)
    daily = embedded.query(sql["daily_metric"], platform="instagram", kind="profile",
                           metric="followers", since=START.strftime("%Y-%m-%d %H:%M:%S"))
    expected: dict[tuple[str, str], tuple[datetime, int]] = {}
    for b in bodies:
        at = datetime.fromisoformat(b["occurred_at"])
        slot = (b["entity_key"], at.date().isoformat())
        if slot not in expected or expected[slot][0] < at:
            expected[slot] = (at, b["changes"]["followers"][1])
    assert {(d["entity_key"], d["day"]): int(d["value"]) for d in daily} == {
        slot: value for slot, (_, value) in expected.items()}
    latest = embedded.query(sql["latest_metric"], kind="profile", metric="followers", limit=2)
    last = {key: value for (key, _), (_, value) in sorted(expected.items())}
    assert [(d["platform"], d["entity_key"], int(d["value"])) for d in latest] == [
        ("instagram", key, value) for key, value in sorted(last.items(), key=lambda kv: -kv[1])
    ][:2]
    history = embedded.query(sql["metric_history"], platform="instagram", kind="profile",
                             key="p1", metric="followers")
    assert [int(h["value"]) for h in history] == [
        b["changes"]["followers"][1] for b in bodies if b["entity_key"] == "p1"]
    per_day = embedded.query(sql["events_per_day"])
    assert sum(int(d["events"]) for d in per_day) == len(bodies)
    assert sum(int(d["created"]) for d in per_day) == 3
    assert sum(int(d["complete"]) for d in per_day) == 0


async def test_a_table_of_changed_fields_only_gets_the_new_columns(
        embedded: EmbeddedClickHouse) -> None:
    """A table created before snapshots were full: the DDL adds stored_at (its rows' event
    time), complete (false) and changed, and the sink can write to it."""
    old = "beat_before"
    embedded.session.query(f"CREATE DATABASE IF NOT EXISTS {old}")
    embedded.session.query(
        f"CREATE TABLE {old}.entity_snapshot (event_id UUID, occurred_at DateTime64(6, 'UTC'), "
        "type LowCardinality(String), kind LowCardinality(String), "
        "platform LowCardinality(String), entity_key String, created Bool, "
        "metrics Map(String, Int64), texts Map(String, String), "
        "source LowCardinality(String), inserted_at DateTime64(3, 'UTC') DEFAULT now64(3)) "
        "ENGINE = ReplacingMergeTree(inserted_at) PARTITION BY toYYYYMM(occurred_at) "
        "ORDER BY (platform, kind, entity_key, occurred_at, event_id)")
    embedded.session.query(
        f"INSERT INTO {old}.entity_snapshot (event_id, occurred_at, type, kind, platform, "
        "entity_key, created, metrics, texts, source) VALUES (generateUUIDv4(), "
        "'2026-01-02 03:04:05.000006', 'profile.x.updated', 'profile', 'x', 'u1', false, "
        "{'followers': 5}, {}, 'test')")
    for statement in ddl(old):
        embedded.session.query(statement)
    before = embedded.query(f"SELECT toString(stored_at) AS stored, complete, changed "
                            f"FROM {old}.entity_snapshot")
    assert before == [{"stored": "2026-01-02 03:04:05.000006", "complete": False,
                       "changed": []}]
    embedded.insert_into(old, [snapshot_row(parse_event(event("post", "x", "t1", START, {})),
                                            None)])
    assert int(embedded.query(f"SELECT count() AS n FROM {old}.entity_snapshot")[0]["n"]) == 2


async def running_until_ready(sink: ClickHouseSink) -> None:
    runner = asyncio.create_task(sink.run())
    await asyncio.wait_for(sink.ready.wait(), 20)
    sink.stop()
    await asyncio.wait_for(runner, 20)


@pytest.fixture
async def channel() -> AsyncIterator[aio_pika.abc.AbstractChannel]:
    connection = await aio_pika.connect(AMQP_URL)
    yield await connection.channel()
    await connection.close()


async def test_batches_of_a_thousand_or_what_gathered_in_the_flush_time(
        settings: Settings, embedded: EmbeddedClickHouse,
        channel: aio_pika.abc.AbstractChannel) -> None:
    await embedded.create_tables()
    embedded.session.query(f"TRUNCATE TABLE {embedded.database}.entity_snapshot")
    exchange_name = f"beat-test-{uuid.uuid4().hex[:10]}"
    tuned = settings.model_copy(update={"clickhouse_batch_rows": 1000,
                                        "clickhouse_flush_seconds": 5.0,
                                        "amqp_exchange": exchange_name})
    first = ClickHouseSink(tuned, embedded)
    assert first.queue == f"{exchange_name}.clickhouse_sink_q"
    await running_until_ready(first)  # declares and binds its queue, then stops
    exchange = await channel.get_exchange(exchange_name)
    bodies = [event("post", "x", f"t{n}", START + timedelta(seconds=n), {"likes": [n, n + 1]})
              for n in range(2500)]
    junk = [event("task", "x", "1", START, {}), {"type": "post.x.updated"}]
    for body in [*bodies, *junk]:  # all waiting in the queue before the sink starts again
        await exchange.publish(aio_pika.Message(json.dumps(body).encode()),
                               routing_key=body["type"] if "task" not in body["type"]
                               else "task.complete")
    sink = ClickHouseSink(tuned, embedded)
    runner = asyncio.create_task(sink.run())
    try:
        await asyncio.wait_for(sink.ready.wait(), 20)
        await eventually(lambda: sink.stats["rows"] == 2500, timeout=30)
        assert sink.batches == [1000, 1000, 500] and sink.stats["skipped"] == 1
        assert sink.stats["complete"] == 0, "no such post is stored: changed fields only"
        count = f"SELECT count() AS n FROM {embedded.database}.entity_snapshot FINAL"
        assert int(embedded.query(count)[0]["n"]) == 2500
        embedded.refuse = 1  # the next batch is refused once, then written
        for body in bodies[:10]:  # redelivered events
            await exchange.publish(aio_pika.Message(json.dumps(body).encode()),
                                   routing_key=body["type"])
        await eventually(lambda: sink.stats["rows"] == 2510, timeout=30)
        assert sink.stats["failed_writes"] == 1 and sink.batches[-1] == 10
        assert int(embedded.query(count)[0]["n"]) == 2500
    finally:
        sink.stop()
        await asyncio.wait_for(runner, 20)
        left = await channel.declare_queue(sink.queue, durable=True, passive=True)
        assert left.declaration_result.message_count == 0  # every message was acked
        await channel.queue_delete(sink.queue)
        await channel.exchange_delete(exchange_name)


def test_the_cli_prints_the_ddl_and_names_what_the_sink_lacks() -> None:
    env = beat_env(CLICKHOUSE_DATABASE="analytics", AMQP_URL="", CLICKHOUSE_URL="")
    printed = beat("sink", "clickhouse", "--ddl", env=env)
    assert printed.returncode == 0, printed.stderr
    assert "CREATE TABLE IF NOT EXISTS analytics.entity_snapshot" in printed.stdout
    assert "stored_at" in printed.stdout and "ADD COLUMN IF NOT EXISTS" in printed.stdout
    refused = beat("sink", "clickhouse", env=env)
    assert refused.returncode != 0
    assert "needs AMQP_URL, DATABASE_URL, CLICKHOUSE_URL" in refused.stderr


def test_entity_tables_are_plain_columns_with_some_counts() -> None:
    table = EntityTable("x_post", "tweet_id", ("likes", "views"), ("text",))
    assert table.rows_sql() == ("SELECT t.tweet_id, t.updated_at, t.source, t.likes, t.views, "
                                "t.text FROM x_post AS t WHERE t.tweet_id = ANY($1::text[])")
    for bad in ({"table": "x_post; DROP TABLE x_post"}, {"metrics": ()},
                {"texts": ("Text",)}, {"stored": "now()"}):
        with pytest.raises(ValueError):
            EntityTable(**{"table": "x_post", "key": "tweet_id", "metrics": ("likes",), **bad})
