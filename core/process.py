"""What every long-running Beat process shares: the uvloop entry point with graceful signal
handling, interruptible sleeps, and deleting old rows in bounded batches."""

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol, TypeVar

import asyncpg

from core.config import Settings
from core.logs import setup_logging

log = logging.getLogger(__name__)
LEFTOVER_WAIT_S = 1.0
T = TypeVar("T")


class Service(Protocol):
    """A loop that runs until `stop()`: the worker runtime, maintenance, the relay, the
    listeners. A service may set an `exit_code` attribute: the process exits with it."""

    def stop(self) -> None: ...

    async def run(self) -> None: ...


def run_process(settings: Settings, make: Callable[[], Service]) -> None:
    """Process entry: logging, uvloop, SIGTERM/SIGINT call the service's `stop()`, run it.

    Exits with the service's `exit_code` (0 when it has none), and exits even when some
    coroutine of it ignores cancellation: the event loop would otherwise wait for it forever.
    """
    import uvloop

    setup_logging(settings.log_level)
    service = make()

    async def main() -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, service.stop)
        await service.run()
        code: int = getattr(service, "exit_code", 0)
        await _cancel_leftovers(code)
        return code

    code = uvloop.run(main())
    if code:
        raise SystemExit(code)


async def _cancel_leftovers(code: int) -> None:
    """Cancel what the service left running; leave at once (os._exit) if some of it will not
    stop, since closing the loop waits for every task."""
    leftovers = asyncio.all_tasks() - {asyncio.current_task()}
    for task in leftovers:
        task.cancel()
    if not leftovers:
        return
    _, stuck = await asyncio.wait(leftovers, timeout=LEFTOVER_WAIT_S)
    if stuck:
        log.error("%d coroutines ignore cancellation: exiting without them", len(stuck))
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code or 1)


def stop_signal_note(signum: int, count: int, grace: float) -> str | None:
    """What a process that passes stop signals on to its children says of the `count`-th one:
    the first lets running tasks finish within `grace` seconds, the second hands them back."""
    name = signal.Signals(signum).name
    if count == 1:
        again = "Ctrl-C" if signum == signal.SIGINT else name
        return (f"got {name}: stopping; running tasks get up to {grace:g}s to finish "
                f"({again} again hands them back to the queue now)")
    if count == 2:
        return f"got {name} again: handing running tasks back to the queue now"
    return None


async def sleep_unless(stopping: asyncio.Event, seconds: float) -> None:
    """Sleep `seconds`, or less if `stopping` is set meanwhile."""
    try:
        await asyncio.wait_for(stopping.wait(), seconds)
    except TimeoutError:
        pass


async def unless_stopped(stopping: asyncio.Event, awaitable: Awaitable[T]) -> T | None:
    """The result of `awaitable`, or None if `stopping` is set first (the awaitable is then
    cancelled): a wait on the outside world that a stop request cuts short."""
    work = asyncio.ensure_future(awaitable)
    stop = asyncio.ensure_future(stopping.wait())
    try:
        await asyncio.wait({work, stop}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        work.cancel()
        raise
    finally:
        stop.cancel()
    if work.done():
        return work.result()
    work.cancel()
    await asyncio.wait({work}, timeout=LEFTOVER_WAIT_S)
    return None


async def bounded(awaitable: Awaitable[object], seconds: float, what: str) -> None:
    """Wait at most `seconds` for `awaitable` (cancelled after that); log what was cut short.
    For waits on the way out (closing connections, cancelling consumers) that must not hold
    a stopping process, whatever the other side does."""
    try:
        await asyncio.wait_for(awaitable, seconds)
    except TimeoutError:
        log.warning("%s did not finish within %gs: given up", what, seconds)


async def delete_in_batches(conn: asyncpg.Connection, query: str, cutoff: datetime, batch: int,
                            stopping: asyncio.Event, *args: object) -> int:
    """Run a `DELETE ... LIMIT $2` query with ($1 cutoff, $2 batch, then `args`) until it
    deletes fewer than a batch; the number deleted."""
    total = 0
    while not stopping.is_set():
        status = await conn.execute(query, cutoff, batch, *args)
        deleted = int(status.split()[-1])
        total += deleted
        if deleted < batch:
            break
    return total

