"""Credential test fixtures: a Crypto over a key made for the test, an emptied credential table,
an in-process sandbox installed as the shared HTTP client, and a hand-turned clock."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from core import http
from credentials import store
from credentials.crypto import Crypto, generate_key
from sandbox.app import create_sandbox_app

SANDBOX = "http://sandbox"
START = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


class FakeClock:
    """A clock that moves only when told."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def crypto() -> Crypto:
    return Crypto([generate_key()])


@pytest.fixture
async def creds_pool(pool: asyncpg.Pool) -> asyncpg.Pool:
    """The test pool over an emptied credential table."""
    await pool.execute("TRUNCATE credential RESTART IDENTITY")
    return pool


@pytest.fixture
async def sandbox() -> AsyncIterator[httpx.AsyncClient]:
    app = create_sandbox_app(seed=1)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=SANDBOX)
    http.use_client(client)
    yield client
    await http.close_client()


async def add(pool: asyncpg.Pool, crypto: Crypto, source: str, secret: str,
              **fields: Any) -> int:
    """Insert a credential through the store, then set any other column directly."""
    info, _ = await store.upsert(pool, crypto, source, {"key": secret})
    for column, value in fields.items():
        await pool.execute(f"UPDATE credential SET {column} = $2 WHERE id = $1", info.id, value)
    return info.id
