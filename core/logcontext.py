"""Fields bound to every log line while a piece of work runs: the task a worker runs, the source
a director calls. They live in contextvars, and each asyncio task has its own copy of the
context, so concurrent tasks of one process never see each other's fields. core/logs.py merges
them into every line (with whatever structlog.contextvars binds).

Binding a task is on the queue's hot path (once per task run): one ContextVar.set, no dict."""

from contextvars import ContextVar, Token
from types import TracebackType
from typing import Any

_TASK: ContextVar[tuple[int, str, int] | None] = ContextVar("beat_task", default=None)
_SOURCE: ContextVar[str | None] = ContextVar("beat_source", default=None)


class _Bound:
    """Sets a context variable on entry and restores it on exit."""

    __slots__ = ("token", "value", "var")

    def __init__(self, var: ContextVar[Any], value: Any) -> None:
        self.var = var
        self.value = value

    def __enter__(self) -> None:
        self.token: Token[Any] = self.var.set(self.value)

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.var.reset(self.token)


def bind_task(task_id: int, flow: str, attempt: int) -> _Bound:
    """Every line logged inside (by this asyncio task and what it awaits) names the task."""
    return _Bound(_TASK, (task_id, flow, attempt))


def bind_source(source: str) -> _Bound:
    """Every line logged inside names the source being called."""
    return _Bound(_SOURCE, source)


def bound_fields() -> dict[str, Any]:
    """The fields bound here and now: task_id, flow, attempt, source (those that are)."""
    fields: dict[str, Any] = {}
    task = _TASK.get()
    if task is not None:
        fields["task_id"], fields["flow"], fields["attempt"] = task
    source = _SOURCE.get()
    if source is not None:
        fields["source"] = source
    return fields
