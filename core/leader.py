"""Leader election across hosts: one session-level PostgreSQL advisory lock per job, held by
the connection that won it, so a leader whose connection drops loses the lock to the next host."""

import asyncio
from collections.abc import Awaitable, Callable

import asyncpg

from core.db import asyncpg_dsn
from core.process import sleep_unless

CONNECT_TIMEOUT_S = 10.0


async def lead_when_elected(url: str, lock: int, stopping: asyncio.Event, interval: float,
                            lead: Callable[[asyncpg.Connection], Awaitable[None]],
                            prepare: Callable[[asyncpg.Connection], Awaitable[None]] | None
                            = None, idle_timeout: float | None = None) -> None:
    """Connect (then `prepare` the connection), try to take `lock` every `interval` seconds until
    it is ours or `stopping` is set, then run `lead` on the connection that holds it. Returns
    when `lead` does; the connection, and with it the lock, goes then.

    With `idle_timeout`, the server itself ends the session once it has been idle that long
    (PostgreSQL 14+), so a leader that falls silent loses the lock even when no TCP error ever
    reaches the server: a host cut off the network leaves its session open until keepalives
    fail, which takes hours with the usual defaults. `lead` must then talk to the database at
    least that often."""
    conn = await asyncpg.connect(asyncpg_dsn(url), timeout=CONNECT_TIMEOUT_S)
    try:
        if idle_timeout is not None and conn.get_server_version().major >= 14:
            await conn.execute(f"SET idle_session_timeout = {max(1, round(idle_timeout * 1000))}")
        if prepare is not None:
            await prepare(conn)
        while not stopping.is_set():
            if await conn.fetchval("SELECT pg_try_advisory_lock($1)", lock):
                await lead(conn)
                return
            await sleep_unless(stopping, interval)
    finally:
        conn.terminate()
