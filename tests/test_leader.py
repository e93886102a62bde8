"""Leader election: of two contenders for one lock only one leads at a time, and the other
takes over as soon as the leader's connection is gone."""

import asyncio
import time
from collections.abc import Awaitable, Callable

import asyncpg

from core.config import Settings
from core.leader import lead_when_elected
from core.maintenance import LEADER_LOCK, Maintenance

LOCK = 0x7465737431  # a lock of this test's own


async def test_one_leads_and_the_other_takes_over_when_it_stops(database_url: str) -> None:
    stopping = asyncio.Event()
    leading: list[str] = []

    def contender(name: str, hold: asyncio.Event) -> Callable[[asyncpg.Connection],
                                                             Awaitable[None]]:
        async def lead(conn: asyncpg.Connection) -> None:
            leading.append(name)
            await hold.wait()
        return lead

    first_hold, second_hold = asyncio.Event(), asyncio.Event()
    first = asyncio.create_task(lead_when_elected(database_url, LOCK, stopping, 0.05,
                                                  contender("first", first_hold)))
    while not leading:
        await asyncio.sleep(0.02)
    second = asyncio.create_task(lead_when_elected(database_url, LOCK, stopping, 0.05,
                                                   contender("second", second_hold)))
    await asyncio.sleep(0.3)
    assert leading == ["first"], "the second must wait while the first holds the lock"
    first_hold.set()
    await asyncio.wait_for(first, 5)
    while len(leading) < 2:
        await asyncio.sleep(0.02)
    assert leading == ["first", "second"]
    second_hold.set()
    await asyncio.wait_for(second, 5)


async def test_a_contender_that_never_wins_returns_once_stopped(database_url: str) -> None:
    holder = await asyncpg.connect(database_url)
    try:
        assert await holder.fetchval("SELECT pg_try_advisory_lock($1)", LOCK)
        stopping = asyncio.Event()

        async def lead(conn: asyncpg.Connection) -> None:
            raise AssertionError("never elected")

        waiting = asyncio.create_task(lead_when_elected(database_url, LOCK, stopping, 0.05,
                                                        lead))
        await asyncio.sleep(0.2)
        stopping.set()
        await asyncio.wait_for(waiting, 5)
    finally:
        await holder.close()


async def test_maintenance_takes_its_session_lock_over_the_session_url(database_url: str) -> None:
    """With DATABASE_SESSION_URL set, the leader's session advisory lock is taken there, never
    over DATABASE_URL (which may go through PgBouncer in transaction mode: here nothing
    listens at it at all)."""
    settings = Settings(database_url="postgresql://postgres@127.0.0.1:9/nowhere",
                        database_session_url=database_url, queue_maintenance_interval=0.05)
    maintenance = Maintenance(settings)
    running = asyncio.create_task(maintenance.run())
    conn = await asyncpg.connect(database_url)
    try:
        for _ in range(200):
            held = await conn.fetchval(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND "
                "objid = $1 AND database = (SELECT oid FROM pg_database "
                "WHERE datname = current_database())", LEADER_LOCK)
            if held or running.done():
                break
            await asyncio.sleep(0.02)
        assert held == 1 and not running.done()
    finally:
        maintenance.stop()
        await asyncio.wait_for(running, 10)
        await conn.close()


async def test_a_leader_that_falls_silent_loses_the_lock_once_idle_too_long(
        database_url: str) -> None:
    """A leader frozen or cut off the network never closes its connection: the server ends its
    session after `idle_timeout`, and the lock goes to the next contender."""
    elected = asyncio.Event()

    async def silent(conn: asyncpg.Connection) -> None:
        elected.set()
        await asyncio.sleep(60)  # never talks to the database again

    leader = asyncio.create_task(lead_when_elected(database_url, LOCK, asyncio.Event(), 0.05,
                                                   silent, idle_timeout=0.5))
    other = await asyncpg.connect(database_url)
    try:
        await asyncio.wait_for(elected.wait(), 5)
        since = time.monotonic()
        assert not await other.fetchval("SELECT pg_try_advisory_lock($1)", LOCK)
        while not await other.fetchval("SELECT pg_try_advisory_lock($1)", LOCK):
            assert time.monotonic() - since < 5, "the silent leader kept the lock"
            await asyncio.sleep(0.05)
        assert time.monotonic() - since >= 0.4, "the lock went before the leader was idle long"
    finally:
        leader.cancel()
        await asyncio.gather(leader, return_exceptions=True)
        await other.close()
