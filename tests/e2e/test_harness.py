"""The harness itself: the TCP proxy really cuts, refuses, holds and restores connections, and the
overlap check really finds overlaps (so the reliability tests built on them can fail)."""

import asyncio
import time
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from bench.tcpproxy import TcpProxy, proxied, upstream_of
from core import db
from tests.conftest import ADMIN_URL
from tests.e2e.flows import overlapping_runs


async def test_proxy_forwards_cuts_refuses_and_restores() -> None:
    with TcpProxy(*upstream_of(ADMIN_URL)) as proxy:
        url = proxied(ADMIN_URL, proxy)
        conn = await asyncpg.connect(url, timeout=5)
        assert await conn.fetchval("SELECT 41 + 1") == 42
        assert proxy.open_connections() == 1

        assert proxy.cut() == 1
        with pytest.raises((asyncpg.InterfaceError, asyncpg.PostgresConnectionError, OSError)):
            await conn.fetchval("SELECT 1")
        with pytest.raises(ConnectionRefusedError):
            await asyncpg.connect(url, timeout=5)

        proxy.restore()
        conn = await asyncpg.connect(url, timeout=5)
        try:
            assert await conn.fetchval("SELECT 1") == 1
        finally:
            await conn.close()
        assert proxy.forwarded == 2


async def test_proxy_hold_parks_new_connections_until_restore() -> None:
    with TcpProxy(*upstream_of(ADMIN_URL)) as proxy:
        url = proxied(ADMIN_URL, proxy)
        proxy.cut("hold")
        connecting = asyncio.create_task(asyncpg.connect(url, timeout=10))
        await asyncio.sleep(0.5)
        assert not connecting.done() and proxy.forwarded == 0
        started = time.monotonic()
        await asyncio.to_thread(proxy.restore)
        conn = await connecting
        try:
            assert await conn.fetchval("SELECT 1") == 1
        finally:
            await conn.close()
        assert time.monotonic() - started < 5


def test_overlap_check_finds_overlaps_and_unfinished_runs() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)

    def row(task: int, pid: int, start: float, end: float | None) -> dict[str, object]:
        return {"task_id": task, "pid": pid, "attempt": 1,
                "started_at": t0 + timedelta(seconds=start),
                "finished_at": None if end is None else t0 + timedelta(seconds=end)}

    disjoint = [row(1, 10, 0, 1), row(1, 11, 1.5, 2), row(2, 10, 0, 5)]
    assert overlapping_runs(disjoint, {}) == []
    nested = [row(1, 10, 0, 10), row(1, 11, 2, 3), row(1, 12, 20, 21)]
    assert [bad[0] for bad in overlapping_runs(nested, {})] == [1]
    killed = [row(1, 10, 0, None), row(1, 11, 3, 4)]
    assert overlapping_runs(killed, {10: t0 + timedelta(seconds=2)}) == []
    assert len(overlapping_runs(killed, {10: t0 + timedelta(seconds=3.5)})) == 1
    unfinished = overlapping_runs(killed, {})
    assert unfinished and unfinished[0][0] == "unfinished run in a live process"


def test_proxied_url_keeps_credentials_and_database() -> None:
    proxy = TcpProxy("127.0.0.1", 5432, port=6543)
    assert proxied("postgresql://u:p@db.example:5432/beat?x=1", proxy) == \
        "postgresql://u:p@127.0.0.1:6543/beat?x=1"
    assert proxied("postgres://127.0.0.1/beat", proxy) == "postgresql://127.0.0.1:6543/beat"
    assert db.asyncpg_dsn("postgres://x/y") == "postgresql://x/y"
