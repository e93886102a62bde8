"""Fields bound to every log line while a piece of work runs (structlog contextvars): the task a
worker runs, the source a director calls. Each asyncio task has its own copy of the context, so
concurrent tasks of one process never see each other's fields. core/logs.py renders them."""

from collections.abc import Iterator
from contextlib import contextmanager

import structlog


@contextmanager
def bind_task(task_id: int, flow: str, attempt: int) -> Iterator[None]:
    """Every line logged inside (by this asyncio task and what it awaits) names the task."""
    with structlog.contextvars.bound_contextvars(task_id=task_id, flow=flow, attempt=attempt):
        yield


@contextmanager
def bind_source(source: str) -> Iterator[None]:
    """Every line logged inside names the source being called."""
    with structlog.contextvars.bound_contextvars(source=source):
        yield
