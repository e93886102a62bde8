"""The ops dashboard at /dashboard: one server-rendered page whose panels refresh themselves
every few seconds (each panel is also served alone, at /dashboard/fragments/{name}), and
requeue actions (one task, or every failed task of a flow). Guarded like the API: a browser
signs in once with an API key (kept in a cookie for /dashboard only, see core.api.auth);
requeueing needs an admin key, as the task update endpoint does."""

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, quote, urlsplit

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from core.api.dashboard import charts, data, health
from core.api.dashboard.data import FlowRow
from core.api.deps import (
    AdminScope,
    CallerDep,
    EveryAccountScope,
    FlowsDep,
    QueueDep,
)
from core.errors import KeyConflict
from core.validation import RowId

FRAGMENTS = ("flows", "failures", "slow", "workers", "sources", "credentials")
DEFAULT_REFRESH_S = 5
TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).with_name("templates")),
                        autoescape=select_autoescape(["html"], default_for_string=True),
                        trim_blocks=True, lstrip_blocks=True)
TEMPLATES.filters["duration"] = data.duration
TEMPLATES.filters["ago"] = lambda moment: data.age(moment, datetime.now(UTC))


def same_origin(request: Request) -> None:
    """A state-changing request from a page of another site is refused (the cookie is SameSite
    too; this also covers browsers that ignore SameSite, and a server without API keys, where
    no cookie is needed): its Origin must be this host (as asked, or as a proxy forwarded it)."""
    origin = request.headers.get("origin")
    hosts = {request.headers.get("host"), request.headers.get("x-forwarded-host")}
    if origin and urlsplit(origin).netloc not in hosts:
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            detail="cross-site request refused: open the dashboard itself")


router = APIRouter(prefix="/dashboard", include_in_schema=False,
                   dependencies=[EveryAccountScope])
FlowFilter = Annotated[str | None, Query(max_length=200)]
Refresh = Annotated[int, Query(ge=1, le=3600)]


@router.get("", response_class=HTMLResponse)
async def page(request: Request, flows: FlowsDep, caller: CallerDep, flow: FlowFilter = None,
               refresh: Refresh = DEFAULT_REFRESH_S) -> HTMLResponse:
    context = await _context(request, FRAGMENTS, flow or None, caller.admin)
    context |= {"fragments": FRAGMENTS, "refresh": refresh, "flow_names": sorted(
        {*flows, *(row.flow for row in context["flows"])})}
    return HTMLResponse(TEMPLATES.get_template("page.html").render(context))


@router.get("/fragments/{name}", response_class=HTMLResponse)
async def fragment(name: str, request: Request, caller: CallerDep,
                   flow: FlowFilter = None) -> HTMLResponse:
    if name not in FRAGMENTS:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            detail=f"no panel {name!r}; the panels are {', '.join(FRAGMENTS)}")
    context = await _context(request, (name,), flow or None, caller.admin)
    return HTMLResponse(TEMPLATES.get_template(f"{name}.html").render(context))


@router.post("/tasks/{task_id}/requeue", dependencies=[AdminScope, Depends(same_origin)])
async def requeue_task(task_id: RowId, request: Request, queue: QueueDep) -> Response:
    try:
        task = await queue.requeue(task_id)
    except KeyConflict as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from None
    if task is None:
        current = await queue.get(task_id)
        raise HTTPException(status.HTTP_409_CONFLICT if current else status.HTTP_404_NOT_FOUND,
                            detail=f"cannot requeue task {task_id}: it is {current.status}"
                            if current else f"no task {task_id}")
    return _done(request, f"task {task_id} requeued")


@router.post("/requeue-failed", dependencies=[AdminScope, Depends(same_origin)])
async def requeue_failed(request: Request, queue: QueueDep) -> Response:
    """Every failed task (of the form's `flow`, if given) runs again."""
    flow = (await form_fields(request)).get("flow") or request.query_params.get("flow") or None
    count = await data.requeue_failed(queue, flow)
    return _done(request, f"{count} failed task{'s' if count != 1 else ''}"
                          f"{' of ' + flow if flow else ''} requeued")


async def _context(request: Request, panels: tuple[str, ...], flow: str | None,
                   admin: bool) -> dict[str, Any]:
    """What the templates of `panels` need (each panel's reads only)."""
    state = request.app.state
    pool = state.queue.pool
    context: dict[str, Any] = {"flow": flow, "admin": admin, "now_s": time.time(),
                               "refresh": DEFAULT_REFRESH_S}
    if "flows" in panels:
        context["flows"] = await data.flow_rows(pool, sorted(state.flows))
        context["timings"] = {t.flow: t for t in await data.timings(pool)}
        context["chart"] = _chart
    if "failures" in panels:
        context["failures"], context["failed_total"] = await data.failures(pool, flow)
    if "slow" in panels:
        context["slow"] = await data.slow_tasks(pool, flow)
    if "workers" in panels:
        context["workers"] = await data.workers(pool)
    if "sources" in panels or "credentials" in panels:
        credentials = await health.credentials(pool)
        context["credentials"] = credentials if admin else []
        context["sources"] = await health.sources(state.settings, pool, state.limiter,
                                                  sorted({c.source for c in credentials}))
    return context


def _chart(row: FlowRow) -> str:
    return charts.throughput(row.completed, row.failed,
                             f"{row.flow}: {row.completed_last_hour} completed, "
                             f"{sum(row.failed)} failed in the last hour")


async def form_fields(request: Request) -> dict[str, str]:
    """The fields of a urlencoded form body (the dashboard's only kind), first value each."""
    body = (await request.body()).decode("utf-8", errors="replace")
    return {name: values[0] for name, values in parse_qs(body).items()}


def _done(request: Request, message: str) -> Response:
    """The page's script gets the message; a plain form post goes back to the dashboard."""
    if request.headers.get("x-beat-dashboard"):
        return PlainTextResponse(message)
    back = request.headers.get("referer") or "/dashboard"
    path = urlsplit(back)
    target = path.path + (f"?{path.query}" if path.query else "") \
        if path.path.startswith("/dashboard") else "/dashboard"
    return RedirectResponse(quote(target, safe="/?=&%"), status.HTTP_303_SEE_OTHER)
