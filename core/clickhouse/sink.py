"""The buffered ClickHouse sink: consumes the entity events of the events exchange
(AMQP_EXCHANGE, `beat.events` by default; queue `clickhouse_sink_q`, bound with profile.#,
post.# and comment.#) and writes each as a full snapshot of its entity, read from PostgreSQL
(core/clickhouse/states.py), in batches of `batch_rows`, or whatever has gathered `flush_s`
seconds after the last write, whichever comes first (the seed's buffered sinkers: 1,000 rows
or 5 s).

A message is acked only after the batch holding it was written, so a crash loses nothing: the
broker delivers again what was not acked, and the table keeps one copy of a repeated event
(ReplacingMergeTree on the event's key). A batch whose states cannot be read or that the server
refuses is retried with a growing pause while new messages wait in the broker (prefetch: two
batches). A body that is not an entity event is logged and acked: it can never be written."""

import asyncio
import json
import logging
from collections import Counter
from dataclasses import dataclass

import asyncpg
from aio_pika import abc
from aio_pika.abc import AbstractIncomingMessage, ExchangeType

from core import db
from core.broker import connect_until_stopped, goodbye
from core.clickhouse.rows import ROUTING_KEYS, EntityEvent, NotASnapshot, parse_event, snapshot_row
from core.clickhouse.states import stored_states
from core.clickhouse.writer import SnapshotWriter
from core.config import Settings
from core.events import events_queue
from core.platforms import Platform, registry

log = logging.getLogger(__name__)

QUEUE = "clickhouse_sink_q"
RETRY_FIRST_S, RETRY_MAX_S = 1.0, 30.0
MAX_PREFETCH = 65_535


@dataclass(frozen=True, slots=True)
class _Pending:
    message: AbstractIncomingMessage
    event: EntityEvent


class ClickHouseSink:
    def __init__(self, settings: Settings, writer: SnapshotWriter, *,
                 exchange: str | None = None, queue: str | None = None) -> None:
        if not (settings.amqp_url and settings.database_url):
            raise RuntimeError("the ClickHouse sink consumes the events exchange and reads the "
                               "entities' rows: it needs AMQP_URL and DATABASE_URL")
        self.settings = settings
        self.writer = writer
        self.exchange = exchange or settings.amqp_exchange
        self.queue = queue or events_queue(self.exchange, QUEUE)
        self.platforms: dict[str, Platform] = registry(settings)
        self.batch_rows = settings.clickhouse_batch_rows
        self.flush_s = settings.clickhouse_flush_seconds
        self.ready = asyncio.Event()
        # rows, complete (rows of a stored state), batches, skipped, failed_writes
        self.stats: Counter[str] = Counter()
        self.batches: list[int] = []  # the size of each batch written, in order
        self._pending: list[_Pending] = []
        self._has_rows = asyncio.Event()
        self._full = asyncio.Event()
        self._stopping = asyncio.Event()
        self._pool: asyncpg.Pool | None = None

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        assert self.settings.amqp_url and self.settings.database_url
        if not await self._tables_ready():
            return
        self._pool = await db.create_pool(self.settings.database_url, max_size=2)
        try:
            await self._consume()
        finally:
            await db.close_pool(self._pool)
            await self.writer.aclose()

    async def _consume(self) -> None:
        assert self.settings.amqp_url
        connection = await connect_until_stopped(self.settings.amqp_url, self._stopping, 1.0,
                                                 "retrying", heartbeat=60)
        if connection is None:
            return
        try:
            queue = await self._subscribe(connection)
            tag = await queue.consume(self._on_message)
            self.ready.set()
            log.info("writing %s to ClickHouse: %d rows or every %.1fs", self.queue,
                     self.batch_rows, self.flush_s)
            await self._flush_until_stopped()
            await goodbye("cancelling the consumer", queue.cancel(tag))
            while self._pending:
                await self._flush()
        finally:
            await goodbye("closing the broker link", connection.close())

    async def _tables_ready(self) -> bool:
        """Create the tables, retrying while ClickHouse is unreachable; False: stopped first."""
        while not self._stopping.is_set():
            try:
                await self.writer.create_tables()
                return True
            except Exception as exc:  # noqa: BLE001 - unreachable or refusing: try again
                log.warning("clickhouse sink: creating the tables failed (%s: %s): again in "
                            "%.0fs", type(exc).__name__, exc, RETRY_MAX_S)
                try:
                    await asyncio.wait_for(self._stopping.wait(), RETRY_MAX_S)
                except TimeoutError:
                    pass
        return False

    async def _subscribe(self, connection: abc.AbstractRobustConnection) -> abc.AbstractQueue:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=min(MAX_PREFETCH, 2 * self.batch_rows))
        exchange = await channel.declare_exchange(self.exchange, ExchangeType.TOPIC,
                                                  durable=True)
        queue = await channel.declare_queue(self.queue, durable=True)
        for key in ROUTING_KEYS:
            await queue.bind(exchange, routing_key=key)
        return queue

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        try:
            event = parse_event(json.loads(message.body))
        except (NotASnapshot, ValueError, TypeError, AttributeError) as exc:
            log.warning("clickhouse sink: message %s skipped: %s", message.message_id, exc)
            self.stats["skipped"] += 1
            await message.ack()
            return
        self._pending.append(_Pending(message, event))
        self._has_rows.set()
        if len(self._pending) >= self.batch_rows:
            self._full.set()

    async def _flush_until_stopped(self) -> None:
        stopping = asyncio.create_task(self._stopping.wait())
        try:
            while not self._stopping.is_set():
                rows = asyncio.create_task(self._has_rows.wait())
                await asyncio.wait([rows, stopping], return_when=asyncio.FIRST_COMPLETED)
                rows.cancel()
                if self._stopping.is_set():
                    return
                full = asyncio.create_task(self._full.wait())
                await asyncio.wait([full, stopping], timeout=self.flush_s,
                                   return_when=asyncio.FIRST_COMPLETED)
                full.cancel()
                await self._flush()
        finally:
            stopping.cancel()

    async def _flush(self) -> None:
        """Write the oldest batch_rows pending rows (retrying until it works), then ack them."""
        batch, self._pending = (self._pending[:self.batch_rows],
                                self._pending[self.batch_rows:])
        if len(self._pending) < self.batch_rows:
            self._full.clear()
        if not self._pending:
            self._has_rows.clear()
        if not batch:
            return
        await self._write([p.event for p in batch])
        try:
            await batch[-1].message.ack(multiple=True)
        except Exception as exc:  # noqa: BLE001 - the channel died: the broker delivers again
            log.warning("clickhouse sink: ack failed (%s): the batch comes again", exc)
        self.batches.append(len(batch))
        self.stats["rows"] += len(batch)
        self.stats["batches"] += 1

    async def _write(self, events: list[EntityEvent]) -> None:
        """Read the entities' stored states and write one row per event (both again after a
        failure, so a retried batch holds the states as they are then)."""
        assert self._pool is not None
        pause = RETRY_FIRST_S
        while True:
            try:
                states = await stored_states(self._pool, self.platforms, events)
                rows = [snapshot_row(e, states.get((e.platform, e.kind, e.entity_key)))
                        for e in events]
                await self.writer.insert(rows)
                self.stats["complete"] += sum(row["complete"] for row in rows)
                return
            except Exception as exc:  # noqa: BLE001 - any refusal is retried; nothing is lost
                self.stats["failed_writes"] += 1
                log.warning("clickhouse sink: writing %d rows failed (%s: %s): again in %.0fs",
                            len(events), type(exc).__name__, exc, pause)
                await asyncio.sleep(pause)
                pause = min(RETRY_MAX_S, pause * 2)


def run_sink_process(settings: Settings) -> None:
    """Process entry (`beat sink clickhouse`): run the sink until SIGTERM/SIGINT."""
    from core.clickhouse.writer import ClickHouseWriter
    from core.process import run_process

    if not settings.clickhouse_url:
        raise RuntimeError("CLICKHOUSE_URL is not set")
    url, database = settings.clickhouse_url, settings.clickhouse_database
    run_process(settings, lambda: ClickHouseSink(settings, ClickHouseWriter(url, database)))
