"""The outbox relay: publishes outbox events to RabbitMQ with publisher confirms.

One relay leads across all hosts (a session-level Postgres advisory lock on its own connection;
a leader whose connection drops loses the lock to the next host). The leader claims batches of
PENDING rows, publishes every event they stand for (persistent, mandatory, confirmed, many in
flight at once) and marks a row SENT only when all its events were confirmed.

Failures are never dropped. A returned (unroutable) message, a nack, a missing confirm or a row
that cannot be expanded goes back to PENDING with the reason (`mark_failed`) and is PARKED, reason
kept, once it used `max_attempts` claims; PARKED rows stay in the outbox (GET /events) until an
operator re-queues them or their retention ends (queue maintenance prunes the outbox). A lost
broker connection is not the events' fault: their rows go back
to PENDING without parking, the relay claims nothing until the robust connection is back.

Broker side it declares the durable topic exchange `beat.events` and, exactly as the listeners
of core/consumers.py declare it, its dead-letter exchange `beat.events.dlx` (direct, durable):
each consumer queue dead-letters there into its own `<queue>.dlq`. So an event is parked either
in the outbox (the broker never accepted it) or in a consumer's DLQ (it could not be handled).

Delivery contract: at least once, in no guaranteed order.
- At least once: an event is published again whenever the relay cannot know that it was
  delivered: a confirm whose mark_sent never reached the database (the claim lapses and the row
  is claimed again, by this leader or the next), a publish whose confirm came too late, and
  every event of a multi-event row (`task.finished`) when any one of them failed. A repeat keeps
  its event_id, which is also the AMQP message_id: consumers dedupe on it (core/consumers.py
  does, per listener, and refuses a message that has no id at all).
- No order, not even per entity: batches are claimed in id order but up to `pipeline` of them
  are in flight, the events of a batch are published concurrently, a refused event is retried
  after a delay while later ones go ahead, and a parked one is published whenever an operator
  re-queues it. Ids are not commit order either. `occurred_at` is the start of the writing
  transaction: it orders one entity's changes only roughly. An entity event's `changes` holds
  [old, new] per field; a consumer that must not go back to an older value compares with the
  state it holds (or reads the entity) instead of trusting arrival order.
"""

import asyncio
import json
import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, NamedTuple

import aio_pika
import aiormq
import asyncpg
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractRobustConnection

from core import metrics, sqlfile
from core.broker import BROKER_ERRORS, connect_until_stopped, goodbye
from core.config import Settings
from core.db import DB_ERRORS
from core.events import EXCHANGE, Event, expand
from core.leader import lead_when_elected
from core.process import run_process, sleep_unless, unless_stopped

log = logging.getLogger(__name__)

SQL = sqlfile.load(Path(__file__).parent / "sql" / "outbox.sql")
LEADER_LOCK = 0x62726C79  # "brly": not the maintenance lock


@dataclass(frozen=True)
class RelayOptions:
    """Relay tuning; `from_settings` reads the `relay_*`/`amqp_exchange`/`events_*` settings."""

    exchange: str = EXCHANGE
    batch: int = 500
    pipeline: int = 4  # batches published while earlier ones wait for their confirms
    max_in_flight: int = 2000  # unconfirmed publishes at most
    claim_seconds: float = 30.0
    publish_timeout: float = 10.0
    max_attempts: int = 5
    retry_seconds: float = 2.0  # a refused event waits this long per attempt before the next
    poll_interval: float = 0.02
    election_interval: float = 1.0
    reconnect_interval: float = 1.0

    @classmethod
    def from_settings(cls, settings: Settings) -> "RelayOptions":
        names = {"exchange": "amqp_exchange"}
        found = {f.name: getattr(settings, names.get(f.name, f"relay_{f.name}"), None)
                 for f in fields(cls)}
        return cls(**{name: value for name, value in found.items() if value is not None})


class Failure(NamedTuple):
    """Why an event was not confirmed; `counts` is False when the broker went away."""

    reason: str
    counts: bool = True


class Relay:
    """Publishes the outbox to the exchange while this process leads; `run()` until `stop()`."""

    def __init__(self, settings: Settings, exchange: str | None = None,
                 options: RelayOptions | None = None) -> None:
        assert settings.database_url and settings.amqp_url, "the relay needs a database and AMQP"
        self.settings = settings
        self.options = options or RelayOptions.from_settings(settings)
        if exchange:
            self.options = replace(self.options, exchange=exchange)
        self.stopping = asyncio.Event()
        self.leading = False
        self.ready = asyncio.Event()  # set while leading with the broker set up
        self.published = 0  # events confirmed by the broker
        self.outages = 0  # broker connection losses seen while leading
        self._room = asyncio.Semaphore(self.options.max_in_flight)
        self._db_down = False
        self._trouble = ""  # the last reason publishing failed through no fault of the events

    def stop(self) -> None:
        self.stopping.set()

    async def run(self) -> None:
        """Take part in the election until stop(); publish while leading."""
        while not self.stopping.is_set():
            try:
                await self._lead_when_elected()
            except DB_ERRORS as exc:
                # Among them InternalClientError: the connection was left mid-query (a cancelled
                # batch); it is terminated and the next round starts on a new one.
                if not self._db_down:
                    log.warning("relay database connection lost (%s): %s; retrying",
                                type(exc).__name__, exc)
                self._db_down = True
            finally:
                self.leading = False
            await self._sleep(self.options.election_interval)

    async def _lead_when_elected(self) -> None:
        url = self.settings.session_database_url()
        assert url
        await lead_when_elected(url, LEADER_LOCK, self.stopping, self.options.election_interval,
                                self._lead_elected, prepare=self._prepare)

    async def _prepare(self, conn: asyncpg.Connection) -> None:
        if self._db_down:
            log.info("relay database connection restored")
            self._db_down = False
        await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads,
                                  schema="pg_catalog")

    async def _lead_elected(self, conn: asyncpg.Connection) -> None:
        log.info("this host leads the event relay (exchange %s)", self.options.exchange)
        self.leading = True
        await self._lead(conn)

    async def _lead(self, conn: asyncpg.Connection) -> None:
        connection = await self._connect()
        if connection is None:
            return
        try:
            try:
                set_up = await unless_stopped(self.stopping, self._open(connection))
            except BROKER_ERRORS as exc:
                log.warning("relay broker set-up failed (%s): %s", type(exc).__name__, exc)
                return
            if set_up is None:
                return
            channel, exchange = set_up
            self.ready.set()
            await self._relay_loop(_Db(conn), connection, channel, exchange)
        finally:
            self.ready.clear()
            await goodbye("closing the broker link", connection.close())

    async def _connect(self) -> AbstractRobustConnection | None:
        assert self.settings.amqp_url
        connection = await connect_until_stopped(
            self.settings.amqp_url, self.stopping, self.options.reconnect_interval,
            "events stay in the outbox; retrying",
            reconnect_interval=self.options.reconnect_interval)
        if connection is not None:
            log.info("relay connected to the broker")
        return connection

    async def _open(self, connection: AbstractRobustConnection
                    ) -> tuple[AbstractChannel, AbstractExchange]:
        channel = await connection.channel(on_return_raises=True)
        return channel, await self._declare(channel)

    async def _declare(self, channel: AbstractChannel) -> AbstractExchange:
        name = self.options.exchange
        exchange = await channel.declare_exchange(name, aio_pika.ExchangeType.TOPIC, durable=True)
        await channel.declare_exchange(f"{name}.dlx", aio_pika.ExchangeType.DIRECT, durable=True)
        return exchange

    async def _relay_loop(self, db: "_Db", connection: AbstractRobustConnection,
                          channel: AbstractChannel, exchange: AbstractExchange) -> None:
        """Claim batches while up to `pipeline` earlier ones still wait for their confirms."""
        batches: set[asyncio.Task[bool]] = set()
        backoff = 0.0
        try:
            while not self.stopping.is_set():
                lost, ok = _reap(batches)
                if ok and backoff and not lost:
                    log.info("the broker confirms publishes again")
                    backoff = 0.0
                if lost or not _ready(connection, channel):  # the broker went away
                    await _settle_all(batches)
                    backoff = await self._recover(connection, channel, backoff)
                    continue
                if len(batches) >= self.options.pipeline:
                    await asyncio.wait(batches, return_when=asyncio.FIRST_COMPLETED)
                    continue
                rows = await db.fetch(SQL["claim"], self.options.batch,
                                      self.options.claim_seconds)
                if rows:
                    batches.add(asyncio.create_task(self._relay_rows(db, exchange, rows)))
                else:
                    await self._sleep(self.options.poll_interval)
            await _settle_all(batches)
        finally:
            for task in batches:
                task.cancel()
            await asyncio.gather(*batches, return_exceptions=True)

    async def _recover(self, connection: AbstractRobustConnection, channel: AbstractChannel,
                       backoff: float) -> float:
        """Wait for a lost broker connection to come back; back off if it never went down."""
        if _ready(connection, channel):
            if not backoff:
                log.warning("publishing fails while connected (%s): backing off", self._trouble)
            backoff = min(5.0, max(0.5, backoff * 2))
            await self._sleep(backoff)
            return backoff
        self.outages += 1
        lost = time.monotonic()
        log.warning("broker connection lost: events stay in the outbox until it is back")
        while not self.stopping.is_set() and not _ready(connection, channel):
            await self._sleep(0.05)
        if not self.stopping.is_set():
            log.info("broker connection restored after %.1fs", time.monotonic() - lost)
        return 0.0

    async def _relay_rows(self, db: "_Db", exchange: AbstractExchange,
                          rows: Sequence[asyncpg.Record]) -> bool:
        """Publish and settle claimed rows; True when the broker went away meanwhile."""
        outcomes = await self._publish_rows(rows, exchange)
        await self._settle(db, outcomes)
        trouble = [f.reason for f in outcomes.values() if f is not None and not f.counts]
        self._trouble = trouble[0] if trouble else self._trouble
        return bool(trouble)

    async def _publish_rows(self, rows: Sequence[asyncpg.Record],
                            exchange: AbstractExchange) -> dict[int, Failure | None]:
        """Each row's outcome: None when all its events were confirmed, else the first failure."""
        outcomes: dict[int, Failure | None] = {}
        events: list[tuple[int, Event]] = []
        for row in rows:
            try:
                events += [(row["id"], event) for event in expand(row)]
                outcomes[row["id"]] = None
            except (KeyError, TypeError, ValueError, AttributeError) as exc:  # malformed row
                outcomes[row["id"]] = Failure(f"cannot expand the row: {exc!r}")
        results = await asyncio.gather(*(self._publish(exchange, e) for _, e in events))
        self.published += results.count(None)
        failures = [r for r in results if r is not None]
        if failures and len(failures) == len(results) and \
                all(r.reason.startswith("no publisher confirm") for r in failures):
            results = [Failure(f"broker unresponsive: {r.reason}", counts=False)
                       for r in failures]
        for (row_id, _), result in zip(events, results):
            if result is not None and (outcomes[row_id] is None or not result.counts):
                outcomes[row_id] = result
        return outcomes

    async def _publish(self, exchange: AbstractExchange, event: Event) -> Failure | None:
        message = aio_pika.Message(
            event.body(), content_type="application/json", message_id=str(event.event_id),
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT, type=event.type, app_id="beat",
            timestamp=event.occurred_at)
        try:
            async with self._room, asyncio.timeout(self.options.publish_timeout):
                result = await exchange.publish(message, event.type, mandatory=True)
        except aiormq.exceptions.PublishError as exc:
            return Failure(_returned(exc.frame, exchange.name, event.type))
        except aiormq.exceptions.DeliveryError as exc:
            return Failure(f"nacked by the broker: {exc}")
        except TimeoutError:
            return Failure(f"no publisher confirm within {self.options.publish_timeout:g}s")
        except BROKER_ERRORS as exc:
            return Failure(f"broker connection lost: {type(exc).__name__}: {exc}",
                           counts=False)
        if isinstance(result, aiormq.abc.DeliveredMessage):  # returned, on_return_raises off
            return Failure(_returned(result.delivery, exchange.name, event.type))
        return None

    async def _settle(self, db: "_Db", outcomes: dict[int, Failure | None]) -> None:
        """SENT for rows whose events were all confirmed; mark_failed (with the reason) else."""
        sent = [row_id for row_id, failure in outcomes.items() if failure is None]
        if sent:
            await db.fetch(SQL["mark_sent"], sent)
            metrics.outbox_published(len(sent))
        failed: dict[Failure, list[int]] = defaultdict(list)
        for row_id, failure in outcomes.items():
            if failure is not None:
                failed[failure].append(row_id)
        for failure, ids in failed.items():
            if not failure.counts:
                await db.fetch(SQL["release"], ids, failure.reason)
                continue
            marked = await db.fetch(SQL["mark_failed"], ids, failure.reason,
                                    self.options.max_attempts, self.options.retry_seconds)
            parked = sum(1 for r in marked if r["status"] == "PARKED")
            log.warning("%d outbox rows not published (%d parked): %s", len(ids), parked,
                        failure.reason)

    async def _sleep(self, seconds: float) -> None:
        await sleep_unless(self.stopping, seconds)


class _Db:
    """The leader's connection, shared by the claim loop and settling batches, one at a time."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.lock = asyncio.Lock()

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        async with self.lock:
            rows: list[asyncpg.Record] = await self.conn.fetch(query, *args)
            return rows


def _reap(batches: set["asyncio.Task[bool]"]) -> tuple[bool, bool]:
    """Forget finished batches, re-raising their errors: (one lost the broker, one went well)."""
    done = {task for task in batches if task.done()}
    batches -= done
    lost = [task.result() for task in done]
    return any(lost), not all(lost)


async def _settle_all(batches: set["asyncio.Task[bool]"]) -> None:
    if batches:
        await asyncio.wait(batches)
    _reap(batches)


def _ready(connection: AbstractRobustConnection, channel: AbstractChannel) -> bool:
    return connection.connected.is_set() and not channel.is_closed


def _returned(frame: Any, exchange: str, routing_key: str) -> str:
    code = getattr(frame, "reply_code", "?")
    text = getattr(frame, "reply_text", "NO_ROUTE")
    return (f"returned by the broker as unroutable ({code} {text}): no queue is bound to "
            f"routing key {routing_key!r} on exchange {exchange!r}")


def run_relay_process(settings: Settings) -> None:
    """Process entry (the supervisor's `relay` slot): SIGTERM/SIGINT stop the relay."""
    run_process(settings, lambda: Relay(settings))
