"""The flow registry: flow name -> params model, handler, platform and run settings.

Platform packages register their flows with `@flow(...)` when imported; `load_flows()` imports
every registered platform's flows module (core/platforms.py) plus the modules named in
FLOW_MODULES, and applies FLOW_OVERRIDES from the settings.
"""

import asyncio
import dataclasses
import importlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
from pydantic import BaseModel, ConfigDict, Field

from core.checkpoint import Checkpoint
from core.config import Settings
from core.platforms import registry
from core.progress import ProgressReporter
from core.validation import StrictModel

# Modules whose import registers Beat's own flows (platforms bring theirs).
BUILTIN_FLOW_MODULES: tuple[str, ...] = ("core.flows", "core.reports.flow")


@dataclass(frozen=True, slots=True)
class TaskContext:
    """What a handler may use besides its params."""

    task_id: int
    flow: str
    attempt: int
    pool: asyncpg.Pool
    log: logging.Logger
    settings: Settings
    # `await ctx.progress.update(done, total, unit)`: shown by `beat task` and the task API.
    progress: ProgressReporter = dataclasses.field(default_factory=ProgressReporter)
    # `ctx.checkpoint.state` / `await ctx.checkpoint.save(state)`: resume where an earlier
    # attempt stopped (core/checkpoint.py).
    checkpoint: Checkpoint = dataclasses.field(default_factory=Checkpoint)
    # The claim's fencing token (scrape_request_log.lease_token): it grows with every claim of
    # the task, so a handler that writes elsewhere can tell its own run from a later one.
    lease_token: int = 0


Handler = Callable[[Any, TaskContext], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Flow:
    name: str
    params_model: type[BaseModel]
    handler: Handler
    platform: str | None = None
    processes: int = 1
    concurrency: int = 5
    priority: int = 1
    max_attempts: int = 3
    timeout_s: float = 600.0
    description: str = ""

    def settings(self) -> dict[str, Any]:
        return {"name": self.name, "platform": self.platform, "processes": self.processes,
                "concurrency": self.concurrency, "priority": self.priority,
                "max_attempts": self.max_attempts, "timeout_s": self.timeout_s,
                "description": self.description,
                "params_schema": self.params_model.model_json_schema()}


class StrictParams(StrictModel):
    """Params that refuse keys the flow does not know: a misspelt key is an error at enqueue,
    not an option silently ignored. Platform flows use it; an open flow uses extra="allow"."""


_REGISTRY: dict[str, Flow] = {}


def flow(name: str, params: type[BaseModel], **settings: Any) -> Callable[[Handler], Handler]:
    """Register the decorated coroutine as the handler of flow `name`."""

    def register(handler: Handler) -> Handler:
        if name in _REGISTRY and _REGISTRY[name].handler is not handler:
            raise ValueError(f"flow {name!r} is registered twice")
        doc = (handler.__doc__ or "").strip().splitlines()
        _REGISTRY[name] = Flow(name=name, params_model=params, handler=handler,
                               description=settings.pop("description", doc[0] if doc else ""),
                               **settings)
        return handler

    return register


def load_flows(settings: Settings) -> dict[str, Flow]:
    """Import every flow module and return the registry with the configured overrides applied."""
    platform_flows = [p.flows for p in registry(settings).values() if p.flows]
    for module in (*BUILTIN_FLOW_MODULES, *platform_flows, *settings.flow_modules):
        importlib.import_module(module)
    unknown = set(settings.flow_overrides) - set(_REGISTRY)
    if unknown:
        raise ValueError(f"FLOW_OVERRIDES names unknown flows: {', '.join(sorted(unknown))}")
    flows = {}
    for name, registered in sorted(_REGISTRY.items()):
        override = settings.flow_overrides.get(name)
        changes = override.model_dump(exclude_none=True) if override else {}
        if settings.worker_process_cap is not None:
            changes["processes"] = min(changes.get("processes", registered.processes),
                                       settings.worker_process_cap)
        flows[name] = dataclasses.replace(registered, **changes)
    return flows


# -- Utility flows, used by tests, benchmarks and to check a deployment end to end -------------

class NoopParams(BaseModel):
    model_config = ConfigDict(extra="allow")


class SleepParams(StrictParams):
    seconds: float = Field(ge=0, le=3600)


@flow("noop", NoopParams, processes=2, concurrency=500, max_attempts=1, timeout_s=60)
async def noop(params: NoopParams, ctx: TaskContext) -> None:
    """Does nothing; measures the queue itself."""


@flow("sleep", SleepParams, processes=1, concurrency=50, timeout_s=3600)
async def sleep(params: SleepParams, ctx: TaskContext) -> dict[str, float]:
    """Sleeps for `seconds`; stands in for a slow scrape."""
    await asyncio.sleep(params.seconds)
    return {"slept": params.seconds}
