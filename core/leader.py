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
                            = None) -> None:
    """Connect (then `prepare` the connection), try to take `lock` every `interval` seconds until
    it is ours or `stopping` is set, then run `lead` on the connection that holds it. Returns
    when `lead` does; the connection, and with it the lock, goes then."""
    conn = await asyncpg.connect(asyncpg_dsn(url), timeout=CONNECT_TIMEOUT_S)
    try:
        if prepare is not None:
            await prepare(conn)
        while not stopping.is_set():
            if await conn.fetchval("SELECT pg_try_advisory_lock($1)", lock):
                await lead(conn)
                return
            await sleep_unless(stopping, interval)
    finally:
        conn.terminate()
