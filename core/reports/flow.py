"""The links report as a task (`POST /links`): the flow runs the report job in a worker — its
refreshes are ordinary tasks other workers run — and keeps the report's rows in its result, from
which the API renders the XLSX or CSV. Progress ("refreshing 12/40") is the task's progress."""

import asyncio
import dataclasses
from collections import Counter
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from core.flows import StrictParams, TaskContext, flow
from core.lookups import LinkFigures
from core.reports.job import run_report
from core.reports.report import ReportRow, reason_of

FLOW = "build_link_report"
MAX_LINKS = 10_000
Url = Annotated[str, StringConstraints(max_length=4096)]


class LinkReportParams(StrictParams):
    urls: list[Url] = Field(min_length=1, max_length=MAX_LINKS,
                            description="The pasted links, one report row each, in order")
    timeout_s: float = Field(default=600.0, gt=0, le=3600,
                             description="How long the refreshes may take")
    thumbnails: bool = Field(default=True, description="Store the thumbnails that are not "
                             "stored yet (the assets worker) and link the stored copies")


@flow(FLOW, LinkReportParams, processes=1, concurrency=5, max_attempts=1, timeout_s=3900)
async def build_link_report(params: LinkReportParams, ctx: TaskContext) -> dict[str, Any]:
    """A links report: every link routed, refreshed through the queue and read back."""
    updates: list[asyncio.Task[None]] = []

    def progress(phase: str, done: int, total: int) -> None:
        updates.append(asyncio.create_task(ctx.progress.update(done, total, phase)))

    rows = await run_report(ctx.pool, ctx.settings, list(params.urls), progress=progress,
                            timeout=params.timeout_s, thumbnails=params.thumbnails)
    await asyncio.gather(*updates)
    return {"summary": summary_of(rows), "rows": [row_data(row) for row in rows]}


def summary_of(rows: list[ReportRow]) -> dict[str, Any]:
    """{"rows", "ok", "failed": {reason: count}}."""
    failed = Counter(reason_of(row.status) for row in rows if not row.ok)
    return {"rows": len(rows), "ok": sum(row.ok for row in rows),
            "failed": dict(failed.most_common())}


def row_data(row: ReportRow) -> dict[str, Any]:
    """A report row as JSON (the task's result)."""
    figures = dataclasses.asdict(row.figures) if row.figures else None
    if figures and figures["published_at"] is not None:
        figures["published_at"] = figures["published_at"].isoformat()
    return {"url": row.url, "status": row.status, "platform": row.platform, "figures": figures}


def row_of(data: dict[str, Any]) -> ReportRow:
    """The report row a task's result holds (row_data's inverse)."""
    figures = data.get("figures")
    if figures is not None:
        published = figures.get("published_at")
        figures = LinkFigures(**{**figures, "published_at":
                                 datetime.fromisoformat(published) if published else None})
    return ReportRow(url=data["url"], status=data["status"], platform=data.get("platform"),
                     figures=figures)
