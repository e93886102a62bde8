"""Shared fixtures: real PostgreSQL (a fresh database per test module, cloned from a migrated
template), settings pointing at it, and a queue over an asyncpg pool.

Service URLs come from DATABASE_URL / REDIS_URL / AMQP_URL, defaulting to the local services.
A service that cannot be reached fails the tests; nothing is skipped.
"""

import asyncio
import os
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any

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


# Modules that start Beat's own process stacks (servers, multi-process workers, benchmarks
# through real workers). A stack holds up to about 50 PostgreSQL connections (the link report's
# twelve worker processes) and some of these tests bound how long a stop or a recovery takes, so
# under pytest-xdist they form two units of work, run one module at a time each, beside the
# workers that share the rest. The biggest stacks are all in the first unit: at most one of
# them runs at a time, next to one of the small ones (about 20 connections at most).
# The two units take about as long (two single-worker stacks, the simulated week and the
# assets bench, make up the first's share), so that neither ends the run alone.
BIG_STACKS = ("tests/e2e/test_link_report.py", "tests/e2e/test_link_sheet.py",
              "tests/e2e/test_schemathesis.py", "tests/e2e/test_lifecycle.py",
              "tests/e2e/test_assets_s3.py", "tests/test_bench.py",
              "tests/scheduler/test_week.py", "tests/assets/test_bench.py")
SMALL_STACKS = ("tests/e2e/", "tests/test_bench_hosts.py")
# The longest of the other modules (a minute or more of running commands as processes) go out
# first, for the same reason.
LONG_MODULES = ("tests/test_cli.py", "tests/test_lint.py", "tests/platforms/test_toy_platform.py",
                "tests/test_ops_cli.py", "tests/analytics/test_leaderboard_cli.py",
                "tests/assets/test_cli.py", "tests/test_watch_cli.py")


def work_unit(nodeid: str) -> str:
    """The test's module, or the unit of service stacks it belongs to."""
    module = nodeid.partition("::")[0]
    if module.startswith(BIG_STACKS):
        return "big-stacks"
    return "small-stacks" if module.startswith(SMALL_STACKS) else module


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The service stacks first, then the long modules (the order is kept otherwise), so that
    under pytest-xdist the long units start at once instead of ending the run; and a nodeid of
    its own for every test (xdist hands tests out by nodeid)."""

    def first(item: pytest.Item) -> tuple[bool, bool]:
        unit = work_unit(item.nodeid)
        return unit not in ("big-stacks", "small-stacks"), unit not in LONG_MODULES

    items.sort(key=first)
    give_each_test_its_own_nodeid(items)


def give_each_test_its_own_nodeid(items: list[pytest.Item]) -> None:
    """pytest 9.2 builds a test's nodeid from its function and parametrize ids only, so
    schemathesis's tests (one per API operation, the operation in the test's name) share one,
    and xdist would run only one of them. Such tests get their name as the last part instead;
    any nodeid still shared stops the run rather than losing tests silently."""
    counts = Counter(item.nodeid for item in items)
    for item in items:
        if counts[item.nodeid] > 1 and hasattr(item, "_id"):
            from _pytest.nodeid import NodeId

            item._id = NodeId.parse(f"{item.nodeid.rpartition('::')[0]}::{item.name}")
    shared = [nodeid for nodeid, n in Counter(item.nodeid for item in items).items() if n > 1]
    if shared:
        raise pytest.UsageError(f"tests share a nodeid: {shared}")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadfile` (pyproject's addopts) with the service stacks as two units: a module
    stays on one worker (its database and other module-scoped fixtures are made once), and at
    most two stacks, one of them small, run at a time. xdist's own `loadgroup` would do this
    with marks, but its marks do not reach the scheduler with pytest 9.2 (pytest-xdist issue
    1386)."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class ServiceStacksApart(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    return ServiceStacksApart(config, log)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Under CI=true a skipped test is a failure: a missing service must not pass silently."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI", "").lower() == "true" and report.skipped:
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true: {report.longrepr}"
