"""End-to-end: task events reach RabbitMQ through a broker outage, with real `beat worker`
processes. Beat talks to RabbitMQ through a TCP proxy the test cuts for over 30 s (the shared
broker itself is never touched); the consumer reads directly from RabbitMQ."""

import asyncio
import re
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit, urlunsplit

import aio_pika
import asyncpg
import pytest
from aio_pika.abc import AbstractIncomingMessage

from bench.tcpproxy import TcpProxy
from core.events import EXCHANGE, finished_tasks
from tests.conftest import AMQP_URL
from tests.e2e.procs import BeatProcess, Launcher, wait_worker_ready
from tests.e2e.support import enqueue, overrides, wait_all_finished, wait_for

TASKS = 5000
BEFORE_CUT = 500
OUTAGE = 31.0  # seconds the broker is unreachable for Beat
RELAY_MAIN = ("from core.config import Settings; from core.relay import run_relay_process; "
              "run_relay_process(Settings())")
LEADS = r"\[(\d+)\] core\.relay: this host leads the event relay"
RESTORED = r"\[(\d+)\] core\.relay: broker connection restored after"


class RelayProcess(BeatProcess):
    """`run_relay_process` in its own interpreter, for as long as the supervisor has no relay."""

    def start(self) -> "RelayProcess":
        with open(self.log_path, "ab") as log:
            self.popen = subprocess.Popen([sys.executable, "-c", RELAY_MAIN], stdout=log,
                                          stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                          env=self.env, cwd=self.cwd)
        return self


def through(proxy: TcpProxy) -> str:
    parts = urlsplit(AMQP_URL)
    userinfo = parts.netloc.rpartition("@")[0]
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{proxy.host}:{proxy.port}"))


def relay_of(beat: Launcher, sup: BeatProcess, amqp_url: str) -> BeatProcess:
    """The supervisor when it runs a `relay` slot, else a relay process started here."""
    if "relay" in sup.started_children().values():
        return sup
    log_path = beat.workdir / f"relay-{len(beat.started)}.log"
    proc = RelayProcess("relay", [], beat.env(AMQP_URL=amqp_url), log_path, beat.workdir)
    beat.started.append(proc.start())
    return proc


@asynccontextmanager
async def task_events() -> AsyncIterator[dict[str, str]]:
    """Every task.* event on the real exchange (event_id -> routing key), read from a private
    queue directly on RabbitMQ (not through the proxy)."""
    received: dict[str, str] = {}

    async def on_message(message: AbstractIncomingMessage) -> None:
        received[message.message_id or ""] = message.routing_key or ""

    connection = await aio_pika.connect(AMQP_URL)
    try:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(EXCHANGE, aio_pika.ExchangeType.TOPIC,
                                                  durable=True)
        queue = await channel.declare_queue(f"e2e-events-{uuid.uuid4().hex[:8]}",
                                            exclusive=True)
        await queue.bind(exchange, "task.#")
        await queue.consume(on_message, no_ack=True)
        yield received
    finally:
        await connection.close()


async def expected_event_ids(pool: asyncpg.Pool) -> set[str]:
    """The event ids the outbox stands for (other tests may publish task events too)."""
    rows = await pool.fetch("SELECT event_id, changes FROM event_outbox "
                            "WHERE type = 'task.finished'")
    return {str(uuid.uuid5(r["event_id"], str(task["id"])))
            for r in rows for task in finished_tasks(r["changes"])}


async def outbox_counts(pool: asyncpg.Pool) -> dict[str, int]:
    rows = await pool.fetch("SELECT status, count(*) AS n FROM event_outbox GROUP BY 1")
    return {r["status"]: r["n"] for r in rows}


@pytest.mark.timeout(90)
async def test_task_events_survive_a_broker_outage(beat: Launcher, e2e_db: str,
                                                   pool: asyncpg.Pool) -> None:
    upstream = urlsplit(AMQP_URL)
    with TcpProxy(upstream.hostname or "127.0.0.1", upstream.port or 5672) as proxy:
        async with task_events() as received:
            sup = beat.worker("noop", AMQP_URL=through(proxy), QUEUE_POLL_INTERVAL=0.5,
                              FLOW_OVERRIDES=overrides(noop={"processes": 2}))
            await wait_worker_ready(sup, e2e_db, workers=2)
            relay = relay_of(beat, sup, through(proxy))
            await relay.wait_log(r"core\.relay: relay connected to the broker", timeout=20)
            leader = int((await relay.wait_log(LEADS))[0])

            # Cut while the first tasks' events are being published; the rest finish meanwhile.
            await enqueue(pool, "noop", [{"i": i} for i in range(BEFORE_CUT)])

            async def some_sent() -> bool:
                return (await outbox_counts(pool)).get("SENT", 0) > 0

            await wait_for(some_sent, 20, "a published outbox row", relay)
            proxy.cut()
            cut_at = time.monotonic()
            await enqueue(pool, "noop", [{"i": i} for i in range(BEFORE_CUT, TASKS)])
            assert await wait_all_finished(pool, TASKS, 25, sup) == {"COMPLETE": TASKS}
            await relay.wait_log(r"core\.relay: broker connection lost", timeout=10)
            await asyncio.sleep(max(0.0, OUTAGE - (time.monotonic() - cut_at)))
            during = await outbox_counts(pool)
            assert during.get("PENDING", 0) > 0 and "PARKED" not in during, during
            assert await pool.fetchval("SELECT max(attempts) FROM event_outbox") <= 2
            proxy.restore()

            expected = await expected_event_ids(pool)
            assert len(expected) == TASKS

            async def all_received() -> bool:
                return expected <= received.keys()

            await wait_for(all_received, 25, f"all {TASKS} task events", relay)

            async def all_sent() -> dict[str, int] | None:
                counts = await outbox_counts(pool)
                return counts if set(counts) == {"SENT"} else None

            await wait_for(all_sent, 10, "every outbox row SENT", relay)
            log = relay.log()
            for proc in reversed(beat.started):  # while the proxy is up: they close cleanly
                proc.stop()

    assert {received[event_id] for event_id in expected} == {"task.complete"}
    # The same relay process reconnected by itself, with one line per state change.
    assert [int(pid) for pid in re.findall(RESTORED, log)] == [leader]
    assert relay.returncode == 0, relay.returncode
    relay_lines = [line for line in log.splitlines() if f"[{leader}]" in line]
    assert len(relay_lines) == 4 and all("core.relay" in line for line in relay_lines), \
        relay_lines
