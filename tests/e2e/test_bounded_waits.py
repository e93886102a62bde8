"""End-to-end: `beat worker` stops within seconds when the outside world stops answering.
RabbitMQ is reached through a TCP proxy that the test turns silent (connections accepted and
parked, never answered); the shared broker itself is never touched."""

import asyncio
import signal
import time
from urllib.parse import urlsplit

import pytest

from bench.tcpproxy import TcpProxy
from tests.conftest import AMQP_URL
from tests.e2e.procs import Launcher, wait_worker_ready
from tests.e2e.test_events import through

GRACE = 5.0


@pytest.mark.parametrize("silent_from", ["start", "after_connecting"])
async def test_worker_stops_promptly_with_the_broker_silent(beat: Launcher, e2e_db: str,
                                                            silent_from: str) -> None:
    upstream = urlsplit(AMQP_URL)
    with TcpProxy(upstream.hostname or "127.0.0.1", upstream.port or 5672) as proxy:
        if silent_from == "start":
            proxy.cut("hold")
        sup = beat.worker("e2e_runlog", AMQP_URL=through(proxy), WORKER_SHUTDOWN_GRACE=GRACE)
        await wait_worker_ready(sup, e2e_db, workers=1)
        if silent_from == "after_connecting":
            await sup.wait_log(r"core\.consumers: consuming ", timeout=20)
            await sup.wait_log(r"core\.relay: relay connected to the broker", timeout=20)
            proxy.cut("hold")
        time_to_notice = 2.0  # both start (re)connecting into the silent proxy meanwhile
        await asyncio.sleep(time_to_notice)
        assert proxy.accepted > 0
        sent = time.monotonic()
        sup.signal(signal.SIGTERM)
        code = await sup.wait_exit(3 * GRACE)
        took = time.monotonic() - sent
    assert code == 0
    assert "killing it" not in sup.log()
    assert took < GRACE, f"the worker took {took:.1f}s to stop with the broker silent"
