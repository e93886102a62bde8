"""The sandbox app in-process as the platform the Facebook source calls (core.http's client
swapped for one over httpx's ASGI transport), and for the flow tests a Beat: settings pointing at
that sandbox with its token imported and the Facebook tables emptied."""

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from core import http
from core.checkpoint import Checkpoint
from core.config import Settings
from core.flows import TaskContext
from core.progress import ProgressReporter
from facebook import refresh
from facebook.settings import SANDBOX_GRAPH_TOKENS
from facebook.startup import import_configured_tokens
from sandbox.app import create_sandbox_app

SANDBOX = "http://sandbox"
LOG = logging.getLogger("test.facebook.flows")
TABLES = "facebook_page, facebook_post, profile_log, post_log, event_outbox, credential"


@pytest.fixture
async def sandbox() -> AsyncIterator[httpx.AsyncClient]:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_sandbox_app(seed=1)),
                               base_url=SANDBOX)
    http.use_client(client)
    yield client
    await http.close_client()


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
async def beat(pool: asyncpg.Pool, settings: Settings, sandbox: httpx.AsyncClient,
               tmp_path: Path) -> AsyncIterator[Beat]:
    await pool.execute(f"TRUNCATE {TABLES} RESTART IDENTITY")
    refresh._services.clear()
    tuned = settings.model_copy(update={
        "sandbox_url": SANDBOX, "beat_home": tmp_path,
        "platform_settings": {"facebook": {"graph_tokens": list(SANDBOX_GRAPH_TOKENS)}}})
    await import_configured_tokens(tuned, pool)
    yield Beat(pool, tuned)
    refresh._services.clear()
