"""What every long-running Beat process shares: the uvloop entry point with graceful signal
handling, interruptible sleeps, and deleting old rows in bounded batches."""

import asyncio
import signal
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

import asyncpg

from core.config import Settings
from core.logs import setup_logging


class Service(Protocol):
    """A loop that runs until `stop()`: the worker runtime, maintenance, the relay, the
    listeners."""

    def stop(self) -> None: ...

    async def run(self) -> None: ...


def run_process(settings: Settings, make: Callable[[], Service]) -> None:
    """Process entry: logging, uvloop, SIGTERM/SIGINT call the service's `stop()`, run it."""
    import uvloop

    setup_logging(settings.log_level)
    service = make()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, service.stop)
        await service.run()

    uvloop.run(main())


async def sleep_unless(stopping: asyncio.Event, seconds: float) -> None:
    """Sleep `seconds`, or less if `stopping` is set meanwhile."""
    try:
        await asyncio.wait_for(stopping.wait(), seconds)
    except TimeoutError:
        pass


async def delete_in_batches(conn: asyncpg.Connection, query: str, cutoff: datetime, batch: int,
                            stopping: asyncio.Event) -> int:
    """Run a `DELETE ... LIMIT $2` query with ($1 cutoff, $2 batch) until it deletes fewer
    than a batch; the number deleted."""
    total = 0
    while not stopping.is_set():
        status = await conn.execute(query, cutoff, batch)
        deleted = int(status.split()[-1])
        total += deleted
        if deleted < batch:
            break
    return total

