"""Beat's listeners end to end on the real RabbitMQ and PostgreSQL, each on a queue of its own:
credentials_validate against the in-process sandbox, identity_token storing an encrypted
credential, keyword_collection enqueueing keyword searches."""

import asyncio
import logging
import multiprocessing
import os
import signal
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aio_pika
import asyncpg
import httpx
import pytest
from aio_pika.abc import AbstractRobustConnection

from core import http
from core.config import Settings
from core.consumers import ERROR_HEADER, Listener, run_consumer_process
from core.listeners import LISTENERS, registered_listeners
from credentials import store
from credentials.crypto import Crypto
from sandbox.app import create_sandbox_app
from sandbox.graph import debug_token
from tests import test_consumers as rig
from tests.test_consumers import (
    Topology,
    dead_letters,
    eventually,
    publish,
    publish_without_message_id,
    running,
)

amqp = rig.amqp  # the fixtures of test_consumers
topology = rig.topology

SANDBOX = "http://sandbox"
SECRET = "EAAB-very-secret-page-token-0123456789"
BY_NAME = {listener.name: listener for listener in LISTENERS}


@pytest.fixture
async def sandbox() -> AsyncIterator[httpx.AsyncClient]:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_sandbox_app(seed=1)),
                               base_url=SANDBOX)
    http.use_client(client)
    yield client
    await http.close_client()


@pytest.fixture
async def tuned(settings: Settings, pool: asyncpg.Pool, tmp_path: Path) -> Settings:
    """The test settings against the sandbox, a key of their own, an empty credential table."""
    await pool.execute("TRUNCATE credential RESTART IDENTITY")
    return settings.model_copy(update={"sandbox_url": SANDBOX, "beat_home": tmp_path})


def listener(topology: Topology, name: str, **changes: object) -> Listener:
    return topology.renamed(BY_NAME[name], **changes)


def test_the_seeds_queues_and_prefetch(settings: Settings) -> None:
    assert [(lis.name, lis.exchange, lis.exchange_type, lis.routing_key, lis.queue, lis.prefetch)
            for lis in registered_listeners(settings)[:4]] == [
        ("credentials_validate", "beat.dx", "direct", "credentials_validate_rk",
         "credentials_validate_q", 10),
        ("identity_token", "identity.dx", "direct", "new_access_token_rk", "identity_token_q",
         10),
        ("keyword_collection", "beat.dx", "direct", "keyword_collection_rk",
         "keyword_collection_q", 1),
        ("hashtags", "beat.events", "topic", "post.*.created", "hashtags_q", 50)]


def test_the_hashtags_listener_binds_the_exchange_of_the_setting(settings: Settings) -> None:
    """AMQP_EXCHANGE names the exchange the relay publishes to: the listener consuming its
    events binds that one, with a queue of that exchange's own (tests/hashtags/test_trending.py
    runs it end to end on such an exchange)."""
    other = settings.model_copy(update={"amqp_exchange": "acme.events"})
    found = {lis.name: lis for lis in registered_listeners(other)}["hashtags"]
    assert (found.exchange, found.queue) == ("acme.events", "acme.events.hashtags_q")
    assert {lis.exchange for lis in registered_listeners(other)} <= {
        "acme.events", "beat.dx", "identity.dx"}, "no other listener binds an events exchange"


async def test_credentials_validate_records_the_platforms_verdict(
        tuned: Settings, pool: asyncpg.Pool, amqp: AbstractRobustConnection,
        topology: Topology, sandbox: httpx.AsyncClient) -> None:
    crypto = Crypto.from_settings(tuned)
    good, _ = await store.upsert(pool, crypto, "graphapi", {"token": debug_token.TOKEN_VALID})
    lacking, _ = await store.upsert(pool, crypto, "graphapi",
                                    {"token": debug_token.TOKEN_NO_INSIGHTS})
    key, _ = await store.upsert(pool, crypto, "youtube_data_api", {"key": "not-a-sandbox-key"})
    other, _ = await store.upsert(pool, crypto, "rocketapi", {"key": "whatever"})
    validate = listener(topology, "credentials_validate")
    async with running(tuned, validate) as consumer:
        for cred_id in (good.id, lacking.id, key.id, 999_999):
            await publish(amqp, validate, {"id": cred_id}, message_id=str(uuid.uuid4()))
        await publish(amqp, validate, {"id": "twelve"}, message_id="bad-id")
        await publish(amqp, validate, {"id": other.id}, message_id="unsupported")
        dead = await dead_letters(amqp, validate, 2)
        await eventually(lambda: consumer.stats["handled"] == 4)
    reasons = {m.message_id: str(m.headers[ERROR_HEADER]) for m in dead}
    assert reasons["bad-id"].startswith("rejected: invalid ValidateRequest: id: ")
    assert reasons["unsupported"] == ("rejected: no validation for credentials of source "
                                      "'rocketapi'")
    rows = {r["id"]: r for r in await pool.fetch("SELECT * FROM credential")}
    assert rows[good.id]["validated_at"] is not None and not rows[good.id]["data_access_expired"]
    assert "instagram_manage_insights" in rows[good.id]["scopes"]
    assert rows[lacking.id]["data_access_expired"]
    assert rows[lacking.id]["last_error"] == "missing scopes: instagram_manage_insights"
    assert rows[key.id]["data_access_expired"] and "keyInvalid" in rows[key.id]["last_error"]
    assert rows[other.id]["validated_at"] is None


async def test_credentials_validate_retries_a_rate_limited_platform(
        tuned: Settings, pool: asyncpg.Pool, amqp: AbstractRobustConnection,
        topology: Topology, sandbox: httpx.AsyncClient) -> None:
    good, _ = await store.upsert(pool, Crypto.from_settings(tuned), "graphapi",
                                 {"token": debug_token.TOKEN_VALID})
    await sandbox.post("/_sandbox/faults", json={"prefix": "/graph", "rate_limit_rate": 1})
    validate = listener(topology, "credentials_validate", max_attempts=3)
    async with running(tuned, validate) as consumer:
        await publish(amqp, validate, {"id": good.id}, message_id=str(uuid.uuid4()))
        [dead] = await dead_letters(amqp, validate, 1)
    assert dead.headers["x-beat-attempts"] == 3
    assert str(dead.headers[ERROR_HEADER]).startswith("RateLimited")
    assert consumer.stats == {"retried": 2, "dead_lettered": 1}
    assert (await store.get_info(pool, good.id)) is not None
    assert (await store.get_info(pool, good.id)).validated_at is None  # type: ignore[union-attr]


async def test_identity_token_stores_the_credential_encrypted(
        tuned: Settings, pool: asyncpg.Pool, amqp: AbstractRobustConnection,
        topology: Topology, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    tokens = listener(topology, "identity_token")
    async with running(tuned, tokens) as consumer:
        await publish(amqp, tokens, {"source": "graphapi", "handle": "brand",
                                     "credentials": {"token": SECRET, "user_id": 17841400}},
                      message_id=str(uuid.uuid4()))
        await eventually(lambda: consumer.stats["handled"] == 1)
        refreshed = SECRET + "-refreshed"  # the same user: the same credential, new secret
        await publish(amqp, tokens, {"source": "graphapi",
                                     "credentials": {"token": refreshed, "user_id": "17841400"}},
                      message_id=str(uuid.uuid4()))
        await publish(amqp, tokens, {"source": "Graph API!", "credentials": {"token": SECRET}},
                      message_id="bad-source")
        [dead] = await dead_letters(amqp, tokens, 1)
        await eventually(lambda: consumer.stats["handled"] == 2)
    [row] = await pool.fetch("SELECT * FROM credential")
    assert row["idempotency_key"] == "graphapi:17841400" and row["handle"] == "brand"
    assert SECRET not in str(dict(row)) and row["credentials"]["masked"]["token"].endswith("shed")
    cred = await store.get(pool, Crypto.from_settings(tuned), row["id"])
    assert cred is not None and cred.secrets == {"token": refreshed, "user_id": "17841400"}
    assert str(dead.headers[ERROR_HEADER]).startswith("rejected: invalid IdentityToken: source:")
    assert SECRET not in str(dead.headers)
    # aiormq logs whole frames at DEBUG (run_consumer_process keeps it at INFO); Beat never does.
    ours = [r.getMessage() for r in caplog.records if not r.name.startswith(("aiormq", "aio_pika"))]
    assert any("credential 1 (graphapi) added" in line for line in ours)
    assert not any(SECRET in line for line in ours)


async def test_identity_token_hands_over_a_channel_owners_authorisation(
        tuned: Settings, pool: asyncpg.Pool, amqp: AbstractRobustConnection,
        topology: Topology) -> None:
    """A YouTube owner's OAuth grant (source youtube_oauth, the channel as user_id) is found by
    the channel id, and a new grant for the same channel replaces the old one."""
    channel = "UC" + "x" * 22
    tokens = listener(topology, "identity_token")
    async with running(tuned, tokens) as consumer:
        for n in (1, 2):
            await publish(amqp, tokens, {"source": "youtube_oauth", "credentials": {
                "refresh_token": f"1//refresh-{n}-{SECRET}", "user_id": channel}},
                message_id=str(uuid.uuid4()))
            await eventually(lambda n=n: consumer.stats["handled"] == n)
    crypto = Crypto.from_settings(tuned)
    owner = await store.usable_for(pool, crypto, "youtube_oauth", channel)
    assert owner is not None and owner.secrets["refresh_token"] == f"1//refresh-2-{SECRET}"
    assert await pool.fetchval("SELECT count(*) FROM credential WHERE source = "
                               "'youtube_oauth'") == 1
    assert await store.usable_for(pool, crypto, "youtube_oauth", "UC" + "y" * 22) is None


async def test_keyword_collection_enqueues_a_search_per_keyword(
        tuned: Settings, pool: asyncpg.Pool, amqp: AbstractRobustConnection,
        topology: Topology) -> None:
    keywords = listener(topology, "keyword_collection")
    message = {"keywords": ["lofi beats", "Lofi Beats", "chess openings"], "max_videos": 20,
               "platforms": ["youtube", "instagram"], "account_id": "collection-7"}
    event = str(uuid.uuid4())
    async with running(tuned, keywords) as consumer:
        await publish(amqp, keywords, message, message_id=event)
        await publish(amqp, keywords, message, message_id=event)  # delivered twice
        await publish(amqp, keywords, {"keyword": "reels", "platforms": ["instagram"]},
                      message_id=str(uuid.uuid4()))
        await publish(amqp, keywords, {"platforms": ["youtube"]}, message_id="no-keyword")
        await dead_letters(amqp, keywords, 1)
        await eventually(lambda: consumer.stats["handled"] + consumer.stats["duplicate"] == 3)
    assert consumer.stats == {"handled": 2, "duplicate": 1, "dead_lettered": 1}
    tasks = await pool.fetch("SELECT * FROM scrape_request_log ORDER BY id")
    assert [(t["flow"], t["params"], t["status"], t["platform"], t["account_id"])
            for t in tasks] == [
        ("refresh_yt_posts_by_keyword", {"keyword": "lofi beats", "max_videos": 20}, "PENDING",
         "YOUTUBE", "collection-7"),
        ("refresh_yt_posts_by_keyword", {"keyword": "chess openings", "max_videos": 20},
         "PENDING", "YOUTUBE", "collection-7"),
        # Instagram searches a keyword as a hashtag: spaces dropped, recent posts.
        ("fetch_hashtag_posts", {"hashtag": "lofibeats", "tab": "recent", "max_items": 20},
         "PENDING", "INSTAGRAM", "collection-7"),
        ("fetch_hashtag_posts", {"hashtag": "chessopenings", "tab": "recent", "max_items": 20},
         "PENDING", "INSTAGRAM", "collection-7"),
        ("fetch_hashtag_posts", {"hashtag": "reels", "tab": "recent", "max_items": 50},
         "PENDING", "INSTAGRAM", None)]


async def test_a_keyword_collection_without_an_event_id_enqueues_nothing(
        tuned: Settings, pool: asyncpg.Pool, amqp: AbstractRobustConnection,
        topology: Topology) -> None:
    """A producer that sets no id could never have a repeat skipped: refused, with the reason."""
    keywords = listener(topology, "keyword_collection")
    async with running(tuned, keywords) as consumer:
        await publish_without_message_id(keywords, {"keyword": "no id"})
        await publish_without_message_id(keywords, {"keyword": "no id"})
        dead = await dead_letters(amqp, keywords, 2)
    assert {str(m.headers[ERROR_HEADER]).partition(":")[0] for m in dead} == {"no event id"}
    assert consumer.stats == {"dead_lettered": 2}
    assert await pool.fetchval("SELECT count(*) FROM scrape_request_log") == 0


async def test_the_consumer_process_serves_until_sigterm(
        tuned: Settings, pool: asyncpg.Pool, amqp: AbstractRobustConnection,
        topology: Topology, monkeypatch: pytest.MonkeyPatch) -> None:
    keywords = listener(topology, "keyword_collection")
    monkeypatch.setattr("core.listeners.registered_listeners", lambda settings: [keywords])
    process = multiprocessing.get_context("fork").Process(target=run_consumer_process,
                                                          args=(tuned,))
    process.start()
    try:
        async def declared() -> bool:
            channel = await amqp.channel()
            try:
                await channel.declare_queue(keywords.queue, passive=True)
            except aio_pika.exceptions.ChannelClosed:
                return False  # the broker closed the channel
            await channel.close()
            return True

        await eventually(declared)
        await publish(amqp, keywords, {"keyword": "sigterm"}, message_id=str(uuid.uuid4()))
        await eventually(lambda: pool.fetchval(
            "SELECT count(*) = 1 FROM scrape_request_log WHERE params->>'keyword' = 'sigterm'"))
    finally:
        os.kill(process.pid or 0, signal.SIGTERM)
        await asyncio.get_running_loop().run_in_executor(None, process.join, 20)
    assert process.exitcode == 0
