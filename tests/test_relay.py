"""The outbox relay against the real PostgreSQL and RabbitMQ: every event published once and
confirmed, unroutable events parked with the reason, one leader at a time, broker
outages (through a TCP proxy, never the shared broker itself), and the events benchmark."""

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aio_pika
import asyncpg
import pytest
from aio_pika.abc import AbstractIncomingMessage, AbstractQueue

from bench.tcpproxy import TcpProxy
from core.config import Settings
from core.relay import LEADER_LOCK, SQL, Relay, RelayOptions
from tests.conftest import AMQP_URL

FAST = RelayOptions(election_interval=0.1, reconnect_interval=0.5, publish_timeout=5)


@pytest.fixture
async def amqp() -> AsyncIterator[aio_pika.abc.AbstractChannel]:
    connection = await aio_pika.connect(AMQP_URL)
    yield await connection.channel()
    await connection.close()


@pytest.fixture
async def exchange(amqp: aio_pika.abc.AbstractChannel) -> AsyncIterator[str]:
    """A private exchange name; the relay declares it (and its DLX), deleted afterwards."""
    name = f"beat-test-{uuid.uuid4().hex[:10]}"
    yield name
    for suffix in ("", ".dlx"):
        await amqp.exchange_delete(name + suffix)


async def bound_queue(channel: aio_pika.abc.AbstractChannel, exchange: str,
                      *keys: str) -> AbstractQueue:
    """An exclusive queue bound to `exchange` (declared like the relay does) with `keys`."""
    target = await channel.declare_exchange(exchange, aio_pika.ExchangeType.TOPIC, durable=True)
    queue = await channel.declare_queue(exclusive=True)
    for key in keys:
        await queue.bind(target, key)
    return queue


async def drain(queue: AbstractQueue, expected: int, timeout: float = 10,
                linger: float = 0.3) -> list[AbstractIncomingMessage]:
    """Messages until `expected` arrived (or timeout), then whatever arrives within `linger`."""
    received: list[AbstractIncomingMessage] = []
    deadline = time.monotonic() + timeout
    quiet_until: float | None = None
    while time.monotonic() < (quiet_until or deadline):
        message = await queue.get(no_ack=True, fail=False)
        if message is None:
            await asyncio.sleep(0.02)
            continue
        received.append(message)
        if len(received) >= expected and quiet_until is None:
            quiet_until = time.monotonic() + linger
    return received


async def insert_events(pool: asyncpg.Pool, types: list[str]) -> None:
    await pool.execute(SQL["insert_events"], types, ["youtube"] * len(types),
                       [f"key-{i}" for i in range(len(types))],
                       [json.dumps({"views": i}) for i in range(len(types))],
                       ["test"] * len(types))


async def insert_task_batch(pool: asyncpg.Pool, statuses: list[str]) -> None:
    """A `task.finished` row as ack_batch writes it: one row for a whole batch of tasks."""
    tasks = [{"id": 100 + i, "flow": "noop", "platform": None, "status": s, "attempt": 1,
              "account_id": None, "last_error": None} for i, s in enumerate(statuses)]
    await pool.execute("INSERT INTO event_outbox (type, changes) VALUES ('task.finished', $1)",
                       {"tasks": tasks})


async def wait_until(check: Callable[[], Awaitable[Any]], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} after {timeout}s")
        await asyncio.sleep(0.02)


async def statuses(pool: asyncpg.Pool) -> dict[str, int]:
    rows = await pool.fetch("SELECT status, count(*) AS n FROM event_outbox GROUP BY 1")
    return {r["status"]: r["n"] for r in rows}


def all_in(pool: asyncpg.Pool, status: str, total: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return (await statuses(pool)).get(status, 0) == total
    return check


@asynccontextmanager
async def running(*relays: Relay) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(relay.run()) for relay in relays]
    try:
        yield
    finally:
        for relay in relays:
            relay.stop()
        await asyncio.wait_for(asyncio.gather(*tasks), 15)


def relay_for(settings: Settings, exchange: str, **options: Any) -> Relay:
    return Relay(settings, exchange=exchange, options=replace(FAST, **options))


async def test_every_event_published_once_and_rows_sent(
        settings: Settings, outbox: asyncpg.Pool, amqp: aio_pika.abc.AbstractChannel,
        exchange: str) -> None:
    queue = await bound_queue(amqp, exchange, "#")
    await insert_events(outbox, ["post.youtube.updated", "profile.youtube.created",
                                 "post.youtube.updated"])
    await insert_task_batch(outbox, ["COMPLETE", "COMPLETE", "FAILED"])
    async with running(relay := relay_for(settings, exchange)):
        await wait_until(all_in(outbox, "SENT", 4), 10, "4 SENT rows")
        messages = await drain(queue, 6)
    assert relay.published == 6
    bodies = [json.loads(m.body) for m in messages]
    assert len({b["event_id"] for b in bodies}) == len(messages) == 6
    assert sorted(m.routing_key or "" for m in messages) == sorted(
        ["post.youtube.updated"] * 2 + ["profile.youtube.created"]
        + ["task.complete"] * 2 + ["task.failed"])
    for message, body in zip(messages, bodies):
        assert message.message_id == body["event_id"] and body["type"] == message.routing_key
        assert message.content_type == "application/json"
        assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    tasks = sorted((b["entity_key"], b["changes"]["status"]) for b in bodies
                   if b["type"].startswith("task."))
    assert tasks == [("100", "COMPLETE"), ("101", "COMPLETE"), ("102", "FAILED")]
    assert await outbox.fetchval("SELECT count(*) FROM event_outbox WHERE sent_at IS NULL "
                                 "OR claimed_until IS NOT NULL OR last_error IS NOT NULL") == 0


async def test_unroutable_event_is_parked_with_the_reason(
        settings: Settings, outbox: asyncpg.Pool, amqp: aio_pika.abc.AbstractChannel,
        exchange: str) -> None:
    queue = await bound_queue(amqp, exchange, "post.#")  # no catch-all binding
    await insert_events(outbox, ["post.youtube.updated", "nobody.listens.here"])
    async with running(relay_for(settings, exchange, max_attempts=3)):
        await wait_until(all_in(outbox, "PARKED", 1), 10, "a PARKED row")
        await wait_until(all_in(outbox, "SENT", 1), 10, "a SENT row")
        messages = await drain(queue, 1)
    assert [m.routing_key for m in messages] == ["post.youtube.updated"]
    parked = await outbox.fetchrow("SELECT * FROM event_outbox WHERE status = 'PARKED'")
    assert parked["type"] == "nobody.listens.here" and parked["attempts"] == 3
    assert "returned" in parked["last_error"] and "unroutable" in parked["last_error"]
    assert "nobody.listens.here" in parked["last_error"]


async def test_two_relays_one_leader_no_duplicates_and_failover(
        settings: Settings, outbox: asyncpg.Pool, amqp: aio_pika.abc.AbstractChannel,
        exchange: str) -> None:
    queue = await bound_queue(amqp, exchange, "#")
    relays = [relay_for(settings, exchange), relay_for(settings, exchange)]
    async with running(*relays):
        await wait_until(lambda: _true(any(r.leading for r in relays)), 10, "leader")
        await insert_events(outbox, ["post.youtube.updated"] * 1000)
        await wait_until(all_in(outbox, "SENT", 1000), 20, "1000 SENT rows")
        messages = await drain(queue, 1000)
        leader, follower = sorted(relays, key=lambda r: not r.leading)
        assert (leader.published, follower.published) == (1000, 0)
        assert follower.leading is False

        # The leader loses its database connection: the other relay takes over.
        backend = await outbox.fetchval(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND granted",
            LEADER_LOCK)
        await outbox.execute("SELECT pg_terminate_backend($1)", backend)
        await wait_until(lambda: _true(follower.leading), 10, "failover")
        await insert_events(outbox, ["post.youtube.updated"] * 10)
        await wait_until(all_in(outbox, "SENT", 1010), 10, "1010 SENT rows")
        messages += await drain(queue, 10)
    assert len(messages) == 1010
    assert len({m.message_id for m in messages}) == 1010
    assert follower.published == 10


async def _true(value: bool) -> bool:
    return value


def through(proxy: TcpProxy) -> str:
    parts = urlsplit(AMQP_URL)
    userinfo = parts.netloc.rpartition("@")[0]
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{proxy.host}:{proxy.port}"))


@pytest.mark.parametrize("mode", ["refuse", "hold"])
async def test_broker_outage_keeps_events_pending_and_reconnects(
        settings: Settings, outbox: asyncpg.Pool, amqp: aio_pika.abc.AbstractChannel,
        exchange: str, mode: str) -> None:
    queue = await bound_queue(amqp, exchange, "#")
    upstream = urlsplit(AMQP_URL)
    with TcpProxy(upstream.hostname or "127.0.0.1", upstream.port or 5672) as proxy:
        relay = relay_for(settings.model_copy(update={"amqp_url": through(proxy)}), exchange,
                          max_attempts=2)
        async with running(relay):
            await insert_events(outbox, ["post.youtube.updated"] * 100)
            await wait_until(all_in(outbox, "SENT", 100), 10, "100 SENT rows")
            proxy.cut(mode)
            await insert_events(outbox, ["post.youtube.updated"] * 200)
            await asyncio.sleep(3)
            assert await statuses(outbox) == {"SENT": 100, "PENDING": 200}
            assert relay.outages == 1 and relay.leading
            proxy.restore()
            await wait_until(all_in(outbox, "SENT", 300), 15, "300 SENT rows")
            messages = await drain(queue, 300)
    assert len({m.message_id for m in messages}) == 300
    assert relay.outages == 1


async def test_nacked_events_are_parked_with_the_reason(
        settings: Settings, outbox: asyncpg.Pool, amqp: aio_pika.abc.AbstractChannel,
        exchange: str) -> None:
    """A full queue that rejects publishes makes the broker nack them."""
    target = await amqp.declare_exchange(exchange, aio_pika.ExchangeType.TOPIC, durable=True)
    queue = await amqp.declare_queue(exclusive=True, arguments={
        "x-max-length": 1, "x-overflow": "reject-publish"})
    await queue.bind(target, "#")
    await insert_events(outbox, ["post.youtube.updated"] * 3)
    async with running(relay_for(settings, exchange, max_attempts=2)):
        await wait_until(all_in(outbox, "PARKED", 2), 10, "2 PARKED rows")
    assert await statuses(outbox) == {"SENT": 1, "PARKED": 2}
    errors = await outbox.fetch("SELECT attempts, last_error FROM event_outbox "
                                "WHERE status = 'PARKED'")
    assert all(r["attempts"] == 2 and "nacked" in r["last_error"] for r in errors), errors


def test_events_bench_reports_the_relay_against_bare_aio_pika(settings: Settings) -> None:
    from bench.events_bench import run_events_bench

    lines = run_events_bench(settings, 500)
    assert [line["system"] for line in lines] == ["aio-pika", "beat-relay"]
    for line in lines:
        assert line["events"] == 500 and line["seconds"] > 0
        assert line["events_per_s"] == pytest.approx(500 / line["seconds"], rel=0.01)
    # The lag is a figure for `beat bench events` to report, not a bound for a test on a shared
    # machine: the bench itself fails when an event inserted while measuring never arrives.
    relay = lines[1]
    assert relay["lag_events"] == 500 and relay["lag_rate_per_s"] > 0
    assert 0 < relay["lag_p50_ms"] <= relay["lag_p95_ms"], relay
