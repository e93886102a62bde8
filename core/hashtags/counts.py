"""Hashtag counts in Redis: per-minute and per-hour buckets (sorted sets with an expiry) per
platform and across platforms, all-time totals, and co-occurrences; windows are read as one
ZUNIONSTORE over their buckets, never by scanning posts.

Keys, all under one hash tag so that the scripts stay atomic on Redis Cluster:
    {P}:seen:<platform>:<post>  a post already counted (HASHTAGS_SEEN_DAYS)
    {P}:m:<platform>:<min>   hashtag -> posts, minute <min> since the epoch (platform `*`: all)
    {P}:h:<platform>:<hour>  the same per hour
    {P}:n:<platform>         all-time totals
    {P}:co:<hashtag>         other hashtag -> posts holding both (all platforms)
A post counts in the minute and hour it was published (first stored when the platform does not
say), and not in buckets already past their keeping time.
"""

import math
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from redis.asyncio import Redis, RedisCluster
from redis.backoff import NoBackoff
from redis.retry import Retry

from core.config import Settings

RECORD_SCRIPT = Path(__file__).with_name("record.lua").read_text()
TOP_SCRIPT = Path(__file__).with_name("top.lua").read_text()
ALL = "*"
MAX_COUNTED = 100  # distinct hashtags of one post that are counted
MAX_PAIRED = 30  # of those, the first ones whose co-occurrences are counted (pairs grow n^2)
CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}


@dataclass(frozen=True, slots=True)
class Ranked:
    hashtag: str
    count: int
    previous: int | None = None  # growth: the count in the window before


def minute_of(at: datetime) -> int:
    return math.floor(at.timestamp() / 60)


def redis_client(url: str) -> "Redis | RedisCluster":
    """A client that gives up fast when Redis is down (the caller answers 503 or retries)."""
    options: dict[str, Any] = {"socket_connect_timeout": 1.0, "socket_timeout": 5.0,
                               "retry": Retry(NoBackoff(), 1)}
    scheme, _, rest = url.partition("://")
    if scheme in CLUSTER_SCHEMES:
        return RedisCluster.from_url(f"{CLUSTER_SCHEMES[scheme]}://{rest}", **options)
    return Redis.from_url(url, **options)


class HashtagCounts:
    def __init__(self, redis: "Redis | RedisCluster", settings: Settings) -> None:
        self.redis = redis
        self.base = "{" + settings.hashtags_prefix + "}"
        self.minutes_kept = settings.hashtags_minutes_kept
        self.hours_kept = settings.hashtags_hours_kept
        self.seen_s = max(1, round(settings.hashtags_seen_days * 86400))
        self._record = redis.register_script(RECORD_SCRIPT)
        self._top = redis.register_script(TOP_SCRIPT)

    @classmethod
    def from_settings(cls, settings: Settings) -> "HashtagCounts":
        if not settings.redis_url:
            raise RuntimeError("trending hashtags need Redis: REDIS_URL is not set")
        return cls(redis_client(settings.redis_url), settings)

    async def aclose(self) -> None:
        await self.redis.aclose()

    async def clear(self) -> int:
        """Delete every key of these counts; answers how many."""
        deleted = 0
        batch: list[str] = []
        pattern = re.sub(r"([*?\[\]\\])", r"\\\1", self.base) + ":*"
        async for key in self.redis.scan_iter(match=pattern, count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                deleted += await self.redis.delete(*batch)
                batch = []
        if batch:
            deleted += await self.redis.delete(*batch)
        return deleted

    def _key(self, *parts: object) -> str:
        return ":".join([self.base, *(str(p) for p in parts)])

    async def record(self, platform: str, post: str, tags: list[str], posted: datetime,
                     now: datetime | None = None) -> bool:
        """Count a post's hashtags once: False when this post was counted already (a
        redelivered event, or a rebuild that counted it before its event came)."""
        keys, args = self._recording(platform, post, tags, posted, now or datetime.now(UTC))
        return bool(await self._record(keys=keys, args=args))

    async def record_many(self, posts: list[tuple[str, str, list[str], datetime]],
                          now: datetime | None = None) -> int:
        """`record` for many (platform, post, hashtags, posted) in one round trip; answers
        how many were counted."""
        at = now or datetime.now(UTC)
        async with self.redis.pipeline(transaction=False) as pipe:
            for platform, post, tags, posted in posts:
                keys, args = self._recording(platform, post, tags, posted, at)
                # Scripts run in pipelines (redis-py loads them first); its stubs say otherwise.
                await self._record(keys=keys, args=args, client=pipe)  # type: ignore[arg-type]
            return sum(bool(done) for done in await pipe.execute())

    def _recording(self, platform: str, post: str, tags: list[str], posted: datetime,
                   now: datetime) -> tuple[list[str], list[int | str]]:
        tags = tags[:MAX_COUNTED]
        buckets, expiries = self._buckets_of(platform, posted, now)
        totals = [self._key("n", platform), self._key("n", ALL)]
        paired = [self._key("co", tag) for tag in tags[:MAX_PAIRED]] if len(tags) > 1 else []
        keys = [self._key("seen", platform, post), *buckets, *totals, *paired]
        args: list[int | str] = [self.seen_s, len(buckets), len(totals), len(tags),
                                 *expiries, *tags]
        return keys, args

    def _buckets_of(self, platform: str, posted: datetime, now: datetime
                    ) -> tuple[list[str], list[int]]:
        minute, hour = minute_of(posted), minute_of(posted) // 60
        keys: list[str] = []
        expiries: list[int] = []
        minute_until = (minute + 1 + self.minutes_kept) * 60
        hour_until = (hour + 1 + self.hours_kept) * 3600
        for until, kind, slot in ((minute_until, "m", minute), (hour_until, "h", hour)):
            if until > now.timestamp():
                keys += [self._key(kind, platform, slot), self._key(kind, ALL, slot)]
                expiries += [until, until]
        return keys, expiries

    async def trending(self, window_minutes: int, k: int, platform: str | None,
                       now: datetime | None = None) -> list[Ranked]:
        """The k hashtags in most posts of the last `window_minutes` minutes (this one
        included), by count then name."""
        last = minute_of(now or datetime.now(UTC))
        keys = self._window_keys(platform or ALL, last - window_minutes + 1, last)
        return await self._ranked(keys, len(keys), k)

    def _window_keys(self, platform: str, first: int, last: int) -> list[str]:
        """The buckets covering minutes first..last: the hours wholly inside it as hour buckets
        (a day is 24 + at most 118 keys, not 1440), the minutes at its edges as minute buckets.
        An hour's bucket holds exactly its minutes' posts: a window is never longer than the
        minutes kept, so every post of a whole hour in it was also counted in its minute."""
        hours = range(-(-first // 60), (last + 1) // 60)
        if not hours:
            return [self._key("m", platform, m) for m in range(first, last + 1)]
        return [*(self._key("m", platform, m) for m in range(first, hours[0] * 60)),
                *(self._key("h", platform, h) for h in hours),
                *(self._key("m", platform, m) for m in range((hours[-1] + 1) * 60, last + 1))]

    async def fastest_growing(self, hours: int, limit: int, platform: str | None,
                              now: datetime | None = None) -> list[Ranked]:
        """The hashtags whose count grew most from the `hours` hours before to the last `hours`
        hours (this one included): growth, then count, then name; only those that grew."""
        last = minute_of(now or datetime.now(UTC)) // 60
        current = [self._key("h", platform or ALL, h) for h in range(last - hours + 1, last + 1)]
        before = [self._key("h", platform or ALL, h)
                  for h in range(last - 2 * hours + 1, last - hours + 1)]
        return await self._ranked(current + before, len(current), limit)

    async def _ranked(self, buckets: list[str], current: int, k: int) -> list[Ranked]:
        scratch = self._key("tmp", uuid.uuid4().hex)
        top, tied, counts = await self._top(
            keys=[scratch, scratch + ":sum", *buckets], args=[k, current, "(0"])
        order = [_text(top[i]) for i in range(0, len(top), 2)] + [_text(m) for m in tied]
        scores = {_text(top[i]): int(float(top[i + 1])) for i in range(0, len(top), 2)}
        last = int(float(top[-1])) if top else 0
        for member in order:
            scores.setdefault(member, last)  # tied with the last of the top
        members = list(dict.fromkeys(order))
        if counts:
            now_counts = dict(zip(order, (int(float(c)) for c in counts), strict=True))
            ranked = [Ranked(m, now_counts[m], now_counts[m] - scores[m]) for m in members]
            ranked.sort(key=lambda r: (-(r.count - (r.previous or 0)), -r.count, r.hashtag))
        else:
            ranked = sorted((Ranked(m, scores[m]) for m in members),
                            key=lambda r: (-r.count, r.hashtag))
        return ranked[:k]

    async def top(self, limit: int, platform: str | None) -> list[Ranked]:
        """All-time: the hashtags in most stored posts, by count then name."""
        key = self._key("n", platform or ALL)
        top: list[Any] = await self.redis.zrevrange(key, 0, limit - 1, withscores=True)
        found = {_text(m): int(s) for m, s in top}
        if len(top) == limit and limit:
            last = top[-1][1]
            tied: list[Any] = await self.redis.zrangebyscore(key, last, last)
            for member in tied:
                found.setdefault(_text(member), int(last))
        ranked = sorted((Ranked(m, c) for m, c in found.items()), key=lambda r: (-r.count,
                                                                                 r.hashtag))
        return ranked[:limit]

    async def cooccurring(self, hashtag: str, min_rate: float, limit: int
                          ) -> tuple[int, list[tuple[str, int, float]]]:
        """Posts holding `hashtag`, and the hashtags found with it in at least `min_rate` of
        them: (hashtag, posts with both, rate), by rate then name."""
        total = int(await self.redis.zscore(self._key("n", ALL), hashtag) or 0)
        if not total:
            return 0, []
        floor = max(1, math.floor(min_rate * total - 1e-9))
        pairs: list[Any] = await self.redis.zrevrangebyscore(
            self._key("co", hashtag), "+inf", floor, withscores=True)
        found = [(_text(m), int(s), int(s) / total) for m, s in pairs
                 if int(s) / total >= min_rate]
        found.sort(key=lambda f: (-f[2], f[0]))
        return total, found[:limit]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else value
