"""What the leaderboard view reads, brought up to date before each refresh: the daily rollups
of the snapshots (`profile_daily`, `post_daily`: core/sql/leaderboards.sql) and the category
and language labels other packages give profiles (`leaderboard_label`, from each registered
package's `profile_labels` query: the GPT enrichment's answers, say)."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from core import sqlfile
from core.config import Settings
from core.platforms import load_attribute, registry

SQL = sqlfile.load(Path(__file__).parent.parent / "sql" / "leaderboards.sql")
# A snapshot's time is when its transaction began: one committed after a pass may be older
# than that pass's start by as long as a write transaction lasts. Each pass reads again the
# whole days from this long before the previous one.
OVERLAP = timedelta(hours=1)
DAYS_READ = 60  # the view looks this many days back


def first_day(rolled_until: datetime | None, today: date) -> date:
    """The first UTC day a pass reads again: the one holding the previous pass's start less
    the overlap, or the view's whole window on the first pass."""
    if rolled_until is None:
        return today - timedelta(days=DAYS_READ)
    return max((rolled_until - OVERLAP).astimezone(UTC).date(),
               today - timedelta(days=DAYS_READ))


async def roll_up(conn: Any, rebuild: bool = False) -> date:
    """Bring the daily rollups up to date (from scratch with `rebuild`: after snapshots were
    written with past times); the first day read again."""
    async with conn.transaction():
        if rebuild:
            await conn.execute("TRUNCATE profile_daily, post_daily, leaderboard_rollup")
        started: datetime = await conn.fetchval("SELECT now()")
        today = started.astimezone(UTC).date()
        since = first_day(await conn.fetchval(
            "SELECT max(rolled_until) FROM leaderboard_rollup"), today)
        await conn.execute(SQL["roll_profiles"], since)
        await conn.execute(SQL["roll_posts"], since)
        await conn.execute(SQL["forget_profile_days"], today - timedelta(days=DAYS_READ))
        await conn.execute(SQL["forget_post_days"], today - timedelta(days=DAYS_READ))
        await conn.execute("DELETE FROM leaderboard_rollup")
        await conn.execute("INSERT INTO leaderboard_rollup (rolled_until) VALUES ($1)", started)
    return since


def label_queries(settings: Settings) -> list[tuple[str, str]]:
    """(package name, its labels query) for each registered package that labels profiles."""
    return [(p.name, load_attribute(p.profile_labels, str))
            for p in registry(settings).values() if p.profile_labels]


async def sync_labels(conn: Any, settings: Settings) -> int:
    """Copy every package's labels where the view reads them (the first package by name wins
    a profile two of them label); how many profiles are labelled."""
    async with conn.transaction():
        await conn.execute("DELETE FROM leaderboard_label")
        for name, query in label_queries(settings):
            await conn.execute(
                "INSERT INTO leaderboard_label (platform, profile_id, source, category, language)"
                f" SELECT platform, profile_id, $1, category, language FROM ({query}) AS labels"
                " WHERE category IS NOT NULL OR language IS NOT NULL"
                " ON CONFLICT (platform, profile_id) DO NOTHING", name)
        labelled: int = await conn.fetchval("SELECT count(*) FROM leaderboard_label")
    return labelled
