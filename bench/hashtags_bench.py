"""`beat bench hashtags`: recording and reading the trending counts in Redis at scale. N posts
with 1-8 hashtags each, drawn Zipf-like from a vocabulary, published over the last day, are
recorded in pipelines of 500 under a prefix of their own (deleted afterwards); then the
trending windows of an hour and of a day and the 24-hour fastest-growing report are read
repeatedly."""

import asyncio
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from core.config import Settings
from core.hashtags.counts import HashtagCounts

PIPELINE = 500


def _posts(count: int, vocabulary: int, now: datetime) -> list[tuple[str, str, list[str],
                                                                      datetime]]:
    rng = random.Random(1)
    tags = [f"tag{i}" for i in range(vocabulary)]
    weights = [1 / (rank + 1) for rank in range(vocabulary)]
    return [("youtube" if n % 2 else "instagram", f"post{n}",
             list(dict.fromkeys(rng.choices(tags, weights, k=rng.randint(1, 8)))),
             now - timedelta(minutes=rng.uniform(0, 1440))) for n in range(count)]


async def _latencies(read: Callable[[], Awaitable[Any]], times: int) -> tuple[float, float]:
    """p50 and p95 in milliseconds."""
    found = []
    for _ in range(times):
        start = time.perf_counter()
        await read()
        found.append((time.perf_counter() - start) * 1000)
    found.sort()
    return round(found[len(found) // 2], 2), round(found[max(0, int(0.95 * times) - 1)], 2)


async def _bench(redis_url: str, posts: int, vocabulary: int, reads: int) -> dict[str, Any]:
    settings = Settings(redis_url=redis_url,
                        hashtags_prefix=f"beat-bench:{uuid.uuid4().hex[:8]}:tags")
    counts = HashtagCounts.from_settings(settings)
    now = datetime.now(UTC)
    generated = _posts(posts, vocabulary, now)
    try:
        start = time.perf_counter()
        for first in range(0, len(generated), PIPELINE):
            await counts.record_many(generated[first:first + PIPELINE], now)
        seconds = time.perf_counter() - start
        hour = await _latencies(lambda: counts.trending(60, 10, None, now), reads)
        day = await _latencies(lambda: counts.trending(1440, 10, None, now), reads)
        growth = await _latencies(lambda: counts.fastest_growing(24, 15, None, now), reads)
    finally:
        await counts.clear()
        await counts.aclose()
    return {"system": "beat", "posts": posts, "vocabulary": vocabulary,
            "record_posts_per_s": round(posts / seconds),
            "trending_60m_p50_ms": hour[0], "trending_60m_p95_ms": hour[1],
            "trending_1440m_p50_ms": day[0], "trending_1440m_p95_ms": day[1],
            "fastest_growing_24h_p50_ms": growth[0], "fastest_growing_24h_p95_ms": growth[1]}


def run_hashtags_bench(redis_url: str, posts: int, vocabulary: int,
                       reads: int = 50) -> dict[str, Any]:
    return asyncio.run(_bench(redis_url, posts, vocabulary, reads))
