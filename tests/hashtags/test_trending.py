"""Trending hashtags end to end on generated posts of every platform: their created events go
out through the real relay to the real `hashtags` listener on RabbitMQ, which counts them in
Redis; every answer (trending windows, top-k with ties, fastest-growing, all-time top,
co-occurrence recommendations, top users) equals a direct SQL recount over the stored posts,
and a redelivered event counts once."""

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import aio_pika
import asyncpg
import httpx
import pytest

from core import db
from core.api.app import create_app
from core.config import Settings
from core.hashtags.counts import HashtagCounts
from core.hashtags.extract import hashtags
from core.hashtags.listener import hashtags_listener
from core.listeners import registered_listeners
from tests.conftest import AMQP_URL
from tests.hashtags import generated
from tests.hashtags.generated import ranked
from tests.test_cli import beat, beat_env
from tests.test_consumers import eventually, running
from tests.test_relay import FAST, Relay
from tests.test_relay import running as relaying

PER_PLATFORM = 150


@dataclass
class Counted:
    settings: Settings
    pool: asyncpg.Pool
    counts: HashtagCounts
    now: datetime
    events: int


def minute(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


@pytest.fixture(scope="module")
async def counted(settings: Settings) -> AsyncIterator[Counted]:
    """Generated posts counted through relay -> AMQP_EXCHANGE (a private exchange, not the
    default beat.events) -> the listener as `beat listen` builds it from the settings."""
    tuned = settings.model_copy(update={
        "hashtags_prefix": f"beat-test:{uuid.uuid4().hex[:8]}:tags",
        "amqp_exchange": f"beat-test-{uuid.uuid4().hex[:10]}"})
    assert tuned.database_url
    pool = await db.create_pool(tuned.database_url, max_size=4)
    now = datetime.now(UTC)
    events = await generated.generate(pool, now, PER_PLATFORM)
    listener = {lis.name: lis for lis in registered_listeners(tuned)}["hashtags"]
    assert (listener.exchange, listener.queue) == (tuned.amqp_exchange,
                                                   f"{tuned.amqp_exchange}.hashtags_q")
    counts = HashtagCounts.from_settings(tuned)
    try:
        async with running(tuned, listener) as consumer, \
                relaying(Relay(tuned, exchange=tuned.amqp_exchange, options=FAST)):
            await eventually(lambda: consumer.stats["handled"] == events, timeout=60)
        yield Counted(tuned, pool, counts, now, events)
    finally:
        await _cleanup(tuned, counts, listener.queue)
        await pool.close()


async def _cleanup(settings: Settings, counts: HashtagCounts, queue: str) -> None:
    keys = [k async for k in counts.redis.scan_iter(match="{" + settings.hashtags_prefix + "}*")]
    if keys:
        await counts.redis.delete(*keys)
    await counts.aclose()
    connection = await aio_pika.connect(AMQP_URL)
    channel = await connection.channel()
    for name in (queue, f"{queue}.retry", f"{queue}.dlq"):
        await channel.queue_delete(name)
    for exchange in (settings.amqp_exchange, f"{settings.amqp_exchange}.dlx"):
        await channel.exchange_delete(exchange)
    await connection.close()


def test_hashtags_are_words_after_a_hash_each_once_lower_cased() -> None:
    assert hashtags("Go #Python and #python, #café! a#b http://x.io/p#frag #data_2024") == [
        "python", "café", "data_2024"]
    assert hashtags(None) == [] and hashtags("no tags #") == []


@pytest.mark.parametrize("window", [1, 5, 60, 180])
async def test_trending_windows_equal_the_sql_recount(counted: Counted, window: int) -> None:
    start = minute(counted.now) - timedelta(minutes=window - 1)
    end = minute(counted.now) + timedelta(minutes=1)
    for platform in (None, "youtube", "x"):
        expected = await generated.window_counts(counted.pool, start, end, platform)
        answer = await counted.counts.trending(window, 1000, platform, now=counted.now)
        assert {r.hashtag: r.count for r in answer} == expected
        assert [(r.hashtag, r.count) for r in answer] == ranked(expected, 1000)


async def test_top_k_cuts_ties_by_name(counted: Counted) -> None:
    start = minute(counted.now) - timedelta(minutes=179)
    # The window ends with the minute of `now`: posts stored after it (those without a
    # publish time count at their stored time) are the next minute's.
    end = minute(counted.now) + timedelta(minutes=1)
    expected = await generated.window_counts(counted.pool, start, end)
    for k in (1, 3, 7, 10):
        answer = await counted.counts.trending(180, k, None, now=counted.now)
        assert [(r.hashtag, r.count) for r in answer] == ranked(expected, k)


async def test_fastest_growing_compares_with_the_hours_before(counted: Counted) -> None:
    hour = counted.now.replace(minute=0, second=0, microsecond=0)
    current = await generated.window_counts(counted.pool, hour - timedelta(hours=1),
                                            hour + timedelta(hours=1))
    before = await generated.window_counts(counted.pool, hour - timedelta(hours=3),
                                           hour - timedelta(hours=1))
    growth = {tag: (n, before.get(tag, 0)) for tag, n in current.items()
              if n > before.get(tag, 0)}
    expected = sorted(growth.items(), key=lambda g: (-(g[1][0] - g[1][1]), -g[1][0], g[0]))
    answer = await counted.counts.fastest_growing(2, 1000, None, now=counted.now)
    assert [(r.hashtag, (r.count, r.previous)) for r in answer] == expected
    assert expected, "the generated data has growing hashtags"


async def test_all_time_top_and_recommendations(counted: Counted) -> None:
    for platform in (None, "instagram"):
        expected = await generated.all_time_counts(counted.pool, platform)
        answer = await counted.counts.top(5, platform)
        assert [(r.hashtag, r.count) for r in answer] == ranked(expected, 5)
    totals = await generated.all_time_counts(counted.pool)
    for target in ("python", "café", "retro"):
        both = await generated.cooccurrences(counted.pool, target)
        expected = sorted(((tag, n, n / totals[target]) for tag, n in both.items()
                           if n / totals[target] >= 0.1), key=lambda f: (-f[2], f[0]))
        posts, found = await counted.counts.cooccurring(target, 0.1, 1000)
        assert (posts, found) == (totals[target], expected)


async def test_a_redelivered_event_counts_once(counted: Counted) -> None:
    """The same event again through the broker: skipped by the consumer's record; and again
    after that record is lost (a transaction that failed after Redis counted): handled, but
    Redis's own mark of the post keeps the counts where they were."""
    row = await counted.pool.fetchrow(
        "SELECT event_id, platform, entity_key FROM event_outbox "
        "WHERE platform = 'youtube' AND entity_key IN (SELECT video_id FROM youtube_post "
        "WHERE title LIKE '%#%') ORDER BY id LIMIT 1")
    before = await counted.counts.top(1000, None)
    listener = hashtags_listener(counted.settings)
    body = {"event_id": str(row["event_id"]), "type": "post.youtube.created",
            "platform": "youtube", "entity_key": row["entity_key"], "changes": {}}
    async with running(counted.settings, listener) as consumer:
        connection = await aio_pika.connect(AMQP_URL)
        exchange = await (await connection.channel()).get_exchange(listener.exchange)

        async def redeliver() -> None:
            await exchange.publish(aio_pika.Message(json.dumps(body).encode(),
                                                    message_id=body["event_id"]),
                                   routing_key="post.youtube.created")

        await redeliver()
        await eventually(lambda: consumer.stats["duplicate"] == 1)
        assert await counted.pool.execute(
            "DELETE FROM consumed_event WHERE consumer = 'hashtags' AND event_id = $1",
            body["event_id"]) == "DELETE 1"
        await redeliver()
        await eventually(lambda: consumer.stats["handled"] == 1)
        await connection.close()
    assert await counted.counts.top(1000, None) == before


async def test_endpoints_answer_the_recount(counted: Counted) -> None:
    app = create_app(counted.settings)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://beat") as client:
        # Every generated post lies within 181 minutes: the window's edge cannot move a count.
        answer = (await client.get("/hashtags/trending",
                                   params={"window_minutes": 240, "k": 1000})).json()
        window = await generated.window_counts(
            counted.pool, counted.now - timedelta(minutes=200), counted.now + timedelta(1))
        assert [(h["hashtag"], h["count"]) for h in answer["hashtags"]] == ranked(window, 1000)
        assert answer["total_count"] == len(window)
        tops = (await client.get("/reports/top-hashtags", params={"limit": 3,
                                                                  "platform": "FACEBOOK"})).json()
        expected = ranked(await generated.all_time_counts(counted.pool, "facebook"), 3)
        assert [(h["hashtag"], h["count"]) for h in tops["hashtags"]] == expected
        rec = (await client.get("/hashtags/recommendations", params={
            "target_hashtag": "#Python", "min_cooccurrence_rate": 0.2})).json()
        both = await generated.cooccurrences(counted.pool, "python")
        posts = rec["target_posts"]
        assert posts == (await generated.all_time_counts(counted.pool))["python"]
        assert {r["hashtag"]: r["posts_with_both"] for r in rec["recommendations"]} == {
            tag: n for tag, n in both.items() if n / posts >= 0.2}
        users = (await client.get("/reports/top-users", params={"limit": 5})).json()["users"]
        assert [(u["platform"], u["profile_id"], u["post_count"], u["total_engagement"])
                for u in users] == (await generated.engagement_by_author(counted.pool))[:5]
        assert users[0]["avg_engagement_per_post"] == round(
            users[0]["total_engagement"] / users[0]["post_count"], 2)
        growing = (await client.get("/reports/fastest-growing", params={"hours": 24})).json()
        assert growing["hours"] == 24 and all(g["growth"] > 0 for g in growing["hashtags"])
        bad = await client.get("/hashtags/trending", params={"platform": "myspace"})
        assert bad.status_code == 422 and "myspace" in bad.json()["detail"][0]["msg"]
        nul = await client.get("/hashtags/recommendations", params={"target_hashtag": "a\x00"})
        assert nul.status_code == 422 and "NUL" in nul.text
        too_long = await client.get("/hashtags/trending", params={"window_minutes": 1441})
        assert too_long.status_code == 422 and "HASHTAGS_MINUTES_KEPT" in too_long.text


def _beat_env(counted: Counted) -> dict[str, str]:
    assert counted.settings.database_url and counted.settings.redis_url
    return beat_env(DATABASE_URL=counted.settings.database_url,
                    REDIS_URL=counted.settings.redis_url,
                    HASHTAGS_PREFIX=counted.settings.hashtags_prefix)


async def test_beat_trending_prints_the_recount(counted: Counted) -> None:
    window = await generated.window_counts(
        counted.pool, counted.now - timedelta(minutes=200), counted.now + timedelta(1), "x")
    env = _beat_env(counted)
    done = beat("trending", "--window", "240", "--k", "8", "--platform", "X", env=env)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines)
    assert lines[0].split() == ["#", "HASHTAG", "POSTS"]
    assert [(cells[1], int(cells[2])) for cells in (line.split() for line in lines[1:-1])] == [
        (f"#{tag}", n) for tag, n in ranked(window, 8)]
    assert lines[-1] == "8 hashtags in x posts of the last 240 minutes"
    as_json = json.loads(beat("trending", "--window", "240", "--k", "1000", "--json",
                              env=env).stdout)
    everywhere = await generated.window_counts(
        counted.pool, counted.now - timedelta(minutes=200), counted.now + timedelta(1))
    assert [(h["hashtag"], h["count"]) for h in as_json["hashtags"]] == ranked(everywhere, 1000)
    refused = beat("trending", "--platform", "myspace", env=env)
    assert refused.returncode == 2 and "unknown platform 'myspace'" in refused.stderr


async def test_beat_recommend_prints_the_recount(counted: Counted) -> None:
    posts = (await generated.all_time_counts(counted.pool))["ai"]
    both = await generated.cooccurrences(counted.pool, "ai")
    expected = sorted(((tag, n) for tag, n in both.items() if n / posts >= 0.15),
                      key=lambda f: (-f[1], f[0]))
    env = _beat_env(counted)
    done = beat("recommend", "--hashtag", "#AI", "--min-rate", "0.15", env=env)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines)
    assert [(c[0], int(c[1]), c[2]) for c in (line.split() for line in lines[1:-1])] == [
        (f"#{tag}", n, f"{n / posts:.1%}") for tag, n in expected]
    assert lines[-1] == f"#ai: {posts:,} posts, {len(expected)} hashtags in at least 15% of them"
    as_json = json.loads(beat("recommend", "--hashtag", "ai", "--min-rate", "0.15", "--json",
                              env=env).stdout)
    assert as_json["target_posts"] == posts
    assert [(r["hashtag"], r["posts_with_both"]) for r in as_json["recommendations"]] == expected


async def test_rebuild_recounts_the_stored_posts_once(counted: Counted) -> None:
    """`beat trending --rebuild` over counts that lost a bucket and gained a stray one: the
    answers are the recount again, and the listener's later copy of a post does not count."""
    await counted.counts.redis.delete(*[k async for k in counted.counts.redis.scan_iter(
        match="{" + counted.settings.hashtags_prefix + "}:n:*")])
    await counted.counts.record("youtube", "not-stored", ["stray"], counted.now)
    done = beat("trending", "--rebuild", "--window", "240", "--k", "1000", "--json",
                env=_beat_env(counted))
    assert done.returncode == 0, done.stderr
    with_tags = await counted.pool.fetchval(
        f"SELECT count(DISTINCT (platform, key)) FROM ({generated.TAGGED}) AS t")
    assert done.stderr.strip().endswith(f"recounted {with_tags:,} posts with hashtags")
    window = await generated.window_counts(
        counted.pool, counted.now - timedelta(minutes=200), counted.now + timedelta(1))
    assert [(h["hashtag"], h["count"]) for h in json.loads(done.stdout)["hashtags"]] == \
        ranked(window, 1000)
    everything = await generated.all_time_counts(counted.pool)
    assert [(r.hashtag, r.count) for r in await counted.counts.top(1000, None)] == \
        ranked(everything, 1000)
    tagged = await counted.pool.fetchval(
        f"SELECT key FROM ({generated.TAGGED}) AS t WHERE platform = 'x' LIMIT 1")
    assert not await counted.counts.record("x", tagged, ["again"], counted.now)
