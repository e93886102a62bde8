"""What became of the refreshes the scheduler enqueued (watch_item_state): each tick first reads
the outcome of every task it tracks that is over, then tracks the tasks it enqueues.

- COMPLETE: the item was refreshed then. For a collection (a playlist, a hashtag: no stored row
  of its own) that moment is its freshness; any backoff ends.
- FAILED or TIMEOUT (the queue's own retries spent, or a permanent error): one more failure in a
  row. The item's next attempt waits SCHEDULER_BACKOFF_S x 2^(failures before), PERMANENT_FACTOR
  times that for a permanent kind (not found, private, bad params, not authorised), at most
  SCHEDULER_BACKOFF_MAX_S, counted from the tick that saw it: a deleted video or a private
  account stops taking budget every tick, and is still tried now and then.
- EXPIRED, CANCELLED, or a task no longer stored: nothing is learnt of the item.

What was learnt of an item no watchlist holds any more is forgotten (added again, it starts
afresh)."""

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from core import sqlfile
from core.config import Settings
from core.errors import Permanent
from core.scheduler.plan import Candidate

PERMANENT_FACTOR = 4.0
SQL = Path(__file__).parents[1] / "sql" / "scheduler.sql"


def sql(name: str) -> str:
    return sqlfile.load(SQL)[name]


def permanent_kinds() -> list[str]:
    """The error kinds that retrying will not fix (core/errors.py)."""
    found, todo = [], [Permanent]
    while todo:
        kind = todo.pop()
        found.append(kind.kind)
        todo += kind.__subclasses__()
    return sorted(set(found))


async def record(pool: Any, settings: Settings, now: datetime) -> Counter[str]:
    """Read the outcomes of the tracked tasks that are over (how many of each status), and
    forget the items no watchlist holds any more."""
    rows = await pool.fetch(sql("record_outcomes"), now, settings.scheduler_backoff_s,
                            settings.scheduler_backoff_max_s, permanent_kinds(),
                            PERMANENT_FACTOR)
    await pool.execute(sql("forget_unwatched"))
    return Counter(row["status"] for row in rows)


async def track(pool: Any, chosen: Sequence[Candidate], task_ids: Sequence[int]) -> None:
    """Remember the task refreshing each chosen item (new, or the active one it shares)."""
    if not chosen:
        return
    items = [c.item for c in chosen]
    await pool.execute(sql("track_tasks"), [i.platform for i in items],
                       [i.kind for i in items], [i.id for i in items], list(task_ids))
