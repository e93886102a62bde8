"""Micro-batching: concurrent callers share one batch call and each gets its own result."""

import asyncio

import pytest

from core.batching import MicroBatcher


async def test_concurrent_calls_share_one_batch_and_get_their_own_results() -> None:
    batches: list[list[int]] = []

    async def double(items: list[int]) -> list[int]:
        batches.append(items)
        return [2 * i for i in items]

    batcher = MicroBatcher(double, max_size=50, window_s=0.01)
    results = await asyncio.gather(*(batcher.submit(i) for i in range(120)))
    assert results == [2 * i for i in range(120)]
    assert [len(b) for b in batches] == [50, 50, 20]


async def test_a_lone_call_goes_out_after_the_window() -> None:
    batcher = MicroBatcher(lambda items: asyncio.sleep(0, result=items), max_size=50,
                           window_s=0.01)
    started = asyncio.get_running_loop().time()
    assert await batcher.submit("x") == "x"
    assert asyncio.get_running_loop().time() - started >= 0.009


async def test_a_failed_batch_fails_every_caller() -> None:
    async def broken(items: list[int]) -> list[int]:
        raise RuntimeError("upstream down")

    batcher = MicroBatcher(broken, max_size=10)
    results = await asyncio.gather(*(batcher.submit(i) for i in range(3)),
                                   return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)


async def test_a_batch_answering_with_the_wrong_count_is_an_error() -> None:
    batcher = MicroBatcher(lambda items: asyncio.sleep(0, result=items[:1]), max_size=10)
    with pytest.raises(ValueError):
        await asyncio.gather(*(batcher.submit(i) for i in range(3)))


async def test_a_settling_batch_goes_out_once_its_callers_stopped_arriving() -> None:
    """Callers woken together (one of them a loop iteration late) share one batch, which goes
    out long before the window ends."""
    batches: list[list[int]] = []

    async def record(items: list[int]) -> list[int]:
        batches.append(items)
        return items

    async def late(i: int) -> int:
        await asyncio.sleep(0)
        return await batcher.submit(i)

    batcher = MicroBatcher(record, max_size=500, window_s=2.0, settle=True)
    started = asyncio.get_running_loop().time()
    results = await asyncio.gather(*(batcher.submit(i) for i in range(30)),
                                   *(late(i) for i in range(30, 40)))
    assert results == list(range(40))
    assert [len(b) for b in batches] == [40]
    assert asyncio.get_running_loop().time() - started < 0.5


async def test_a_settling_batch_still_waits_for_callers_that_keep_arriving() -> None:
    """A caller arriving every loop iteration keeps the batch open up to the window."""
    batches: list[list[int]] = []

    async def record(items: list[int]) -> list[int]:
        batches.append(items)
        return items

    async def staggered(i: int) -> int:
        for _ in range(i):
            await asyncio.sleep(0)
        return await batcher.submit(i)

    batcher = MicroBatcher(record, max_size=500, window_s=2.0, settle=True)
    assert await asyncio.gather(*(staggered(i) for i in range(10))) == list(range(10))
    assert [len(b) for b in batches] == [10]
