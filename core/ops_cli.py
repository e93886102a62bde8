"""Ops commands: `beat status` (once, or live with --watch), `beat failed`, `beat requeue` and
`beat cancel` (one task by id, or every task a filter selects)."""

import json
import shutil
import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table

from core.cli_support import UserError, run_async, settings_with_database, with_queue
from core.config import Settings
from core.console import age, columns, plural
from core.errors import KeyConflict
from core.queue import Queue, Status

REASON_CHARS = 300  # of a failure's reason in the table; --json gives all of it
STATUS_COLUMNS = ("flow", "pending", "running", "failed 1h", "oldest", "done/min")
Stats = tuple[list[dict[str, Any]], list[dict[str, Any]]]


async def _stats(queue: Queue) -> Stats:
    return await queue.stats(), await queue.outbox_stats()


def status(as_json: Annotated[bool, typer.Option("--json", help="JSON lines")] = False,
           watch: Annotated[bool, typer.Option(
               "--watch", help="Redraw every --interval seconds until Ctrl-C")] = False,
           interval: Annotated[float, typer.Option(
               min=0.1, help="Seconds between redraws with --watch")] = 2.0) -> None:
    """Queue depth, age and throughput per flow (the queue_stats view), and the outbox."""
    settings = settings_with_database()
    if watch:
        if as_json:
            raise UserError("--watch draws a table: leave out --json")
        _watch(settings, interval)
        return
    rows, outbox = run_async(lambda: with_queue(settings, _stats))
    if as_json:
        for row in rows:
            print(json.dumps(row))
        return
    print("\n".join(_status_lines(rows)))
    print(outbox_line(outbox))


def _status_lines(rows: list[dict[str, Any]]) -> list[str]:
    if not rows:
        return ["queue is empty"]
    return columns(STATUS_COLUMNS, [_cells(row) for row in rows],
                   width=shutil.get_terminal_size().columns)


def _cells(row: dict[str, Any]) -> list[str]:
    return [row["flow"], str(row["pending"]), str(row["processing"]),
            str(row["failed_last_hour"]),
            age(row["oldest_pending_age_s"] if row["pending"] else None),
            str(row["completed_per_minute"])]


def outbox_line(outbox: list[dict[str, Any]]) -> str:
    """The event outbox backlog in one line: unsent and parked events, and the oldest's age."""
    by_status = {row["status"]: row for row in outbox}
    parts = [f"{plural(by_status[s]['events'], 'event')} {s.lower()} "
             f"(oldest {age(by_status[s]['oldest_age_s'])})"
             for s in ("PENDING", "PARKED") if s in by_status]
    return "outbox: " + ("; ".join(parts) if parts else "nothing unsent")


def _watch(settings: Settings, interval: float) -> None:
    """A live table on a terminal (rich Live); elsewhere (a pipe, a file) one plain snapshot per
    interval. Ctrl-C or SIGTERM ends it with exit code 0: stopping is how a watch ends."""
    console = Console()

    async def loop(queue: Queue) -> None:
        import asyncio

        if not console.is_terminal:
            while True:
                rows, outbox = await _stats(queue)
                stamp = f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC"
                print("\n".join([stamp, *_status_lines(rows), outbox_line(outbox), ""]),
                      flush=True)
                await asyncio.sleep(interval)
        with Live(console=console, auto_refresh=False, screen=False) as live:
            while True:
                live.update(_status_table(*await _stats(queue), interval), refresh=True)
                await asyncio.sleep(interval)

    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM stops it like Ctrl-C
    try:
        run_async(lambda: with_queue(settings, loop))
    except KeyboardInterrupt:
        return


def _status_table(rows: list[dict[str, Any]], outbox: list[dict[str, Any]],
                  interval: float) -> Table:
    table = Table(title=f"beat status  {time.strftime('%H:%M:%S')}  (every {interval:g}s, "
                        "Ctrl-C to stop)", caption=outbox_line(outbox), title_justify="left",
                  caption_justify="left")
    for number, name in enumerate(STATUS_COLUMNS):
        table.add_column(name, justify="left" if number == 0 else "right", no_wrap=True)
    for row in rows:
        table.add_row(*_cells(row))
    if not rows:
        table.add_row("queue is empty", *[""] * (len(STATUS_COLUMNS) - 1))
    return table


def failed(flow: Annotated[str | None, typer.Option(help="Only this flow")] = None,
           limit: Annotated[int, typer.Option(min=1, help="How many, newest first")] = 20,
           as_json: Annotated[bool, typer.Option("--json", help="JSON lines")] = False) -> None:
    """Recent FAILED and TIMEOUT tasks with their reasons, newest first."""
    settings = settings_with_database()
    rows = run_async(lambda: with_queue(settings, lambda q: q.recent_failures(flow, limit)))
    if as_json:
        for row in rows:
            print(json.dumps(row, default=str))
        return
    if not rows:
        print(f"no failed task{' of ' + flow if flow else ''}")
        return
    table = [[str(r["id"]), r["flow"], r["status"], f"{r['retry_count']}/{r['max_attempts']}",
              age(r["age_s"]), r["error_kind"] or "-"] for r in rows]
    lines = columns(("id", "flow", "status", "attempts", "ago", "kind"), table, left=3)
    print(lines[0])
    for line, row in zip(lines[1:], rows):
        print(line)
        print(f"    {_short(row['last_error'] or 'no reason recorded')}")


def _short(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= REASON_CHARS else flat[:REASON_CHARS - 3] + "..."


def requeue(task_id: Annotated[int | None, typer.Argument(
                help="One task's id (else every task the filters select)", metavar="ID")] = None,
            status: Annotated[Status, typer.Option(help="Tasks in this status")] = Status.FAILED,
            flow: Annotated[str | None, typer.Option(help="Only this flow")] = None) -> None:
    """Put finished tasks (FAILED by default) back to PENDING with all their attempts."""
    settings = settings_with_database()
    if task_id is not None:
        task = run_async(lambda: with_queue(settings, lambda q: _requeue_one(q, task_id)))
        print(f"requeued task {task_id} ({task.flow})")
        return
    if status in (Status.PENDING, Status.PROCESSING):
        raise UserError("requeue takes a finished status (FAILED, TIMEOUT, EXPIRED, ...)")
    count = run_async(lambda: with_queue(settings, lambda q: q.requeue_where(status, flow)))
    print(f"requeued {plural(count, 'task')}")


async def _requeue_one(queue: Queue, task_id: int) -> Any:
    try:
        task = await queue.requeue(task_id)
    except KeyConflict as exc:
        raise UserError(str(exc)) from None
    if task is None:
        raise UserError(await _why_not(queue, task_id, "requeue", "finished"))
    return task


def cancel(task_id: Annotated[int | None, typer.Argument(
               help="One task's id", metavar="ID")] = None,
           flow: Annotated[str | None, typer.Option(
               help="Every pending task of this flow")] = None) -> None:
    """Cancel a pending task (by id), or every pending task of a flow (--flow)."""
    if (task_id is None) == (flow is None):
        raise UserError("cancel takes a task id or --flow (one of them)")
    settings = settings_with_database()
    if flow is not None:
        count = run_async(lambda: with_queue(settings, lambda q: q.cancel_where(flow)))
        print(f"cancelled {plural(count, 'pending task')} of {flow}")
        return
    assert task_id is not None
    run_async(lambda: with_queue(settings, lambda q: _cancel_one(q, task_id)))
    print(f"cancelled task {task_id}")


async def _cancel_one(queue: Queue, task_id: int) -> None:
    if await queue.cancel(task_id) is None:
        raise UserError(await _why_not(queue, task_id, "cancel", "pending"))


async def _why_not(queue: Queue, task_id: int, action: str, needed: str) -> str:
    task = await queue.get(task_id)
    if task is None:
        return f"no task {task_id}"
    return f"cannot {action} task {task_id}: it is {task.status.value}, not {needed}"


OPS_COMMANDS: dict[str, Callable[..., None]] = {
    "status": status, "failed": failed, "requeue": requeue, "cancel": cancel}
