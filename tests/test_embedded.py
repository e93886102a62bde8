"""Tests for core.embedded: data survives restarts, Lua works, shared servers stop when the last
user leaves, and nothing touches the system PostgreSQL (5432) or Redis (6379)."""

import asyncio
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import psutil
import pytest
import redis.asyncio as aioredis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from core.embedded import EmbeddedPostgres, EmbeddedRedis, EmbeddedServices

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def postgres(tmp_path: Path) -> Iterator[EmbeddedPostgres]:
    server = EmbeddedPostgres(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis(tmp_path)
    yield server
    server.stop()


def _postmaster_pid(pgdata: Path) -> int:
    return int((pgdata / "postmaster.pid").read_text().split()[0])


def _redis_pid(server: EmbeddedRedis) -> int:
    return int(server.pidfile.read_text())


def _gone(pid: int) -> bool:
    try:
        status: str = psutil.Process(pid).status()
    except psutil.NoSuchProcess:
        return True
    return bool(status == psutil.STATUS_ZOMBIE)


async def _pg_write(dsn: str) -> str:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("CREATE TABLE jobs (id int PRIMARY KEY, name text)")
        await conn.execute("INSERT INTO jobs VALUES (1, 'first')")
        return str(await conn.fetchval("SHOW listen_addresses"))
    finally:
        await conn.close()


async def _pg_read(dsn: str) -> str:
    conn = await asyncpg.connect(dsn)
    try:
        return str(await conn.fetchval("SELECT name FROM jobs WHERE id = 1"))
    finally:
        await conn.close()


async def _sqlalchemy_read(dsn: str) -> str:
    engine = create_async_engine("postgresql+asyncpg://" + dsn.partition("://")[2])
    try:
        async with engine.connect() as conn:
            return str((await conn.execute(text("SELECT name FROM jobs"))).scalar_one())
    finally:
        await engine.dispose()


def test_postgres_rows_survive_restart(postgres: EmbeddedPostgres) -> None:
    dsn = postgres.start()
    assert dsn.startswith("postgresql://postgres@/postgres?host=/")
    assert asyncio.run(_pg_write(dsn)) == ""  # unix socket only: no TCP listener at all
    pid = _postmaster_pid(postgres.pgdata)
    postgres.stop()
    assert _gone(pid) and not (postgres.pgdata / "postmaster.pid").exists()
    assert postgres.url is None

    dsn = postgres.start()
    assert asyncio.run(_pg_read(dsn)) == "first"
    assert asyncio.run(_sqlalchemy_read(dsn)) == "first"


async def _redis_write(url: str) -> list[object]:
    client = aioredis.from_url(url)
    try:
        await client.set("greeting", "hello")
        script = "redis.call('SET', KEYS[1], ARGV[1]); return redis.call('GET', KEYS[1])"
        return [await client.eval(script, 1, "from-lua", "42"),
                (await client.config_get("port"))["port"]]
    finally:
        await client.aclose()


async def _redis_read(url: str) -> list[object]:
    client = aioredis.from_url(url)
    try:
        return [await client.get("greeting"), await client.get("from-lua")]
    finally:
        await client.aclose()


def test_redis_lua_and_keys_survive_restart(redis_server: EmbeddedRedis) -> None:
    url = redis_server.start()
    assert url.startswith("unix:///") and url.endswith("?db=0")
    assert asyncio.run(_redis_write(url)) == [b"42", "0"]  # port 0: no TCP listener
    pid = _redis_pid(redis_server)
    redis_server.stop()
    assert _gone(pid) and not redis_server.pidfile.exists()

    url = redis_server.start()
    assert asyncio.run(_redis_read(url)) == [b"hello", b"42"]


def test_server_stops_when_last_handle_is_released(tmp_path: Path) -> None:
    first, second = EmbeddedRedis(tmp_path), EmbeddedRedis(tmp_path)
    try:
        url = first.start()
        assert second.start() == url
        pid = _redis_pid(first)
        first.stop()
        assert not _gone(pid)
        second.stop()
        assert _gone(pid)
    finally:
        first.stop()
        second.stop()


def test_server_orphaned_by_a_killed_process_is_adopted_and_stopped(
        postgres: EmbeddedPostgres, tmp_path: Path) -> None:
    child_code = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from core.embedded import EmbeddedPostgres
        print(EmbeddedPostgres({str(tmp_path)!r}).start(), flush=True)
        time.sleep(60)
    """)
    child = subprocess.Popen([sys.executable, "-c", child_code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        orphan_dsn = child.stdout.readline().strip()
    finally:
        child.send_signal(signal.SIGKILL)  # no atexit: the server is left running
        child.wait()
    pid = _postmaster_pid(postgres.pgdata)
    assert not _gone(pid)

    assert postgres.start() == orphan_dsn  # attached, not a second server
    postgres.stop()
    assert _gone(pid)


def test_embedded_services_starts_only_what_is_needed(tmp_path: Path) -> None:
    with EmbeddedServices(tmp_path, need_postgres=False, need_redis=True) as services:
        assert services.database_url is None
        assert services.redis_url is not None
        assert asyncio.run(_redis_write(services.redis_url))[0] == b"42"
    assert services.redis_url is None
    assert not (tmp_path / "redis" / "redis.pid").exists()
    assert not (tmp_path / "pg").exists()

    with EmbeddedServices(tmp_path, need_postgres=True, need_redis=True) as services:
        assert services.database_url is not None and services.redis_url is not None
        asyncio.run(_pg_write(services.database_url))
        assert asyncio.run(_redis_read(services.redis_url)) == [b"hello", b"42"]
    assert services.database_url is None
    assert not (tmp_path / "pg" / "data" / "postmaster.pid").exists()
