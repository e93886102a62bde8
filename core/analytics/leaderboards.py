"""Leaderboards: the `leaderboard` materialized view (migrations 0020, 0023) ranks every
profile snapshotted in the last 60 days by followers, engagement rate and 7-day growth, per
platform and across platforms, alone and within its category, language or both, now and 7
days before (the rank change). It reads the daily rollups (core/analytics/rollups.py), which
each refresh first brings up to date. The maintenance leader refreshes it every
LEADERBOARD_REFRESH_INTERVAL seconds, CONCURRENTLY once it holds data (the first refresh fills
the view the migration left empty); a page is one index range scan of a precomputed rank."""

import asyncio
import base64
import binascii
import contextlib
import json
import logging
import time
from dataclasses import dataclass
from typing import Any, Literal

import asyncpg

from core import db
from core.analytics.rollups import roll_up, sync_labels
from core.analytics.timeseries import number
from core.config import Settings
from core.db import DB_ERRORS
from core.platforms import registry

log = logging.getLogger(__name__)

Measure = Literal["followers", "engagement_rate", "growth"]
MEASURES: tuple[str, ...] = ("followers", "engagement_rate", "growth")
ACROSS = "ALL"  # the platform name of the cross-platform leaderboard
MAX_LIMIT = 200
REFRESH_ERRORS: tuple[type[BaseException], ...] = (*DB_ERRORS, OSError)


class BadCursor(ValueError):
    """The cursor was not given by this leaderboard."""


class NotComputed(LookupError):
    """The leaderboard has not been computed yet: the maintenance leader's first refresh (or
    `beat leaderboard --refresh`) fills it."""

    def __init__(self) -> None:
        super().__init__("the leaderboard has not been computed yet: the maintenance leader's "
                         "first refresh fills it (or run `beat leaderboard --refresh`)")


@dataclass(frozen=True, slots=True)
class Board:
    """Which leaderboard: a platform's API name (None: across platforms), the measure, and the
    category and language it is narrowed to."""

    platform: str | None
    by: str
    category: str | None = None
    language: str | None = None

    @property
    def scope(self) -> str:
        return (("p" if self.platform else "a") + ("c" if self.category else "")
                + ("l" if self.language else ""))


async def sync_platforms(conn: Any, settings: Settings) -> None:
    """Write each registered platform's audience metric where the view reads it."""
    rows = [(p.api_name, key) for p in registry(settings).values()
            if (key := p.snapshot_metric("followers")) is not None]
    async with conn.transaction():
        await conn.execute("DELETE FROM leaderboard_platform"
                           " WHERE NOT (platform = ANY($1::text[]))", [r[0] for r in rows])
        await conn.executemany(
            "INSERT INTO leaderboard_platform (platform, followers_metric) VALUES ($1, $2)"
            " ON CONFLICT (platform) DO UPDATE SET followers_metric = EXCLUDED.followers_metric",
            rows)


async def refresh(conn: Any, settings: Settings, rebuild: bool = False) -> float:
    """Bring the rollups and labels up to date, then recompute the view: CONCURRENTLY (its
    readers never wait) once it holds data, plainly the first time; the seconds it took.
    `rebuild` rolls every snapshot up again (after some were written with past times)."""
    started = time.perf_counter()
    await sync_platforms(conn, settings)
    await sync_labels(conn, settings)
    await roll_up(conn, rebuild)
    async with conn.transaction():  # now() is the moment the view was computed as of
        await conn.execute(f"SET LOCAL work_mem = '{settings.leaderboard_work_mem}'")
        populated = await conn.fetchval(
            "SELECT relispopulated FROM pg_class WHERE oid = 'leaderboard'::regclass")
        await conn.execute("REFRESH MATERIALIZED VIEW"
                           f"{' CONCURRENTLY' if populated else ''} leaderboard")
        await conn.execute("DELETE FROM leaderboard_refreshed")
        await conn.execute("INSERT INTO leaderboard_refreshed (refreshed_at) VALUES (now())")
    return time.perf_counter() - started


def encode_cursor(rank: int, platform: str, profile_id: str) -> str:
    raw = json.dumps([rank, platform, profile_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, str, str]:
    try:
        rank, platform, profile_id = json.loads(
            base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise BadCursor("cursor: not one this leaderboard gave (pass next_cursor back)") from None
    if not (isinstance(rank, int) and isinstance(platform, str)
            and isinstance(profile_id, str)):
        raise BadCursor("cursor: not one this leaderboard gave (pass next_cursor back)")
    return rank, platform, profile_id


def page_query(board: Board, after: bool) -> str:
    """The page's SELECT: its rank column in index order, from $1 platform, $2 category,
    $3 language, $4 limit and, `after` a cursor, $5 rank, $6 platform, $7 profile id."""
    if board.by not in MEASURES:
        raise ValueError(f"by: one of {', '.join(MEASURES)}")
    rank = f"{board.by}_rank_{board.scope}"
    before = f"{board.by}_before_rank_{board.scope}"
    where = [f"{rank} IS NOT NULL"]
    where += ["platform = $1"] if board.platform else ["$1::text IS NULL"]
    where += ["category = $2"] if board.category else ["$2::text IS NULL"]
    where += ["language = $3"] if board.language else ["$3::text IS NULL"]
    keys = [rank, "profile_id"] if board.platform else [rank, "platform", "profile_id"]
    if after:
        values = ["$5::bigint", "$7::text"] if board.platform else ["$5::bigint", "$6::text",
                                                                    "$7::text"]
        where.append(f"({', '.join(keys)}) > ({', '.join(values)})")
        if board.platform:
            where.append("$6::text IS NOT NULL")
    return (f"SELECT {rank} AS rank, {before} AS previous_rank, platform, profile_id, handle,"
            " category, language, followers, followers_before, growth, engagement_rate"
            f" FROM leaderboard WHERE {' AND '.join(where)}"
            f" ORDER BY {', '.join(keys)} LIMIT $4")


def item(row: Any) -> dict[str, Any]:
    previous = row["previous_rank"]
    before = row["followers_before"]
    pct = (None if row["growth"] is None or not before
           else round(100.0 * row["growth"] / before, 4))
    return {"rank": row["rank"], "previous_rank": previous,
            "rank_change": None if previous is None else previous - row["rank"],
            "platform": row["platform"], "profile_id": row["profile_id"],
            "handle": row["handle"], "category": row["category"], "language": row["language"],
            "followers": number(row["followers"]), "growth": number(row["growth"]),
            "growth_pct": pct, "engagement_rate": row["engagement_rate"]}


async def read_page(pool: Any, board: Board, limit: int = 50,
                    cursor: str | None = None) -> dict[str, Any]:
    """One page of the leaderboard, best first, and the cursor of the next (None at the end).
    `rank_change` is the previous period's rank minus this one's (up is positive)."""
    args: list[Any] = [board.platform, board.category, board.language, limit + 1]
    if cursor:
        args += list(decode_cursor(cursor))
    # Known before the view is read: its first refresh holds a lock readers would wait on.
    computed = await pool.fetchval("SELECT max(refreshed_at) FROM leaderboard_refreshed")
    if computed is None:
        raise NotComputed
    try:
        rows = await pool.fetch(page_query(board, after=bool(cursor)), *args)
    except asyncpg.ObjectNotInPrerequisiteStateError:  # emptied again (a migration)
        raise NotComputed from None
    more, rows = len(rows) > limit, rows[:limit]
    last = rows[-1] if rows else None
    return {"platform": board.platform or ACROSS, "by": board.by, "category": board.category,
            "language": board.language, "computed_at": computed,
            "items": [item(r) for r in rows],
            "next_cursor": encode_cursor(last["rank"], last["platform"], last["profile_id"])
            if more and last is not None else None}


class LeaderboardLoop:
    """The refresh as the maintenance leader runs it: every LEADERBOARD_REFRESH_INTERVAL
    seconds (0: never), in a task of its own on a connection of its own, so that the leader's
    upkeep rounds go on while it runs; a failed refresh is logged and retried at the next
    interval."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.next_at = 0.0
        self.running: asyncio.Task[None] | None = None

    @property
    def enabled(self) -> bool:
        return self.settings.leaderboard_refresh_interval > 0 and bool(
            self.settings.database_url)

    def maybe_refresh(self) -> bool:
        """Start a refresh when one is due and none runs; whether one started."""
        now = time.monotonic()
        if not self.enabled or now < self.next_at or (self.running and not self.running.done()):
            return False
        self.next_at = now + self.settings.leaderboard_refresh_interval
        self.running = asyncio.create_task(self._refresh())
        return True

    async def _refresh(self) -> None:
        assert self.settings.database_url
        try:
            conn = await asyncpg.connect(db.asyncpg_dsn(self.settings.database_url))
            try:
                seconds = await refresh(conn, self.settings)
            finally:
                await conn.close()
            log.info("leaderboard refreshed in %.1fs", seconds)
        except REFRESH_ERRORS as exc:
            log.warning("leaderboard refresh failed (%s): %s", type(exc).__name__, exc)

    async def close(self) -> None:
        if self.running is not None and not self.running.done():
            self.running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.running
