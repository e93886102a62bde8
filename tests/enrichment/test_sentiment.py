"""The sentiment listeners against a real database: sentiment_analysis scores each stored
comment of a post with VADER (no call, no cost); sentiment_report sums a post's scores into one
sentiment_log row with YAKE's keywords of its caption and comments, and announces it; running
either again changes nothing twice; a post that is not stored is refused; the chat model scores
comments only when asked, its call announced with prompt version, tokens and cost. Both run
under `beat listen` beside core's listeners, through the registry, and on the real broker a
repeated message is skipped and a post not stored is dead-lettered with the reason."""

import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from aio_pika.abc import AbstractRobustConnection

from core.config import Settings
from core.consumers import ERROR_HEADER, ListenerContext, Reject
from core.listeners import registered_listeners
from core.queue import Queue
from enrichment import chat
from enrichment.sentiment import keywords, score, sentiment_analysis, sentiment_report
from sandbox.app import create_sandbox_app
from tests import test_consumers as rig
from tests.sandbox.helpers import client_for
from tests.test_consumers import Topology, dead_letters, eventually, publish, running

amqp = rig.amqp  # the broker fixtures of test_consumers
topology = rig.topology

ROWS = """
TRUNCATE comment_sentiment, sentiment_log, event_outbox, instagram_post, instagram_comment;
INSERT INTO instagram_post (post_id, caption)
VALUES ('p1', 'Sunrise hike in the Swiss Alps with coffee. Swiss Alps every weekend.'),
       ('p2', 'A quiet post');
INSERT INTO instagram_comment (comment_id, post_id, text) VALUES
    ('c1', 'p1', 'I love this, absolutely gorgeous view!'),
    ('c2', 'p1', 'Worst photo ever, I hate it.'),
    ('c3', 'p1', 'Which trail is this?'),
    ('c4', 'p1', 'Amazing, the Swiss Alps are the best'),
    ('c9', 'p2', 'nice');
"""


@pytest.fixture
async def db(pool: asyncpg.Pool) -> asyncpg.Pool:
    await pool.execute(ROWS)
    return pool


async def handle(handler: Any, body: dict[str, Any], pool: asyncpg.Pool,
                 settings: Settings) -> None:
    async with pool.acquire() as conn, conn.transaction():
        ctx = ListenerContext(listener=handler.__name__, event_id="e1", attempt=1, conn=conn,
                              pool=pool, queue=Queue(pool), settings=settings,
                              log=logging.getLogger("test"), state={})
        await handler(body, ctx)


def test_vader_labels_and_yake_keywords() -> None:
    assert score("I love this, absolutely gorgeous view!")["label"] == "positive"
    assert score("Worst photo ever, I hate it.")["label"] == "negative"
    assert score("Which trail is this?")["label"] == "neutral"
    found = [k["keyword"] for k in keywords("Sunrise hike in the Swiss Alps. Swiss Alps again, "
                                            "hiking the Swiss Alps with coffee.")]
    assert "Swiss Alps" in found[:3]
    assert keywords("   ") == []


async def test_comments_are_scored_then_reported_per_post(db: asyncpg.Pool,
                                                          settings: Settings) -> None:
    await handle(sentiment_analysis, {"post_ids": ["p1", "p2"]}, db, settings)
    labels = {r["comment_id"]: r["label"] for r in await db.fetch(
        "SELECT * FROM comment_sentiment WHERE method = 'vader'")}
    assert labels == {"c1": "positive", "c2": "negative", "c3": "neutral", "c4": "positive",
                      "c9": "positive"}
    await handle(sentiment_report, {"post_id": "p1"}, db, settings)
    await handle(sentiment_report, {"post_id": "p1"}, db, settings)  # again: the same row
    [report] = await db.fetch("SELECT * FROM sentiment_log")
    assert (report["platform"], report["post_id"], report["method"]) == ("instagram", "p1",
                                                                         "vader")
    assert (report["comments"], report["positive"], report["neutral"], report["negative"]) == (
        4, 2, 1, 1)
    compounds = [r["compound"] for r in await db.fetch(
        "SELECT compound FROM comment_sentiment WHERE post_id = 'p1'")]
    assert report["compound_mean"] == pytest.approx(sum(compounds) / 4, abs=1e-4)
    assert "Swiss Alps" in [k["keyword"] for k in report["keywords"]][:3]
    events = await db.fetch("SELECT * FROM event_outbox ORDER BY id")
    assert [e["type"] for e in events] == ["sentiment.instagram.reported"] * 2
    assert events[0]["entity_key"] == "p1" and events[0]["changes"]["positive"] == 2


async def test_a_post_not_stored_or_another_platform_is_refused(db: asyncpg.Pool,
                                                                settings: Settings) -> None:
    with pytest.raises(Reject, match="instagram post p404 is not stored"):
        await handle(sentiment_analysis, {"post_id": "p404"}, db, settings)
    with pytest.raises(Reject, match="only instagram comments"):
        await handle(sentiment_report, {"post_id": "p1", "platform": "youtube"}, db, settings)
    with pytest.raises(Reject, match="give a post_id or post_ids"):
        await handle(sentiment_report, {}, db, settings)


def test_beat_listen_runs_the_seeds_sentiment_queues_beside_cores() -> None:
    found = {lis.name: lis for lis in registered_listeners(Settings())}
    assert {"credentials_validate", "identity_token", "keyword_collection"} <= set(found)
    assert [(found[n].exchange, found[n].routing_key, found[n].queue, found[n].prefetch)
            for n in ("sentiment_analysis", "sentiment_report")] == [
        ("beat.dx", "post_activity_log_bulk_rk", "sentiment_analysis_q", 1),
        ("beat.dx", "sentiment_collection_report_in_rk", "sentiment_report_q", 1)]


@pytest.fixture
async def chat_settings(settings: Settings) -> AsyncIterator[Settings]:
    """Settings whose chat calls reach an in-process sandbox."""
    own = settings.model_copy(update={"sandbox_url": "http://test", "redis_url": None})
    async with client_for(create_sandbox_app(seed=1)) as client:
        chat._directors.pop(id(own), None)
        chat.director(own, http_client=client)
        yield own
        chat._directors.pop(id(own), None)


async def test_the_chat_model_scores_comments_only_when_asked(
        db: asyncpg.Pool, chat_settings: Settings) -> None:
    await handle(sentiment_analysis, {"post_id": "p1"}, db, chat_settings)
    assert await db.fetchval("SELECT count(*) FROM event_outbox") == 0  # VADER: no call
    await handle(sentiment_analysis, {"post_id": "p1", "method": "gpt"}, db, chat_settings)
    rows = await db.fetch("SELECT * FROM comment_sentiment WHERE method = 'gpt' "
                          "ORDER BY comment_id")
    assert [r["comment_id"] for r in rows] == ["c1", "c2", "c3", "c4"]
    assert all(-1 <= r["compound"] <= 1 and r["positive"] is None for r in rows)
    [event] = await db.fetch("SELECT * FROM event_outbox")
    assert event["type"] == "sentiment.instagram.scored"
    changes = event["changes"]
    assert (changes["prompt_name"], changes["prompt_version"], changes["model"]) == (
        "instagram_comment_sentiment", "1.0", "gpt-4o-mini")
    assert changes["comments"] == 4 and changes["tokens_in"] > 0
    assert changes["cost_usd"] == pytest.approx(
        (changes["tokens_in"] * 0.15 + changes["tokens_out"] * 0.60) / 1e6)
    await handle(sentiment_report, {"post_id": "p1", "method": "gpt"}, db, chat_settings)
    methods = {r["method"]: r["comments"] for r in await db.fetch("SELECT * FROM sentiment_log")}
    assert methods == {"gpt": 4}


async def test_the_listeners_run_on_the_broker_and_dead_letter_a_post_not_stored(
        db: asyncpg.Pool, settings: Settings, amqp: AbstractRobustConnection,
        topology: Topology) -> None:
    found = {lis.name: lis for lis in registered_listeners(settings)}
    analysis = topology.renamed(found["sentiment_analysis"])
    report = topology.renamed(found["sentiment_report"])
    async with running(settings, analysis, report) as consumer:
        await publish(amqp, analysis, {"post_ids": ["p1", "p2"]}, message_id=str(uuid.uuid4()))
        await eventually(lambda: db.fetchval("SELECT count(*) = 5 FROM comment_sentiment"))
        event = str(uuid.uuid4())
        await publish(amqp, report, {"post_id": "p1"}, message_id=event)
        await publish(amqp, report, {"post_id": "p1"}, message_id=event)  # delivered twice
        await publish(amqp, report, {"post_id": "p404"}, message_id=str(uuid.uuid4()))
        [dead] = await dead_letters(amqp, report, 1)
        await eventually(lambda: consumer.stats.get("duplicate", 0) == 1)
    assert "instagram post p404 is not stored" in str(dead.headers[ERROR_HEADER])
    [row] = await db.fetch("SELECT * FROM sentiment_log")
    assert (row["post_id"], row["comments"], row["positive"]) == ("p1", 4, 2)
    assert await db.fetchval("SELECT count(*) FROM event_outbox "
                             "WHERE type = 'sentiment.instagram.reported'") == 1
