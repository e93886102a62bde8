"""The links report over HTTP: `POST /links` starts one (a `build_link_report` task, run by the
workers), `GET /links/{id}` says how far it is, and `GET /links/{id}/report.xlsx|.csv` hands
out the report once it is done — the same report `beat links INPUT -o REPORT` writes."""

import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Response, status
from pydantic import Field

from core.api.deps import CallerDep, QueueDep
from core.progress import Progress
from core.queue import NewTask, Status, Task
from core.reports.csvfile import write_csv
from core.reports.flow import FLOW, MAX_LINKS, LinkReportParams, Url, row_of
from core.reports.xlsx import write_xlsx
from core.validation import AccountId, RowId, StrictModel

router = APIRouter(tags=["links report"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
WRITERS = {"xlsx": (write_xlsx, XLSX), "csv": (write_csv, "text/csv; charset=utf-8")}


class LinksCreate(StrictModel):
    urls: list[Url] = Field(min_length=1, max_length=MAX_LINKS,
                            description="The pasted links, one report row each, in order")
    timeout_s: float = Field(default=600.0, gt=0, le=3600)
    thumbnails: bool = Field(default=True, description="Store the thumbnails that are not "
                             "stored yet (the assets worker) and link the stored copies")
    account_id: AccountId | None = None


class LinksJob(StrictModel):
    job_id: int
    status: Status
    links: int
    progress: Progress | None = None
    summary: dict[str, Any] | None = Field(
        default=None, description='When done: {"rows", "ok", "failed": {reason: count}}')
    last_error: str | None = None


def _job(task: Task) -> LinksJob:
    data = task.data if isinstance(task.data, dict) else {}
    return LinksJob(job_id=task.id, status=task.status, links=len(task.params.get("urls", [])),
                    progress=task.progress, summary=data.get("summary"),
                    last_error=task.last_error)


async def _task(queue: QueueDep, caller: CallerDep, job_id: int) -> Task:
    task = await queue.get(job_id)
    if task is None or task.flow != FLOW:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no links report {job_id}")
    caller.check_task(task)
    return task


@router.post("/links", status_code=202, response_model=LinksJob)
async def start_report(body: LinksCreate, queue: QueueDep, caller: CallerDep) -> LinksJob:
    """Start a report of these links; poll GET /links/{job_id}."""
    caller.check_account(body.account_id)
    params = LinkReportParams(urls=body.urls, timeout_s=body.timeout_s,
                              thumbnails=body.thumbnails)
    task, _ = await queue.enqueue(NewTask(flow=FLOW, params=params.model_dump(), max_attempts=1,
                                          account_id=body.account_id, priority=50))
    return _job(task)


@router.get("/links/{job_id}", response_model=LinksJob)
async def report_status(job_id: RowId, queue: QueueDep, caller: CallerDep) -> LinksJob:
    """How far the report is: its task's status and progress, the summary once done."""
    return _job(await _task(queue, caller, job_id))


@router.get("/links/{job_id}/report.{extension}", response_class=Response,
            responses={200: {"content": {XLSX: {}, "text/csv": {}},
                             "description": "The report"},
                       409: {"description": "The report is not done"}})
async def report_file(job_id: RowId, extension: str, queue: QueueDep,
                      caller: CallerDep) -> Response:
    """The finished report as XLSX or CSV (409 while it runs, with how far it is)."""
    if extension not in WRITERS:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            detail="the report is report.xlsx or report.csv")
    task = await _task(queue, caller, job_id)
    if task.status != Status.COMPLETE or not isinstance(task.data, dict):
        where = f" ({task.progress.line()})" if task.progress else ""
        raise HTTPException(status.HTTP_409_CONFLICT,
                            detail=f"links report {job_id} is {task.status.value}{where}: "
                                   f"not ready")
    write, media_type = WRITERS[extension]
    rows = [row_of(row) for row in task.data["rows"]]
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / f"report.{extension}"
        write(rows, path)
        content = path.read_bytes()
    return Response(content, media_type=media_type, headers={
        "content-disposition": f'attachment; filename="links-{job_id}.{extension}"'})
