"""The RabbitMQ link the relay and the listeners share: connect, trying again until it works or
a stop is asked for, and say goodbye without waiting on a broker that has gone silent."""

import asyncio
import contextlib
import logging
from typing import Any

import aio_pika
import aiormq
from aio_pika.abc import AbstractRobustConnection

from core.process import bounded, sleep_unless

log = logging.getLogger(__name__)

BROKER_ERRORS = (ConnectionError, OSError, TimeoutError, aiormq.exceptions.AMQPError,
                 aiormq.exceptions.ChannelInvalidStateError)
# A short timeout: a broker that accepts but never answers holds each try (and a stop request)
# no longer than that.
CONNECT_TIMEOUT_S = 3.0
GOODBYE_WAIT_S = 2.0  # longest wait per goodbye to the broker (it may have gone silent)


async def connect_until_stopped(url: str, stopping: asyncio.Event, retry_s: float,
                                meanwhile: str, **options: Any
                                ) -> AbstractRobustConnection | None:
    """A robust connection (it reconnects by itself once made), retried every `retry_s`
    seconds until it first works; None when `stopping` is set first. The first failure is
    logged with `meanwhile` (what happens until the broker is back), the rest quietly."""
    failing = False
    while not stopping.is_set():
        try:
            connection: AbstractRobustConnection = await aio_pika.connect_robust(
                url, timeout=CONNECT_TIMEOUT_S, **options)
            return connection
        except BROKER_ERRORS as exc:
            if not failing:
                log.warning("broker unreachable (%s: %s): %s", type(exc).__name__, exc,
                            meanwhile)
            failing = True
        await sleep_unless(stopping, retry_s)
    return None


async def goodbye(what: str, awaitable: Any) -> None:
    """Wait at most GOODBYE_WAIT_S for a closing step (`what`), whatever the broker does."""
    with contextlib.suppress(*BROKER_ERRORS):
        await bounded(awaitable, GOODBYE_WAIT_S, what)
