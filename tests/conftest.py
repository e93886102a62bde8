"""Shared fixtures: real PostgreSQL (a fresh database per test module, cloned from a migrated
template), settings pointing at it, and a queue over an asyncpg pool.

Service URLs come from DATABASE_URL / REDIS_URL / AMQP_URL, defaulting to the local services.
A service that cannot be reached fails the tests; nothing is skipped.
"""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from core import db
from core.config import Settings
from core.queue import Queue

ADMIN_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
AMQP_URL = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
# A database server needs BEAT_SECRET_KEY: every process the tests start (and every Settings they
# build) gets this one unless a test says otherwise.
TEST_SECRET_KEY = os.environ.setdefault("BEAT_SECRET_KEY",
                                        "dGVzdC1rZXktZm9yLWJlYXQtdGVzdHMtMzItYnl0ZXM=")


def url_for(database: str) -> str:
    base, _, _ = db.asyncpg_dsn(ADMIN_URL).rpartition("/")
    return f"{base}/{database}"


def admin(statement: str) -> None:
    async def run() -> None:
        conn = await asyncpg.connect(db.asyncpg_dsn(ADMIN_URL))
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(run())


@pytest.fixture(scope="session")
def template_database() -> Iterator[str]:
    name = f"beat_tpl_{uuid.uuid4().hex[:8]}"
    admin(f"CREATE DATABASE {name}")
    try:
        db.migrate(url_for(name))
        yield name
    finally:
        admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def fresh_database(template: str) -> Iterator[str]:
    name = f"beat_test_{uuid.uuid4().hex[:8]}"
    admin(f"CREATE DATABASE {name} TEMPLATE {template}")
    try:
        yield url_for(name)
    finally:
        admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="module")
def database_url(template_database: str) -> Iterator[str]:
    yield from fresh_database(template_database)


@pytest.fixture(scope="module")
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, redis_url=REDIS_URL, amqp_url=AMQP_URL,
                    rate_limit_prefix=f"beat-test:{uuid.uuid4().hex[:8]}",
                    queue_lease_seconds=3, queue_poll_interval=0.5,
                    queue_maintenance_interval=0.5, worker_shutdown_grace=5)


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await db.create_pool(database_url, max_size=8)
    await pool.execute("TRUNCATE scrape_request_log RESTART IDENTITY")
    yield pool
    await pool.close()


@pytest.fixture
async def queue(pool: asyncpg.Pool) -> Queue:
    return Queue(pool)


@pytest.fixture
async def outbox(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool over an emptied event_outbox."""
    pool = await db.create_pool(database_url, max_size=4)
    await pool.execute("TRUNCATE event_outbox RESTART IDENTITY")
    yield pool
    await pool.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Under CI=true a skipped test is a failure: a missing service must not pass silently."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI", "").lower() == "true" and report.skipped:
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true: {report.longrepr}"
