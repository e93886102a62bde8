"""The sandbox app in-process as the X the sources call (core.http's client swapped for one
over httpx's ASGI transport), and for the flow tests a Beat: settings pointing at that sandbox
with its bearer token, the X tables emptied, a fresh TaskContext per flow call."""

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
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
from core.progress import ProgressReporter
from sandbox.app import create_sandbox_app
from sandbox.x.api import XState
from x import refresh
from x.settings import SANDBOX_BEARER

SANDBOX = "http://sandbox"


@dataclass
class Sandbox:
    app: FastAPI
    client: httpx.AsyncClient

    @property
    def x(self) -> XState:
        state: XState = self.app.state.x
        return state


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    app = create_sandbox_app(seed=1)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=SANDBOX)
    http.use_client(client)
    yield Sandbox(app, client)
    await http.close_client()


def sandbox_settings(base: Settings, **own: Any) -> Settings:
    return base.model_copy(update={"sandbox_url": SANDBOX, "platform_settings": {
        "x": {"bearer_token": SANDBOX_BEARER, **own}}})


LOG = logging.getLogger("test.x.flows")
TABLES = "x_account, x_post, profile_log, post_log, event_outbox, credential"


@dataclass
class Beat:
    pool: asyncpg.Pool
    settings: Settings

    def ctx(self) -> TaskContext:
        async def record(progress: Any) -> None:
            return None

        async def write(new: dict[str, Any]) -> bool:
            return True

        return TaskContext(task_id=1, flow="test", attempt=1, pool=self.pool, log=LOG,
                           settings=self.settings, progress=ProgressReporter(record, interval=0),
                           checkpoint=Checkpoint(None, write))


@pytest.fixture
async def beat(pool: asyncpg.Pool, settings: Settings, sandbox: Sandbox,
               tmp_path: Path) -> AsyncIterator[Beat]:
    await pool.execute(f"TRUNCATE {TABLES} RESTART IDENTITY")
    refresh._services.clear()
    tuned = sandbox_settings(settings).model_copy(update={"beat_home": tmp_path})
    yield Beat(pool, tuned)
    refresh._services.clear()
