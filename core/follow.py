"""Tasks on the command line: follow one to its end with a progress bar (`beat enqueue --wait`)
and show one as aligned fields (`beat task`)."""

import asyncio
import json

from rich.console import Console
from rich.progress import BarColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as Bar

from core.queue import FINISHED, Queue, Task

POLL_SECONDS = 0.25


async def follow(queue: Queue, task: Task, console: Console) -> Task | None:
    """Poll the task until it finishes, drawing its progress; the finished task, or None when
    it is gone (pruned)."""
    columns = (TextColumn("{task.description}"), BarColumn(),
               TextColumn("{task.fields[state]}"), TimeElapsedColumn())
    with Bar(*columns, console=console) as bar:
        handle = bar.add_task(f"task {task.id} {task.flow}", total=None, state="")
        current: Task | None = task
        while current is not None:
            _draw(bar, handle, current)
            if current.status in FINISHED:
                return current
            await asyncio.sleep(POLL_SECONDS)
            current = await queue.get(task.id)
        return None


def _draw(bar: Bar, handle: object, task: Task) -> None:
    progress = task.progress
    state = task.status.value if progress is None else f"{task.status.value} {progress.line()}"
    if progress is None:
        bar.update(handle, state=state)  # type: ignore[arg-type]
    else:
        done = progress.done if progress.total is None else min(progress.done, progress.total)
        bar.update(handle, completed=done, total=progress.total, state=state)  # type: ignore[arg-type]


def task_lines(task: Task) -> list[str]:
    """One task as `field  value` lines: what it is, where it stands, how it ended."""
    fields: list[tuple[str, str]] = [
        ("task", f"{task.id} {task.flow}" + (f" ({task.platform.lower()})" if task.platform
                                             else "")),
        ("status", f"{task.status.value} (attempt {task.retry_count} of {task.max_attempts})"),
        ("progress", task.progress.line() if task.progress else "-"),
        ("params", json.dumps(task.params)),
        ("priority", str(task.priority)),
        ("created", task.created_at.isoformat(timespec="seconds")),
        ("picked", task.picked_at.isoformat(timespec="seconds") if task.picked_at else "-"),
        ("finished", task.scraped_at.isoformat(timespec="seconds") if task.scraped_at else "-"),
        ("worker", task.worker_id or "-"),
        ("key", task.idempotency_key or "-"),
        ("account", task.account_id or "-"),
        ("last_error", task.last_error or "-"),
        ("error_kind", task.error_kind or "-"),
        ("data", "-" if task.data is None else json.dumps(task.data)),
    ]
    width = max(len(name) for name, _ in fields)
    return [f"{name.ljust(width)}  {value}" for name, value in fields]
