"""Micro-batching: calls made by concurrent tasks within a few milliseconds are served by one
batch call (one 50-id API request, one multi-row upsert), and each caller gets its own result."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

I = TypeVar("I")
R = TypeVar("R")


SETTLE_TICKS = 2  # loop iterations without a new item after which a settling batch goes out


class MicroBatcher(Generic[I, R]):
    """`run(items)` must return one result per item, in order. A batch goes out when `max_size`
    items wait or `window_s` after the first one arrived; a failure reaches every caller.

    With `settle`, a batch also goes out as soon as the event loop has gone `SETTLE_TICKS`
    iterations without a new item: callers woken together (the tasks of one claimed batch, the
    videos of one API answer) arrive within an iteration or two, so waiting out the rest of
    the window only delays them. For calls that cost quota per batch keep it off: there a
    straggler a few milliseconds late is worth waiting for.
    """

    def __init__(self, run: Callable[[list[I]], Awaitable[list[R]]], max_size: int,
                 window_s: float = 0.005, settle: bool = False) -> None:
        self.run = run
        self.max_size = max_size
        self.window_s = window_s
        self.settle = settle
        self.items: list[I] = []
        self.futures: list[asyncio.Future[R]] = []
        self.timer: asyncio.TimerHandle | None = None
        self.settle_check: asyncio.Handle | None = None

    async def submit(self, item: I) -> R:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        self.items.append(item)
        self.futures.append(future)
        if len(self.items) >= self.max_size:
            self._flush()
        elif self.timer is None:
            self.timer = loop.call_later(self.window_s, self._flush)
            if self.settle:
                self.settle_check = loop.call_soon(self._check_settled, len(self.items), 1)
        return await future

    def _check_settled(self, seen: int, quiet_ticks: int) -> None:
        """Flush once the batch stopped growing for SETTLE_TICKS iterations, else look again."""
        self.settle_check = None
        if not self.items:
            return
        if len(self.items) == seen and quiet_ticks >= SETTLE_TICKS:
            self._flush()
            return
        quiet = quiet_ticks + 1 if len(self.items) == seen else 1
        self.settle_check = asyncio.get_running_loop().call_soon(
            self._check_settled, len(self.items), quiet)

    def _flush(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.settle_check is not None:
            self.settle_check.cancel()
            self.settle_check = None
        items, futures = self.items, self.futures
        self.items, self.futures = [], []
        if items:
            asyncio.get_running_loop().create_task(self._serve(items, futures))

    async def _serve(self, items: list[I], futures: list[asyncio.Future[R]]) -> None:
        try:
            results = await self.run(items)
            if len(results) != len(items):
                raise ValueError(f"batch of {len(items)} answered with {len(results)} results")
        except Exception as exc:  # noqa: BLE001 - every caller gets the failure
            for future in futures:
                if not future.done():
                    future.set_exception(exc)
            return
        for future, result in zip(futures, results):
            if not future.done():
                future.set_result(result)
