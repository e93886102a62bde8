"""The listener framework on the real RabbitMQ and PostgreSQL: idempotency by message id, counted
retries ending in the DLQ, malformed bodies dead-lettered at once, ack only after COMMIT.

Every test declares its own exchange and queues (a random prefix) and deletes them afterwards.
"""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import aio_pika
import asyncpg
import pytest
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection

from core.config import Settings
from core.consumers import (
    ATTEMPTS_HEADER,
    CONSUMER_HEADER,
    ERROR_HEADER,
    Consumer,
    Handler,
    Listener,
    ListenerContext,
    Reject,
)
from core.events import START, read_after
from core.queue import NewTask
from tests.bare_amqp import publish_bare
from tests.conftest import AMQP_URL

EFFECT_TABLE = "CREATE TABLE IF NOT EXISTS consumer_test_effect (listener text, note text)"


class Topology:
    """Listeners with names of their own; `delete` removes every queue and exchange they use."""

    def __init__(self) -> None:
        self.prefix = f"beat-test.{uuid.uuid4().hex[:10]}"
        self.listeners: list[Listener] = []

    def listener(self, handler: Handler, **settings: Any) -> Listener:
        n = len(self.listeners)
        made = Listener(f"test_{n}", f"{self.prefix}.ex", "direct", f"rk{n}",
                        f"{self.prefix}.q{n}", settings.pop("prefetch", 5), handler,
                        **{"retry_delay_s": 0.05, **settings})
        self.listeners.append(made)
        return made

    def renamed(self, listener: Listener, **changes: Any) -> Listener:
        """One of Beat's listeners on this test's own exchange and queue."""
        n = len(self.listeners)
        made = replace(listener, exchange=f"{self.prefix}.ex{n}", queue=f"{self.prefix}.q{n}",
                       routing_key=f"rk{n}", retry_delay_s=0.05, **changes)
        self.listeners.append(made)
        return made

    async def delete(self, connection: AbstractRobustConnection) -> None:
        channel = await connection.channel()
        for lis in self.listeners:
            for queue in (lis.queue, lis.retry_queue, lis.dead_letter_queue):
                await channel.queue_delete(queue)
            for exchange in (lis.exchange, lis.dead_letter_exchange):
                await channel.exchange_delete(exchange)
        await channel.close()


@pytest.fixture
async def amqp() -> AsyncIterator[AbstractRobustConnection]:
    connection = await aio_pika.connect_robust(AMQP_URL)
    yield connection
    await connection.close()


@pytest.fixture
async def topology(amqp: AbstractRobustConnection) -> AsyncIterator[Topology]:
    made = Topology()
    yield made
    await made.delete(amqp)


@pytest.fixture
async def effects(pool: asyncpg.Pool) -> asyncpg.Pool:
    """The pool, over an emptied table that test handlers write to."""
    await pool.execute(EFFECT_TABLE)
    await pool.execute("TRUNCATE consumer_test_effect")
    return pool


@asynccontextmanager
async def running(settings: Settings, *listeners: Listener,
                  consumer_class: type[Consumer] = Consumer) -> AsyncIterator[Consumer]:
    consumer = consumer_class(settings, listeners)
    task = asyncio.create_task(consumer.run())
    ready = asyncio.create_task(consumer.ready.wait())
    await asyncio.wait([task, ready], timeout=20, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        task.result()  # raise what stopped it
    assert consumer.ready.is_set(), "the consumer did not start"
    try:
        yield consumer
    finally:
        consumer.stop()
        await asyncio.wait_for(task, 30)


async def publish(amqp: AbstractRobustConnection, listener: Listener, body: Any,
                  message_id: str | None = None, **headers: Any) -> None:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    channel = await amqp.channel()
    exchange = await channel.get_exchange(listener.exchange)
    await exchange.publish(aio_pika.Message(raw, message_id=message_id, headers=headers,
                                            content_type="application/json"),
                           routing_key=listener.routing_key)
    await channel.close()


async def publish_without_message_id(listener: Listener, body: Any, **headers: Any) -> None:
    """As a producer that sets no message_id (aio-pika would invent one)."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    await publish_bare(AMQP_URL, listener.exchange, listener.routing_key, raw, headers=headers,
                       content_type="application/json", delivery_mode=2)


async def eventually(check: Callable[[], Awaitable[bool]] | Callable[[], bool],
                     timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = check()
        if await result if asyncio.iscoroutine(result) else result:
            return
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def dead_letters(amqp: AbstractRobustConnection, listener: Listener,
                       count: int) -> list[AbstractIncomingMessage]:
    """Wait for `count` messages in the listener's DLQ and take them."""
    channel = await amqp.channel()
    queue = await channel.get_queue(listener.dead_letter_queue)
    found: list[AbstractIncomingMessage] = []

    async def took() -> bool:
        message = await queue.get(no_ack=True, fail=False)
        if message is not None:
            found.append(message)
        return len(found) >= count

    await eventually(took)
    await channel.close()
    return found


def recorder(note: str = "") -> tuple[Handler, list[ListenerContext]]:
    """A handler that writes one effect row per message it handles."""
    calls: list[ListenerContext] = []

    async def handle(body: dict[str, Any], ctx: ListenerContext) -> None:
        calls.append(ctx)
        await ctx.conn.execute("INSERT INTO consumer_test_effect VALUES ($1, $2)",
                               ctx.listener, note or json.dumps(body))

    return handle, calls


async def effect_count(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM consumer_test_effect"))


async def test_a_message_delivered_twice_is_handled_once(
        settings: Settings, amqp: AbstractRobustConnection, topology: Topology,
        effects: asyncpg.Pool) -> None:
    handler, calls = recorder()
    listener = topology.listener(handler)
    async with running(settings, listener) as consumer:
        first, second = str(uuid.uuid4()), str(uuid.uuid4())
        await publish(amqp, listener, {"n": 1}, message_id=first)
        await publish(amqp, listener, {"n": 1}, message_id=first)
        # The body's event_id counts, whatever message_id each publish was given.
        await publish(amqp, listener, {"n": 2, "event_id": second}, message_id="a")
        await publish(amqp, listener, {"n": 2, "event_id": second}, message_id="b")
        await eventually(lambda: consumer.stats["handled"] + consumer.stats["duplicate"] == 4)
    assert consumer.stats == {"handled": 2, "duplicate": 2}
    assert len(calls) == 2 and await effect_count(effects) == 2
    assert {c.event_id for c in calls} == {first, second}
    rows = await effects.fetch("SELECT event_id FROM consumed_event WHERE consumer = $1",
                               listener.name)
    assert {r["event_id"] for r in rows} == {first, second}


async def test_the_same_event_id_for_two_listeners_runs_both(
        settings: Settings, amqp: AbstractRobustConnection, topology: Topology,
        effects: asyncpg.Pool) -> None:
    one, two = topology.listener(recorder()[0]), topology.listener(recorder()[0])
    event = str(uuid.uuid4())
    async with running(settings, one, two) as consumer:
        await publish(amqp, one, {}, message_id=event)
        await publish(amqp, two, {}, message_id=event)
        await eventually(lambda: consumer.stats["handled"] == 2)
    assert await effect_count(effects) == 2


@pytest.mark.parametrize("retry_delay_s", [0.05, 0.0], ids=["via-retry-queue", "no-delay"])
async def test_a_handler_that_keeps_failing_lands_in_the_dlq_after_max_attempts(
        settings: Settings, amqp: AbstractRobustConnection, topology: Topology,
        retry_delay_s: float) -> None:
    attempts: list[int] = []

    async def broken(body: dict[str, Any], ctx: ListenerContext) -> None:
        attempts.append(ctx.attempt)
        raise RuntimeError(f"boom {ctx.attempt}")

    listener = topology.listener(broken, max_attempts=4, retry_delay_s=retry_delay_s)
    message_id = str(uuid.uuid4())
    async with running(settings, listener) as consumer:
        await publish(amqp, listener, {"work": "x"}, message_id=message_id, trace="t-1")
        [dead] = await dead_letters(amqp, listener, 1)
    assert attempts == [1, 2, 3, 4]
    assert consumer.stats == {"retried": 3, "dead_lettered": 1}
    headers = dead.headers
    assert headers[ATTEMPTS_HEADER] == 4 and headers[ERROR_HEADER] == "RuntimeError: boom 4"
    assert headers[CONSUMER_HEADER] == listener.name and headers["trace"] == "t-1"
    assert headers["x-beat-routing-key"] == listener.routing_key
    assert headers["x-beat-exchange"] == listener.exchange
    assert json.loads(dead.body) == {"work": "x"} and dead.message_id == message_id


async def test_reject_dead_letters_without_retries(
        settings: Settings, amqp: AbstractRobustConnection, topology: Topology) -> None:
    async def refuses(body: dict[str, Any], ctx: ListenerContext) -> None:
        raise Reject("no such thing")

    listener = topology.listener(refuses)
    async with running(settings, listener) as consumer:
        await publish(amqp, listener, {"a": 1}, message_id=str(uuid.uuid4()))
        [dead] = await dead_letters(amqp, listener, 1)
    assert dead.headers[ERROR_HEADER] == "rejected: no such thing"
    assert dead.headers[ATTEMPTS_HEADER] == 1 and consumer.stats == {"dead_lettered": 1}


async def test_malformed_bodies_go_straight_to_the_dlq(
        settings: Settings, amqp: AbstractRobustConnection, topology: Topology,
        effects: asyncpg.Pool) -> None:
    handler, calls = recorder()
    listener = topology.listener(handler)
    async with running(settings, listener) as consumer:
        await publish(amqp, listener, b'{"id": 1', message_id="m-1")
        await publish(amqp, listener, b"[1, 2]", message_id="m-2")
        await publish(amqp, listener, b"\xff\xfe", message_id="m-3")
        dead = await dead_letters(amqp, listener, 3)
    reasons = {m.message_id: str(m.headers[ERROR_HEADER]) for m in dead}
    assert reasons["m-1"].startswith("malformed: body is not JSON (Expecting ',' delimiter")
    assert reasons["m-2"] == "malformed: body is a JSON list, not an object"
    assert reasons["m-3"].startswith("malformed: body is not JSON")
    assert {m.body for m in dead} == {b'{"id": 1', b"[1, 2]", b"\xff\xfe"}
    assert calls == [] and consumer.stats == {"dead_lettered": 3}


async def test_a_message_without_any_event_id_is_dead_lettered_not_handled(
        settings: Settings, amqp: AbstractRobustConnection, topology: Topology,
        effects: asyncpg.Pool) -> None:
    """Without an id a redelivery could not be told from a new event: refuse, say why. The
    AMQP message_id counts as an id only where it is given; an id that cannot be one (object,
    bool, too long, with a NUL) is refused whatever message_id comes with it."""
    recorded = await effects.fetchval("SELECT count(*) FROM consumed_event")
    handler, calls = recorder()
    listener = topology.listener(handler)
    async with running(settings, listener) as consumer:
        await publish_without_message_id(listener, {"n": 1}, trace="none")
        await publish_without_message_id(listener, {"n": 2, "event_id": ""}, trace="empty")
        await publish_without_message_id(listener, {"n": 3, "event_id": None}, trace="null")
        await publish(amqp, listener, {"n": 4, "event_id": {"id": 1}}, message_id="m-4",
                      trace="object")
        await publish_without_message_id(listener, {"n": 5, "event_id": True}, trace="bool")
        await publish_without_message_id(listener, {"n": 6, "event_id": "x" * 513}, trace="long")
        await publish_without_message_id(listener, {"n": 7, "event_id": "a\u0000b"}, trace="nul")
        await publish_bare(AMQP_URL, listener.exchange, listener.routing_key, b'{"n": 8}',
                           message_id="m\u00008", headers={"trace": "nul-message-id"})
        dead = await dead_letters(amqp, listener, 8)
    reasons = {str(m.headers["trace"]): str(m.headers[ERROR_HEADER]) for m in dead}
    missing = ("no event id: the body has no event_id and the message no message_id; "
               "give one of them, kept when the message is sent again")
    assert reasons == {
        "none": missing, "empty": missing, "null": missing,
        "object": "no event id: event_id is a JSON dict, not a string or integer",
        "bool": "no event id: event_id is a JSON bool, not a string or integer",
        "long": "no event id: event_id is longer than 512 characters",
        "nul": "no event id: event_id holds a NUL character",
        "nul-message-id": "no event id: message_id holds a NUL character"}
    assert {m.headers[CONSUMER_HEADER] for m in dead} == {listener.name}
    assert {json.loads(m.body)["n"] for m in dead} == set(range(1, 9))
    assert calls == [] and await effect_count(effects) == 0
    assert consumer.stats == {"dead_lettered": 8}
    assert await effects.fetchval("SELECT count(*) FROM consumed_event") == recorded


async def test_either_id_alone_dedupes(
        settings: Settings, amqp: AbstractRobustConnection, topology: Topology,
        effects: asyncpg.Pool) -> None:
    handler, calls = recorder()
    listener = topology.listener(handler)
    by_body, by_property = str(uuid.uuid4()), str(uuid.uuid4())
    async with running(settings, listener) as consumer:
        for _ in range(2):
            await publish(amqp, listener, {"event_id": by_body})
            await publish(amqp, listener, {"n": 1}, message_id=by_property)
            await publish(amqp, listener, {"event_id": 42})
        await eventually(lambda: sum(consumer.stats.values()) == 6)
    assert sorted(c.event_id for c in calls) == sorted([by_body, by_property, "42"])
    assert consumer.stats == {"handled": 3, "duplicate": 3}


async def test_a_handler_failing_after_its_writes_leaves_nothing_and_is_retried(
        settings: Settings, amqp: AbstractRobustConnection, topology: Topology,
        effects: asyncpg.Pool) -> None:
    seen: list[tuple[int, int]] = []

    async def flaky(body: dict[str, Any], ctx: ListenerContext) -> None:
        await ctx.conn.execute("INSERT INTO consumer_test_effect VALUES ($1, $2)",
                               ctx.listener, f"attempt {ctx.attempt}")
        await ctx.queue.enqueue(NewTask("noop", {"attempt": ctx.attempt}))  # joins it too
        # Outside the transaction nothing is visible yet.
        seen.append((ctx.attempt, await effect_count(effects)))
        if ctx.attempt < 3:
            raise ConnectionResetError("the platform hung up")

    listener = topology.listener(flaky)
    event = str(uuid.uuid4())
    async with running(settings, listener) as consumer:
        await publish(amqp, listener, {}, message_id=event)
        await eventually(lambda: consumer.stats["handled"] == 1)
    assert seen == [(1, 0), (2, 0), (3, 0)]
    notes = [r["note"] for r in await effects.fetch("SELECT note FROM consumer_test_effect")]
    assert notes == ["attempt 3"], "the failed attempts were rolled back"
    assert await effects.fetchval("SELECT count(*) FROM consumed_event WHERE event_id = $1",
                                  event) == 1
    assert consumer.stats == {"retried": 2, "handled": 1}
    tasks = await effects.fetch("SELECT params FROM scrape_request_log WHERE flow = 'noop'")
    assert [t["params"] for t in tasks] == [{"attempt": 3}]


class CrashBeforeAck(Consumer):
    """Commits, then never acks: as if the process died between COMMIT and the ack."""

    async def _ack(self, message: AbstractIncomingMessage) -> None:
        return None


async def test_a_crash_between_commit_and_ack_redelivers_and_the_redelivery_is_skipped(
        settings: Settings, amqp: AbstractRobustConnection, topology: Topology,
        effects: asyncpg.Pool) -> None:
    handler, calls = recorder("done")
    listener = topology.listener(handler)
    async with running(settings, listener, consumer_class=CrashBeforeAck) as crashed:
        await publish(amqp, listener, {"x": 1}, message_id=str(uuid.uuid4()))
        await eventually(lambda: crashed.stats["handled"] == 1)
    assert await effect_count(effects) == 1  # committed; the connection closed unacked
    async with running(settings, listener) as consumer:
        await eventually(lambda: consumer.stats["duplicate"] == 1)
    assert len(calls) == 1 and await effect_count(effects) == 1


async def test_prefetch_bounds_the_messages_in_flight(
        settings: Settings, amqp: AbstractRobustConnection, topology: Topology) -> None:
    active, peak = 0, 0

    async def slow(body: dict[str, Any], ctx: ListenerContext) -> None:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.1)
        active -= 1

    listener = topology.listener(slow, prefetch=3)
    async with running(settings, listener) as consumer:
        for n in range(9):
            await publish(amqp, listener, {"n": n}, message_id=str(uuid.uuid4()))
        await eventually(lambda: consumer.stats["handled"] == 9)
    assert peak == 3


def test_listener_settings_are_checked() -> None:
    handler = recorder()[0]
    with pytest.raises(ValueError):
        Listener("x", "ex", "no-such-type", "rk", "q", 1, handler)
    with pytest.raises(ValueError):
        Listener("x", "ex", "direct", "rk", "q", 0, handler)
    listener = Listener("x", "beat.dx", "topic", "rk", "x_q", 1, handler)
    assert (listener.dead_letter_exchange, listener.dead_letter_queue,
            listener.retry_queue) == ("beat.dx.dlx", "x_q.dlq", "x_q.retry")


async def test_a_handler_waiting_on_the_network_holds_back_no_event_reader(
        settings: Settings, amqp: AbstractRobustConnection, topology: Topology,
        effects: asyncpg.Pool) -> None:
    entered, release = asyncio.Event(), asyncio.Event()

    async def handler(body: dict[str, Any], ctx: ListenerContext) -> None:
        entered.set()
        await release.wait()  # a platform call, before the handler writes anything
        await ctx.conn.execute("INSERT INTO consumer_test_effect VALUES ($1, 'slow')",
                               ctx.listener)

    listener = topology.listener(handler)
    async with running(settings, listener) as consumer:
        await publish(amqp, listener, {"x": 1}, message_id=str(uuid.uuid4()))
        await asyncio.wait_for(entered.wait(), 15)
        await effects.execute("INSERT INTO event_outbox (type) VALUES ('test.meanwhile')")

        async def visible() -> bool:
            found, _ = await read_after(effects, START, 1000)
            return "test.meanwhile" in {event.type for event in found}

        # Other transactions on the server may hold it back for a moment; the blocked handler
        # must not hold it back at all.
        await eventually(visible, timeout=10)
        assert not release.is_set() and consumer.stats["handled"] == 0
        release.set()
        await eventually(lambda: consumer.stats["handled"] == 1)
    assert await effect_count(effects) == 1


async def test_copies_handled_at_the_same_time_run_the_handler_once(
        settings: Settings, amqp: AbstractRobustConnection, topology: Topology,
        effects: asyncpg.Pool) -> None:
    handler, calls = recorder("once")

    async def slow(body: dict[str, Any], ctx: ListenerContext) -> None:
        await asyncio.sleep(0.3)  # both copies are in flight before either commits
        await handler(body, ctx)

    listener = topology.listener(slow, prefetch=10)
    async with running(settings, listener) as consumer:
        event_id = str(uuid.uuid4())
        for _ in range(5):
            await publish(amqp, listener, {"x": 1}, message_id=event_id)
        await eventually(lambda: consumer.stats["handled"] + consumer.stats["duplicate"] == 5)
    assert consumer.stats == {"handled": 1, "duplicate": 4}
    assert len(calls) == 1 and await effect_count(effects) == 1
