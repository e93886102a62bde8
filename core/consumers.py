"""A small AMQP listener framework: idempotent, transactional handlers, counted retries and a
dead-letter queue per listener.

Per listener, declared on start (all durable):
    <exchange> (exchange_type) --routing_key--> <queue>    the work queue, consumed with prefetch
    <queue>.retry   no consumer: a failed message waits there retry_delay_s (per-message TTL),
                    then RabbitMQ dead-letters it back to <queue> through the default exchange
    <exchange>.dlx (direct) --<queue>--> <queue>.dlq        messages that will never succeed

Each message runs in ONE PostgreSQL transaction: a lock on (listener, event id) that copies of
the message handled at once queue up on, a look in consumed_event (found: a redelivery, acked and
skipped), the handler's writes on the same connection (`ctx.conn`, `ctx.queue`), then the
consumed_event row; the ack comes after COMMIT. The event id is the body's
`event_id`, else the AMQP `message_id`. A message with neither (or with one that cannot be an id:
not a string or integer, longer than MAX_EVENT_ID characters, or holding a NUL) is dead-lettered
at once with the reason: handling it without an id would give up the dedupe that makes
at-least-once delivery safe.

Attempts are counted in the `x-beat-attempts` header: a failure republishes a copy (confirmed)
with the header incremented to <queue>.retry and acks the original, which works on classic queues
(the seed's) and sends retries to the back of the queue. At `max_attempts`, or at once for a
`Reject` or a body that is not a JSON object, a copy goes to <exchange>.dlx with `x-beat-error`,
`x-beat-attempts`, `x-beat-consumer` and the original exchange and routing key (should that fail,
a reject still dead-letters it, without the reason). An unreachable database burns no attempt.
"""

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any, cast

import asyncpg
from aio_pika import abc
from aio_pika.abc import AbstractIncomingMessage, ExchangeType

from core import db
from core.broker import connect_until_stopped, goodbye
from core.config import Settings
from core.messages import (
    ATTEMPTS_HEADER,
    CONSUMER_HEADER,
    ERROR_HEADER,
    LAST_ERROR_HEADER,
    MAX_REASON,
    MalformedMessage,
    NoEventId,
    copied_headers,
    copy_message,
    message_event_id,
    parse_body,
    previous_attempts,
)
from core.process import run_process, unless_stopped
from core.queue import Queue

log = logging.getLogger(__name__)

DB_RETRY_PAUSE_S = 2.0
PRUNE_INTERVAL_S = 3600.0
PRUNE_BATCH = 10_000
BROKER_RETRY_S = 1.0

# Copies of one message handled at once queue up on a transaction-level advisory lock (the
# two-key form: a lock space apart from the leaders' one-key locks); the event is recorded after
# the handler, so a transaction takes no transaction id until its first write and a handler
# waiting on the network holds back no GET /events reader.
SERIALIZE = "SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))"
SEEN = "SELECT true FROM consumed_event WHERE consumer = $1 AND event_id = $2"
RECORD = "INSERT INTO consumed_event (consumer, event_id) VALUES ($1, $2)"
PRUNE = ("DELETE FROM consumed_event WHERE (consumer, event_id) IN (SELECT consumer, event_id "
         "FROM consumed_event WHERE consumed_at < now() - make_interval(secs => $1) LIMIT $2)")


class Reject(Exception):
    """Raised by a handler for a message that can never succeed: dead-lettered without retries."""


@dataclass(frozen=True, slots=True)
class ListenerContext:
    """What a handler may use: `conn` is in the transaction that records the event, and `queue`
    enqueues on it; `state` is a per-consumer cache for clients and keys."""

    listener: str
    event_id: str
    attempt: int
    conn: asyncpg.Connection
    pool: asyncpg.Pool
    queue: Queue
    settings: Settings
    log: logging.Logger
    state: dict[str, Any]


Handler = Callable[[dict[str, Any], ListenerContext], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Listener:
    """One queue bound to an exchange, and the coroutine that handles its messages."""

    name: str
    exchange: str
    exchange_type: str
    routing_key: str
    queue: str
    prefetch: int
    handler: Handler
    max_attempts: int = 5
    retry_delay_s: float = 5.0

    def __post_init__(self) -> None:
        ExchangeType(self.exchange_type)  # a ValueError names a bad type at import time
        if self.prefetch < 1 or self.max_attempts < 1 or self.retry_delay_s < 0:
            raise ValueError(f"listener {self.name}: prefetch, max_attempts or retry_delay_s")

    @property
    def dead_letter_exchange(self) -> str:
        return f"{self.exchange}.dlx"

    @property
    def dead_letter_queue(self) -> str:
        return f"{self.queue}.dlq"

    @property
    def retry_queue(self) -> str:
        return f"{self.queue}.retry"


@dataclass(slots=True)
class _Subscription:
    listener: Listener
    channel: abc.AbstractChannel
    queue: abc.AbstractQueue
    dead_letters: abc.AbstractExchange
    tag: str = ""


class _OneConnection:
    """Stands in for the pool of a Queue so that its statements join the listener's transaction."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[asyncpg.Connection]:
        yield self._conn

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


class _Unreachable(Exception):
    """No database connection for this message."""


class Consumer:
    """Runs `listeners` on one AMQP connection and one asyncpg pool until `stop()`."""

    def __init__(self, settings: Settings, listeners: Sequence[Listener], *,
                 pool_size: int | None = None, retention_days: float = 7.0) -> None:
        names = [listener.name for listener in listeners]
        if len(set(names)) != len(names):
            raise ValueError(f"listener names must be unique: {names}")
        self.settings = settings
        self.listeners = list(listeners)
        self.pool_size = pool_size or min(32, max(2, sum(lis.prefetch for lis in listeners)))
        self.retention_days = retention_days
        self.ready = asyncio.Event()
        self.stats: Counter[str] = Counter()  # handled, duplicate, retried, dead_lettered, ...
        self.state: dict[str, Any] = {}
        self._stopping = asyncio.Event()
        self._inflight: set[asyncio.Task[Any]] = set()
        self._pool: asyncpg.Pool | None = None

    def stop(self) -> None:
        """Stop taking messages; `run()` returns once the ones in flight are done."""
        self._stopping.set()

    async def run(self) -> None:
        if not (self.settings.amqp_url and self.settings.database_url):
            raise RuntimeError("listeners need AMQP_URL and DATABASE_URL")
        self._pool = await db.create_pool(self.settings.database_url, max_size=self.pool_size)
        try:
            connection = await self._connect()
            if connection is None:
                return
            try:
                await self._serve(connection)
            finally:
                await goodbye("closing the broker link", connection.close())
        finally:
            await db.close_pool(self._pool)

    async def _connect(self) -> abc.AbstractRobustConnection | None:
        assert self.settings.amqp_url
        return await connect_until_stopped(self.settings.amqp_url, self._stopping,
                                           BROKER_RETRY_S, "retrying", heartbeat=60)

    async def _serve(self, connection: abc.AbstractRobustConnection) -> None:
        subscriptions = await unless_stopped(self._stopping, self._subscribe_all(connection))
        if subscriptions is None:
            return
        self.ready.set()
        log.info("consuming %s", ", ".join(lis.queue for lis in self.listeners))
        while not self._stopping.is_set():
            try:
                await asyncio.wait_for(self._stopping.wait(), PRUNE_INTERVAL_S)
            except TimeoutError:
                await self._prune()
        if connection.connected.is_set():  # while it reconnects there is nothing to cancel
            await goodbye("cancelling the consumers",
                          asyncio.gather(*(sub.queue.cancel(sub.tag) for sub in subscriptions)))
        if self._inflight:
            log.info("waiting for %d messages in flight", len(self._inflight))
            await asyncio.wait(self._inflight, timeout=self.settings.worker_shutdown_grace)

    async def _subscribe_all(self, connection: abc.AbstractRobustConnection
                             ) -> list[_Subscription]:
        return [await self._subscribe(connection, lis) for lis in self.listeners]

    async def _subscribe(self, connection: abc.AbstractRobustConnection,
                         listener: Listener) -> _Subscription:
        channel = await connection.channel(on_return_raises=True)
        await channel.set_qos(prefetch_count=listener.prefetch)
        exchange = await channel.declare_exchange(
            listener.exchange, ExchangeType(listener.exchange_type), durable=True)
        dlx = await channel.declare_exchange(listener.dead_letter_exchange, ExchangeType.DIRECT,
                                             durable=True)
        dlq = await channel.declare_queue(listener.dead_letter_queue, durable=True)
        await dlq.bind(dlx, routing_key=listener.queue)
        await channel.declare_queue(listener.retry_queue, durable=True, arguments={
            "x-dead-letter-exchange": "", "x-dead-letter-routing-key": listener.queue})
        queue = await channel.declare_queue(listener.queue, durable=True, arguments={
            "x-dead-letter-exchange": listener.dead_letter_exchange,
            "x-dead-letter-routing-key": listener.queue})
        await queue.bind(exchange, routing_key=listener.routing_key)
        sub = _Subscription(listener, channel, queue, dlx)
        sub.tag = await queue.consume(partial(self._on_message, sub))
        return sub

    async def _prune(self) -> None:
        assert self._pool is not None
        try:
            async with self._pool.acquire() as conn:
                while (await conn.execute(PRUNE, self.retention_days * 86400, PRUNE_BATCH)
                       ).split()[-1] == str(PRUNE_BATCH):
                    pass
        except (asyncpg.PostgresError, *db.DB_UNREACHABLE) as exc:
            log.warning("pruning consumed events failed: %s", exc)

    async def _on_message(self, sub: _Subscription, message: AbstractIncomingMessage) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._inflight.add(task)
        try:
            await self._deliver(sub, message)
        except Exception:  # an ack or publish on a channel that just died: it is redelivered
            log.exception("%s: message %s not settled", sub.listener.name, message.message_id)
        finally:
            self._inflight.discard(task)

    async def _deliver(self, sub: _Subscription, message: AbstractIncomingMessage) -> None:
        listener = sub.listener
        attempt = previous_attempts(message) + 1
        try:
            body = parse_body(message.body)
        except MalformedMessage as exc:
            await self._dead_letter(sub, message, attempt, f"malformed: {exc}")
            return
        try:
            event_id = message_event_id(body, message.message_id)
        except NoEventId as exc:
            await self._dead_letter(sub, message, attempt, f"no event id: {exc}")
            return
        try:
            fresh = await self._transact(listener, body, event_id, attempt)
        except Reject as exc:
            await self._dead_letter(sub, message, attempt, f"rejected: {exc}")
        except _Unreachable as exc:
            log.warning("%s: database unreachable (%s): requeueing", listener.name, exc)
            self.stats["requeued"] += 1
            await asyncio.sleep(DB_RETRY_PAUSE_S)
            await message.nack(requeue=True)
        except Exception as exc:  # noqa: BLE001 - any handler failure is a counted attempt
            await self._failed(sub, message, attempt, exc)
        else:
            await self._ack(message)
            self.stats["handled" if fresh else "duplicate"] += 1

    async def _transact(self, listener: Listener, body: dict[str, Any], event_id: str,
                        attempt: int) -> bool:
        """Record the event and run the handler in one transaction; False: seen before."""
        assert self._pool is not None
        try:
            conn = await self._pool.acquire()
        except db.DB_UNREACHABLE as exc:
            raise _Unreachable(f"{type(exc).__name__}: {exc}") from exc
        try:
            async with conn.transaction():
                await conn.execute(SERIALIZE, listener.name, event_id)
                if await conn.fetchval(SEEN, listener.name, event_id):
                    log.info("%s: event %s already consumed: skipped", listener.name, event_id)
                    return False
                queue = Queue(cast(asyncpg.Pool, _OneConnection(conn)))
                ctx = ListenerContext(listener.name, event_id, attempt, conn, self._pool, queue,
                                      self.settings, logging.getLogger(f"beat.{listener.name}"),
                                      self.state)
                await listener.handler(body, ctx)
                await conn.execute(RECORD, listener.name, event_id)
            return True
        finally:
            await self._pool.release(conn)

    async def _ack(self, message: AbstractIncomingMessage) -> None:
        """Settle a message whose transaction committed (a hook for tests of crash timing)."""
        await message.ack()

    async def _failed(self, sub: _Subscription, message: AbstractIncomingMessage, attempt: int,
                      exc: Exception) -> None:
        listener = sub.listener
        reason = f"{type(exc).__name__}: {exc}"[:MAX_REASON]
        if attempt >= listener.max_attempts:
            log.error("%s: message %s failed %d times, dead-lettered", listener.name,
                      message.message_id, attempt, exc_info=exc)
            await self._dead_letter(sub, message, attempt, reason)
            return
        log.warning("%s: message %s failed (attempt %d of %d), retried in %.1fs: %s",
                    listener.name, message.message_id, attempt, listener.max_attempts,
                    listener.retry_delay_s, reason)
        headers = copied_headers(message) | {ATTEMPTS_HEADER: attempt, LAST_ERROR_HEADER: reason}
        delay = listener.retry_delay_s
        target = listener.retry_queue if delay > 0 else listener.queue
        try:
            await sub.channel.default_exchange.publish(
                copy_message(message, headers, expiration=delay or None), routing_key=target)
        except Exception as publish_error:  # noqa: BLE001 - the broker redelivers it
            log.warning("%s: retry publish failed (%s): requeueing", listener.name, publish_error)
            await message.nack(requeue=True)
            return
        await message.ack()
        self.stats["retried"] += 1

    async def _dead_letter(self, sub: _Subscription, message: AbstractIncomingMessage,
                           attempt: int, reason: str) -> None:
        listener = sub.listener
        log.warning("%s: message %s dead-lettered to %s: %s", listener.name, message.message_id,
                    listener.dead_letter_queue, reason)
        headers = copied_headers(message) | {
            ATTEMPTS_HEADER: attempt, ERROR_HEADER: reason[:MAX_REASON],
            CONSUMER_HEADER: listener.name}
        try:
            await sub.dead_letters.publish(copy_message(message, headers),
                                           routing_key=listener.queue)
        except Exception as publish_error:  # noqa: BLE001 - the queue's DLX takes it
            log.warning("%s: dead-letter publish failed (%s): rejecting", listener.name,
                        publish_error)
            await message.reject(requeue=False)
        else:
            await message.ack()
        self.stats["dead_lettered"] += 1


def run_consumer_process(settings: Settings, names: Sequence[str] | None = None) -> None:
    """Process entry: run Beat's listeners (all, or those in `names`) until SIGTERM/SIGINT."""
    from core.listeners import registered_listeners

    listeners = registered_listeners(settings)
    unknown = set(names or ()) - {lis.name for lis in listeners}
    if unknown:
        raise ValueError(f"unknown listeners: {', '.join(sorted(unknown))}")
    chosen = [lis for lis in listeners if not names or lis.name in names]
    run_process(settings, lambda: Consumer(settings, chosen))
