"""GET /events: the outbox as a long-polled stream with cursors (consumers without RabbitMQ)."""

import asyncio
import time

import asyncpg
import httpx

from core.queue import sql


async def finish(client: httpx.AsyncClient, pool: asyncpg.Pool, count: int) -> list[int]:
    ids = [(await client.post("/scrape_request_log/flow/noop", json={"params": {}})).json()["id"]
           for _ in range(count)]
    await pool.fetch(sql("claim_batch"), "noop", count, 30.0, "w1")
    await pool.execute(sql("ack_batch"), ids, [1] * count, ["COMPLETE"] * count,
                       [None] * count, [None] * count, [0.0] * count, [0] * count, "w1")
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
    answer = await client.get("/events", params={"after": 10**9, "wait": 0.5})
    assert answer.json() == {"events": [], "next_cursor": 10**9}
    assert 0.5 <= time.monotonic() - started < 2
