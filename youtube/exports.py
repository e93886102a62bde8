"""CSV exports of stored YouTube data, written under BEAT_HOME/exports (path in the result)."""

import asyncio
import csv
from pathlib import Path
from typing import Any

from core.flows import TaskContext

CHANNEL_COLUMNS = ("channel_id", "handle", "title", "subscribers", "views", "video_count",
                   "published_at", "country", "avg_views", "engagement_rate", "source")
VIDEO_COLUMNS = ("video_id", "channel_id", "title", "published_at", "duration_s", "views",
                 "likes", "comments", "source")
ENGAGEMENT_COLUMNS = ("video_id", "title", "published_at", "views", "likes", "comments",
                      "engagement_rate")


def engagement_row(video: dict[str, Any]) -> dict[str, Any]:
    views, likes, comments = video["views"], video["likes"], video["comments"]
    rate = None
    if views and likes is not None and comments is not None:
        rate = round(100 * (likes + comments) / views, 4)
    return {**video, "engagement_rate": rate}


async def write(ctx: TaskContext, columns: tuple[str, ...],
                rows: list[dict[str, Any]]) -> dict[str, Any]:
    path = ctx.settings.beat_home / "exports" / f"{ctx.flow}-{ctx.task_id}.csv"
    await ctx.progress.update(0, len(rows), "rows written")
    await asyncio.to_thread(_write_csv, path, columns, rows)
    await ctx.progress.update(len(rows), len(rows), "rows written")
    return {"path": str(path), "rows": len(rows)}


def _write_csv(path: Path, columns: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows({c: ("" if row.get(c) is None else row[c]) for c in columns}
                         for row in rows)
