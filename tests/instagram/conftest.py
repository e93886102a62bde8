"""The sandbox app in-process as the platform the Instagram sources call (core.http's client
swapped for one over httpx's ASGI transport), and for the flow tests a Beat: settings pointing
at that sandbox with its credentials imported and the Instagram tables emptied, which builds a
fresh TaskContext per flow call (the checkpoint and progress live on the context)."""

import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from core import http
from core.checkpoint import Checkpoint
from core.config import Settings
from core.flows import TaskContext
from core.progress import Progress, ProgressReporter
from instagram import refresh
from instagram.settings import SANDBOX_GRAPH_TOKENS, SANDBOX_RAPIDAPI_KEYS
from instagram.startup import import_configured_credentials
from sandbox.app import create_sandbox_app
from sandbox.instagram.world import World, build_world

SANDBOX = "http://sandbox"
RAPIDAPI_URL = f"{SANDBOX}/rapidapi/instagram"
WEB_URL = f"{SANDBOX}/instagram-web"
HOST = "rocketapi-for-instagram.p.rapidapi.com"
KEY = "sandbox-rapidapi-key"


@dataclass
class Sandbox:
    app: FastAPI
    client: httpx.AsyncClient

    async def usage(self) -> dict[str, dict[str, int]]:
        body: dict[str, dict[str, int]] = (await self.client.get("/_sandbox/usage")).json()
        return body


def ticking(step: float) -> Iterator[float]:
    return (step * n for n in count())


@pytest.fixture
def world() -> World:
    return build_world(1)


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    """The sandbox at SANDBOX; the provider's clock moves a second a call, so no walk through
    pages meets its 2/s limit unless a test asks for it."""
    app = create_sandbox_app(seed=1)
    clock = ticking(1.0)
    app.state.instagram_rapidapi.clock = lambda: next(clock)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=SANDBOX)
    http.use_client(client)
    yield Sandbox(app, client)
    await http.close_client()


LOG = logging.getLogger("test.instagram.flows")
TABLES = ("instagram_account, instagram_post, instagram_comment, instagram_relationship, "
          "instagram_post_liker, instagram_post_link, profile_log, post_log, event_outbox, "
          "credential")


@dataclass
class Beat:
    pool: asyncpg.Pool
    settings: Settings
    progress: list[Progress] = field(default_factory=list)
    saved: list[dict[str, Any]] = field(default_factory=list)

    def ctx(self, state: dict[str, Any] | None = None) -> TaskContext:
        """A fresh context; `state` is a checkpoint left by an earlier attempt. Every progress
        report and checkpoint write lands in self.progress and self.saved."""
        async def record(progress: Progress) -> None:
            self.progress.append(progress)

        async def write(new: dict[str, Any]) -> bool:
            self.saved.append(new)
            return True

        return TaskContext(task_id=1, flow="test", attempt=1, pool=self.pool, log=LOG,
                           settings=self.settings,
                           progress=ProgressReporter(record, interval=0),
                           checkpoint=Checkpoint(state, write))


@pytest.fixture
async def beat(pool: asyncpg.Pool, settings: Settings, sandbox: Any,
               tmp_path: Path) -> AsyncIterator[Beat]:
    """Beat's side of the flow tests, over the `sandbox` (whose client core.http uses)."""
    await pool.execute(f"TRUNCATE {TABLES} RESTART IDENTITY")
    refresh._services.clear()  # a director per (settings, pool): none from an earlier test
    tuned = settings.model_copy(update={
        "sandbox_url": SANDBOX, "beat_home": tmp_path,
        "platform_settings": {"instagram": {"graph_tokens": list(SANDBOX_GRAPH_TOKENS),
                                            "rapidapi_keys": list(SANDBOX_RAPIDAPI_KEYS)}}})
    await import_configured_credentials(tuned, pool)
    yield Beat(pool, tuned)
    refresh._services.clear()
