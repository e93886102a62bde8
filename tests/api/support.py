"""Fixtures and helpers of the HTTP API tests: a fresh app (lifespan included, so it owns its
pool) over an emptied scrape_request_log, reached through httpx's ASGI transport."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from core.api.app import create_app
from core.config import Settings

ONE_MB = 1_048_576
# -- Fixtures and helpers ----------------------------------------------------------------------

@pytest.fixture
async def app(settings: Settings, pool: asyncpg.Pool) -> AsyncIterator[FastAPI]:
    """A started app; depending on `pool` empties scrape_request_log first."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


ADMIN_KEY = "admin-key-for-tests"
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


@asynccontextmanager
async def admin_client(settings: Settings, **changes: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A started app for `settings` (with `changes` and an admin key), and a client that sends
    the admin key, through httpx's ASGI transport."""
    tuned = settings.model_copy(update={"beat_admin_keys": [SecretStr(ADMIN_KEY)], **changes})
    app = create_app(tuned)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://beat",
                                     headers=ADMIN) as client:
            yield client


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    # raise_app_exceptions=False: an unhandled error is seen as the 500 a real client would get.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://beat") as client:
        yield client


async def rows(pool: asyncpg.Pool) -> list[dict[str, Any]]:
    return [dict(r) for r in await pool.fetch("SELECT * FROM scrape_request_log ORDER BY id")]


async def row(pool: asyncpg.Pool, task_id: int) -> dict[str, Any]:
    record = await pool.fetchrow("SELECT * FROM scrape_request_log WHERE id = $1", task_id)
    assert record is not None, f"no row {task_id}"
    return dict(record)


async def count(pool: asyncpg.Pool) -> int:
    return await pool.fetchval("SELECT count(*) FROM scrape_request_log")


async def enqueue(client: httpx.AsyncClient, flow: str = "noop", **body: Any) -> dict[str, Any]:
    response = await client.post(f"/scrape_request_log/flow/{flow}", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def error_locs(response: httpx.Response) -> list[list[Any]]:
    return [list(error["loc"]) for error in response.json()["detail"]]

