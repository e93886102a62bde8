"""Micro-batching: calls made by concurrent tasks within a few milliseconds are served by one
batch call (one 50-id API request, one multi-row upsert), and each caller gets its own result."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

I = TypeVar("I")
R = TypeVar("R")


class MicroBatcher(Generic[I, R]):
    """`run(items)` must return one result per item, in order. A batch goes out when `max_size`
    items wait or `window_s` after the first one arrived; a failure reaches every caller."""

    def __init__(self, run: Callable[[list[I]], Awaitable[list[R]]], max_size: int,
                 window_s: float = 0.005) -> None:
        self.run = run
        self.max_size = max_size
        self.window_s = window_s
        self.items: list[I] = []
        self.futures: list[asyncio.Future[R]] = []
        self.timer: asyncio.TimerHandle | None = None

    async def submit(self, item: I) -> R:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        self.items.append(item)
        self.futures.append(future)
        if len(self.items) >= self.max_size:
            self._flush()
        elif self.timer is None:
            self.timer = loop.call_later(self.window_s, self._flush)
        return await future

    def _flush(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
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
