"""Recount every stored post's hashtags into empty counts (`beat trending --rebuild`): for
posts stored before the listener ran, or a Redis that lost its data. Posts are marked as they
are counted, so an event still on its way for one of them does not count it twice; counts the
listener makes while the old ones are being deleted are lost, so rebuild when few posts
arrive."""

from datetime import datetime

import asyncpg

from core.hashtags.counts import HashtagCounts
from core.hashtags.extract import hashtags
from core.posttext import PostText

BATCH = 500  # posts recorded per round trip


def every_post_query(text: PostText) -> str:
    return (f"SELECT p.{text.key} AS key, {text.text_sql()} AS text, {text.time_sql()} AS posted"
            f" FROM {text.table} AS p")


async def rebuild(pool: asyncpg.Pool, counts: HashtagCounts, texts: dict[str, PostText],
                  now: datetime | None = None) -> int:
    """Delete the counts, then count every stored post of these platforms; answers the posts
    that hold a hashtag."""
    await counts.clear()
    counted = 0
    for platform, text in sorted(texts.items()):
        async with pool.acquire() as conn, conn.transaction():
            pending: list[tuple[str, str, list[str], datetime]] = []
            async for row in conn.cursor(every_post_query(text), prefetch=BATCH):
                found = hashtags(row["text"])
                if found:
                    pending.append((platform, row["key"], found, row["posted"]))
                if len(pending) >= BATCH:
                    counted += await counts.record_many(pending, now)
                    pending = []
            counted += await counts.record_many(pending, now)
    return counted
