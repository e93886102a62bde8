"""`beat bench events`: Beat's outbox relay against a bare aio-pika publisher, in the same run.

Both publish the same events to the same local RabbitMQ with the same settings (publisher
confirms, persistent, mandatory, up to `WINDOW` publishes in flight) to a private exchange with
one durable queue bound to `#`. The relay drains N pre-built single-event outbox rows from a
scratch database; its commit-to-consumer lag is measured at a steady `LAG_RATE` events/s.
"""

import asyncio
import json
import statistics
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import aio_pika
import asyncpg
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractIncomingMessage

from bench.scratch import rounded, scratch_database
from core import db
from core.config import Settings
from core.events import Event
from core.relay import SQL, Relay, RelayOptions

WINDOW = RelayOptions().max_in_flight  # unconfirmed publishes at most, as in the relay
LAG_RATE = 1000  # events/s while measuring the lag
LAG_TICK = 0.01  # seconds between inserts while measuring the lag
LAG_EVENTS = 3000  # events in the lag measurement, at most


def run_events_bench(settings: Settings, events: int) -> list[dict[str, Any]]:
    """One JSON-able line per system: aio-pika (the ceiling), then beat-relay."""
    import uvloop

    assert settings.database_url and settings.amqp_url
    with scratch_database(settings.database_url) as url:
        lines = uvloop.run(_bench(settings.model_copy(update={"database_url": url}), events))
    return [rounded(line) for line in lines]


async def _bench(settings: Settings, events: int) -> list[dict[str, Any]]:
    assert settings.amqp_url and settings.database_url
    name = f"beat-bench-{uuid.uuid4().hex[:10]}"
    connection = await aio_pika.connect(settings.amqp_url)
    try:
        channel = await connection.channel(on_return_raises=True)
        async with _topology(channel, name) as exchange:
            bare = await _bench_bare(exchange, events)
            await _purge(channel, name)
            relay = await _bench_relay(settings, name, events)
            await _purge(channel, name)
            relay.update(await _measure_lag(settings, channel, name, min(events, LAG_EVENTS)))
    finally:
        await connection.close()
    return [bare, relay]


@asynccontextmanager
async def _topology(channel: AbstractChannel, name: str) -> AsyncIterator[AbstractExchange]:
    """The private exchange and its durable queue (bound to `#`); both deleted afterwards."""
    exchange = await channel.declare_exchange(name, aio_pika.ExchangeType.TOPIC, durable=True)
    queue = await channel.declare_queue(name, durable=True)
    await queue.bind(exchange, "#")
    try:
        yield exchange
    finally:
        await channel.queue_delete(name)
        for suffix in ("", ".dlx"):
            await channel.exchange_delete(name + suffix)


async def _purge(channel: AbstractChannel, name: str) -> None:
    queue = await channel.get_queue(name)
    await queue.purge()


def _events(count: int) -> list[Event]:
    now = datetime.now(UTC)
    return [Event(event_id=uuid.uuid4(), type="post.bench.updated", occurred_at=now,
                  platform="bench", entity_key=f"key-{i}", changes={"views": i},
                  source="bench", cursor="") for i in range(count)]


async def _bench_bare(exchange: AbstractExchange, events: int) -> dict[str, Any]:
    """A bare confirmed publisher: up to WINDOW publishes in flight, each awaited."""
    window = asyncio.Semaphore(WINDOW)

    async def publish(event: Event) -> None:
        async with window:
            message = aio_pika.Message(
                event.body(), content_type="application/json", message_id=str(event.event_id),
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT, type=event.type, app_id="beat",
                timestamp=event.occurred_at)
            await exchange.publish(message, event.type, mandatory=True, timeout=30)

    batch = _events(events)
    started = time.perf_counter()
    await asyncio.gather(*(publish(event) for event in batch))
    seconds = time.perf_counter() - started
    return {"system": "aio-pika", "events": events, "seconds": seconds,
            "events_per_s": events / seconds}


@asynccontextmanager
async def _running_relay(settings: Settings, name: str) -> AsyncIterator[Relay]:
    relay = Relay(settings, options=RelayOptions(exchange=name, max_in_flight=WINDOW))
    task = asyncio.create_task(relay.run())
    try:
        await asyncio.wait_for(relay.ready.wait(), 30)
        yield relay
    finally:
        relay.stop()
        await asyncio.wait_for(task, 30)


async def _insert(pool: asyncpg.Pool, count: int) -> None:
    await pool.execute(SQL["insert_events"], ["post.bench.updated"] * count, ["bench"] * count,
                       [f"key-{i}" for i in range(count)],
                       [json.dumps({"views": i}) for i in range(count)], ["bench"] * count)


async def _bench_relay(settings: Settings, name: str, events: int) -> dict[str, Any]:
    assert settings.database_url
    pool = await db.create_pool(settings.database_url, max_size=2)
    try:
        async with _running_relay(settings, name):
            await _insert(pool, events)
            started = time.perf_counter()
            while await pool.fetchval(
                    "SELECT EXISTS (SELECT 1 FROM event_outbox WHERE status = 'PENDING')"):
                await asyncio.sleep(0.005)
            seconds = time.perf_counter() - started
        sent = await pool.fetchval("SELECT count(*) FROM event_outbox WHERE status = 'SENT'")
        await pool.execute("TRUNCATE event_outbox")
    finally:
        await pool.close()
    assert sent == events, f"the relay sent {sent} of {events} events"
    return {"system": "beat-relay", "events": events, "seconds": seconds,
            "events_per_s": events / seconds}


async def _measure_lag(settings: Settings, channel: AbstractChannel, name: str,
                       events: int) -> dict[str, Any]:
    """Insert `events` rows at LAG_RATE/s; lag = consumer receive time - occurred_at (commit)."""
    assert settings.database_url
    lags: list[float] = []
    done = asyncio.Event()

    async def received(message: AbstractIncomingMessage) -> None:
        occurred = datetime.fromisoformat(json.loads(message.body)["occurred_at"])
        lags.append((time.time() - occurred.timestamp()) * 1000)
        if len(lags) >= events:
            done.set()

    await channel.set_qos(prefetch_count=1000)
    queue = await channel.get_queue(name)
    tag = await queue.consume(received, no_ack=True)
    pool = await db.create_pool(settings.database_url, max_size=2)
    try:
        async with _running_relay(settings, name):
            await _steady_inserts(pool, events)
            await asyncio.wait_for(done.wait(), 30)
    finally:
        await queue.cancel(tag)
        await pool.close()
    return {"lag_events": events, "lag_rate_per_s": LAG_RATE,
            "lag_p50_ms": statistics.median(lags),
            "lag_p95_ms": statistics.quantiles(lags, n=20)[18]}


async def _steady_inserts(pool: asyncpg.Pool, events: int) -> None:
    """`events` rows at LAG_RATE/s, a small insert every LAG_TICK seconds (each its own commit)."""
    per_tick = max(1, round(LAG_RATE * LAG_TICK))
    started = time.perf_counter()
    for tick, first in enumerate(range(0, events, per_tick)):
        delay = started + tick * LAG_TICK - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        await _insert(pool, min(per_tick, events - first))
