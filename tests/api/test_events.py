"""GET /events: the outbox as a long-polled stream with cursors (consumers without RabbitMQ)."""

import asyncio
import random
import time
from collections.abc import AsyncIterator, Iterator

import asyncpg
import httpx
import pytest

from core.db import asyncpg_dsn
from core.queue import sql
from tests.conftest import fresh_database

FAR_AHEAD = "9000000000000-9000000000000"  # a cursor after every event there will be


async def finish(client: httpx.AsyncClient, pool: asyncpg.Pool, count: int) -> list[int]:
    ids = [(await client.post("/scrape_request_log/flow/noop", json={"params": {}})).json()["id"]
           for _ in range(count)]
    await pool.fetch(sql("claim_batch"), "noop", count, 30.0, "w1")
    await pool.execute(sql("ack_batch"), ids, [1] * count, ["COMPLETE"] * count,
                       [None] * count, [None] * count, [None] * count, [0.0] * count,
                       [0] * count, "w1")
    return ids


async def test_events_page_through_with_cursors(client: httpx.AsyncClient,
                                                pool: asyncpg.Pool) -> None:
    await pool.execute("TRUNCATE event_outbox")
    ids = await finish(client, pool, 3)
    page = (await client.get("/events", params={"after": 0})).json()
    assert [e["type"] for e in page["events"]] == ["task.complete"] * 3
    assert sorted(int(e["entity_key"]) for e in page["events"]) == sorted(ids)
    assert len({e["event_id"] for e in page["events"]}) == 3
    empty = (await client.get("/events", params={"after": page["next_cursor"]})).json()
    assert empty == {"events": [], "next_cursor": page["next_cursor"]}
    assert all(e["cursor"] == page["next_cursor"] for e in page["events"])  # one outbox row


async def test_a_long_poll_answers_as_soon_as_an_event_arrives(client: httpx.AsyncClient,
                                                               pool: asyncpg.Pool) -> None:
    await pool.execute("TRUNCATE event_outbox")
    cursor = (await client.get("/events")).json()["next_cursor"]

    async def later() -> None:
        await asyncio.sleep(0.3)
        await finish(client, pool, 1)

    started = time.monotonic()
    answer, _ = await asyncio.gather(
        client.get("/events", params={"after": cursor, "wait": 5}), later())
    elapsed = time.monotonic() - started
    assert [e["type"] for e in answer.json()["events"]] == ["task.complete"]
    assert 0.3 <= elapsed < 2


async def test_an_empty_long_poll_returns_after_its_wait(client: httpx.AsyncClient) -> None:
    started = time.monotonic()
    answer = await client.get("/events", params={"after": FAR_AHEAD, "wait": 0.5})
    assert answer.json() == {"events": [], "next_cursor": FAR_AHEAD}
    assert 0.5 <= time.monotonic() - started < 2


# -- Writers that commit out of order: a cursor never moves past an event still to commit --------

@pytest.fixture
async def writers(database_url: str) -> AsyncIterator[tuple[asyncpg.Connection, ...]]:
    """Two connections of their own: the slow writer A and the fast writer B."""
    slow = await asyncpg.connect(asyncpg_dsn(database_url))
    fast = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        yield slow, fast
    finally:
        await slow.close()
        await fast.close()


async def write(conn: asyncpg.Connection | asyncpg.Pool, name: str) -> None:
    await conn.execute("INSERT INTO event_outbox (type, entity_key) VALUES ('test.write', $1)",
                       name)


async def take_xid(conn: asyncpg.Connection) -> int:
    """Give the open transaction of `conn` its transaction id now."""
    return int(await conn.fetchval("SELECT pg_current_xact_id()::text"))


async def read(client: httpx.AsyncClient, cursor: str) -> tuple[list[str], str]:
    """The events (by entity key) of one page after `cursor`, and its next cursor."""
    response = await client.get("/events", params={"after": cursor})
    assert response.status_code == 200, response.text
    page = response.json()
    return [e["entity_key"] for e in page["events"]], page["next_cursor"]


async def read_until(client: httpx.AsyncClient, cursor: str, count: int) -> list[str]:
    """Events read page by page from `cursor` until `count` came or 10 s passed (a writer's
    commit reaches the reader's next page, not necessarily the one it is waiting on)."""
    seen: list[str] = []
    deadline = time.monotonic() + 10
    while len(seen) < count and time.monotonic() < deadline:
        response = await client.get("/events", params={"after": cursor, "wait": 1, "limit": 1})
        page = response.json()
        seen += [e["entity_key"] for e in page["events"]]
        cursor = page["next_cursor"]
    return seen


async def test_a_fast_writer_does_not_push_the_cursor_past_a_slow_one(
        client: httpx.AsyncClient, pool: asyncpg.Pool,
        writers: tuple[asyncpg.Connection, asyncpg.Connection]) -> None:
    """A writes first (lower id and transaction id) but commits after B."""
    await pool.execute("TRUNCATE event_outbox")
    slow, fast = writers
    transaction = slow.transaction()
    await transaction.start()
    await write(slow, "A")
    await write(fast, "B")
    first, cursor = await read(client, "0")
    assert first == []  # B waits for A: handing it out would move the cursor past A
    await transaction.commit()
    assert await read_until(client, cursor, 2) == ["A", "B"]


async def test_a_slow_writer_with_the_higher_xid_and_the_lower_id(
        client: httpx.AsyncClient, pool: asyncpg.Pool,
        writers: tuple[asyncpg.Connection, asyncpg.Connection]) -> None:
    await pool.execute("TRUNCATE event_outbox")
    slow, fast = writers
    fast_transaction, slow_transaction = fast.transaction(), slow.transaction()
    await fast_transaction.start()
    fast_xid = await take_xid(fast)
    await slow_transaction.start()
    assert await take_xid(slow) > fast_xid
    await write(slow, "A")  # the lower id
    await write(fast, "B")
    await fast_transaction.commit()
    first, cursor = await read(client, "0")
    assert "A" not in first and first in ([], ["B"])
    await slow_transaction.commit()
    assert first + await read_until(client, cursor, 2 - len(first)) == ["B", "A"]


async def test_a_slow_writer_with_the_lower_xid_and_the_higher_id(
        client: httpx.AsyncClient, pool: asyncpg.Pool,
        writers: tuple[asyncpg.Connection, asyncpg.Connection]) -> None:
    await pool.execute("TRUNCATE event_outbox")
    slow, fast = writers
    transaction = slow.transaction()
    await transaction.start()
    await take_xid(slow)
    await write(fast, "B")  # the lower id, committed at once
    await write(slow, "A")
    first, cursor = await read(client, "0")
    assert first == []  # B's transaction is younger than A's, still running
    await transaction.commit()
    assert await read_until(client, cursor, 2) == ["A", "B"]


@pytest.fixture
def other_database(template_database: str) -> Iterator[str]:
    """A second database on the same server."""
    yield from fresh_database(template_database)


async def test_a_writer_in_another_database_on_the_server_holds_back_nothing(
        client: httpx.AsyncClient, pool: asyncpg.Pool, other_database: str,
        writers: tuple[asyncpg.Connection, asyncpg.Connection]) -> None:
    """Its transaction started first and is still running, but it cannot write this
    database's rows; a writer here that started as early does hold the events back."""
    await pool.execute("TRUNCATE event_outbox")
    elsewhere = await asyncpg.connect(asyncpg_dsn(other_database))
    try:
        async with elsewhere.transaction():
            await write(elsewhere, "elsewhere")
            slow, fast = writers
            await write(fast, "B")
            assert (await read(client, "0"))[0] == ["B"]  # at once, no wait
            async with slow.transaction():
                await write(slow, "A")
                await write(fast, "C")
                assert (await read(client, "0"))[0] == ["B"]  # C waits for A
            assert await read_until(client, "0", 3) == ["B", "A", "C"]
    finally:
        await elsewhere.close()


async def test_a_rolled_back_writer_holds_back_nothing_once_it_is_gone(
        client: httpx.AsyncClient, pool: asyncpg.Pool,
        writers: tuple[asyncpg.Connection, asyncpg.Connection]) -> None:
    await pool.execute("TRUNCATE event_outbox")
    slow, fast = writers
    transaction = slow.transaction()
    await transaction.start()
    await write(slow, "A")
    await write(fast, "B")
    await transaction.rollback()
    assert await read_until(client, "0", 1) == ["B"]


async def test_pages_of_one_row_hand_out_every_event_once_in_a_stable_order(
        client: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    await pool.execute("TRUNCATE event_outbox")
    names = [f"e{i}" for i in range(25)]
    await asyncio.gather(*(write(pool, name) for name in names))
    first = await read_until(client, "0", len(names))
    assert sorted(first) == sorted(names)
    assert await read_until(client, "0", len(names)) == first


@pytest.mark.parametrize("after", [
    "abc", "1-", "-1", "1-2-3", "1.5-2", "-1-2", "1e3-1", "١-٢", "1 -2", "0x10-1",
    "9223372036854775808-1", "1-9223372036854775808", "99999999999999999999-1", "1" * 5000,
    "1000000000000000000000000000000",
])
async def test_a_cursor_it_never_handed_out_is_a_422_with_a_message(
        client: httpx.AsyncClient, after: str) -> None:
    response = await client.get("/events", params={"after": after})
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"] == ["query", "after"] and "cursor" in error["msg"]


@pytest.mark.parametrize("after", ["0", "", " 0 "])
async def test_zero_or_empty_is_the_start(client: httpx.AsyncClient, pool: asyncpg.Pool,
                                          after: str) -> None:
    await pool.execute("TRUNCATE event_outbox")
    await write(pool, "first")
    assert await read_until(client, after, 1) == ["first"]


async def test_the_largest_cursor_is_accepted(client: httpx.AsyncClient) -> None:
    top = f"{2**63 - 1}-{2**63 - 1}"
    response = await client.get("/events", params={"after": top})
    assert response.json() == {"events": [], "next_cursor": top}


async def test_a_reader_paging_while_writers_commit_out_of_order_misses_nothing(
        client: httpx.AsyncClient, pool: asyncpg.Pool, database_url: str) -> None:
    """Writers hold their transactions open for random times, so ids and transaction ids
    commit out of order; a reader pages all along and must get every event exactly once."""
    await pool.execute("TRUNCATE event_outbox")
    rng = random.Random(9)
    writers = [await asyncpg.connect(asyncpg_dsn(database_url)) for _ in range(6)]
    written: list[str] = []
    read_keys: list[str] = []
    done = asyncio.Event()

    async def writer(n: int, conn: asyncpg.Connection) -> None:
        for i in range(15):
            async with conn.transaction():
                await write(conn, f"w{n}-{i}")
                await asyncio.sleep(rng.uniform(0, 0.05))
            written.append(f"w{n}-{i}")

    async def reader() -> str:
        cursor = "0"
        while not done.is_set():
            keys, cursor = await read(client, cursor)
            read_keys.extend(keys)
        return cursor

    try:
        reading = asyncio.create_task(reader())
        await asyncio.gather(*(writer(n, conn) for n, conn in enumerate(writers)))
        done.set()
        cursor = await reading
    finally:
        for conn in writers:
            await conn.close()
    # What is left after the cursor, every one written now: a skipped event never comes.
    read_keys += await read_until(client, cursor, len(written) - len(read_keys))
    assert len(read_keys) == len(set(read_keys)) == len(written) == 90
    assert set(read_keys) == set(written)


async def test_a_task_batch_row_of_the_earlier_layout_still_reads_as_one_event_per_task(
        client: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    """Rows written before the ack stored one array per field hold a list of task objects."""
    await pool.execute("TRUNCATE event_outbox")
    task = {"id": 7, "flow": "noop", "platform": None, "status": "COMPLETE", "attempt": 1,
            "account_id": "a", "last_error": None}
    await pool.execute("INSERT INTO event_outbox (type, changes) VALUES ('task.finished', $1)",
                       {"tasks": [task, {**task, "id": 8, "status": "FAILED"}]})
    events = await read_until(client, "0", 2)
    assert events == ["7", "8"]
    page = (await client.get("/events")).json()
    assert [e["type"] for e in page["events"]] == ["task.complete", "task.failed"]
    assert page["events"][0]["changes"] == task
