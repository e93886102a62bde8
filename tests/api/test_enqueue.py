"""Enqueueing over HTTP, single and bulk: dedupe, validation, size limits; every test checks
the answer and the rows the request left."""

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest

from tests.api.support import ONE_MB, count, enqueue, error_locs, row, rows

# -- POST /scrape_request_log/flow/{flow} ------------------------------------------------------

async def test_enqueue_creates_a_pending_task_with_default_priority(
        client: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    response = await client.post("/scrape_request_log/flow/noop",
                                 json={"params": {"url": "https://example.com/a", "n": 3}})

    assert response.status_code == 201, response.text
    task = response.json()
    assert task["flow"] == "noop"
    assert task["status"] == "PENDING"
    assert task["params"] == {"url": "https://example.com/a", "n": 3}
    assert task["priority"] == 1
    assert task["retry_count"] == 0
    stored = await rows(pool)
    assert len(stored) == 1
    assert stored[0]["id"] == task["id"]
    assert stored[0]["status"] == "PENDING"
    assert stored[0]["params"] == {"url": "https://example.com/a", "n": 3}
    assert stored[0]["priority"] == 1


async def test_repeat_with_same_idempotency_key_returns_the_same_task_with_200(
        client: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    first = await client.post("/scrape_request_log/flow/noop",
                              json={"params": {"v": 1}, "idempotency_key": "profile:42"})
    again = await client.post("/scrape_request_log/flow/noop",
                              json={"params": {"v": 2}, "idempotency_key": "profile:42"})

    assert first.status_code == 201, first.text
    assert again.status_code == 200, again.text
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["params"] == {"v": 1}
    stored = await rows(pool)
    assert [(r["id"], r["idempotency_key"], r["params"]) for r in stored] == [
        (first.json()["id"], "profile:42", {"v": 1})]


async def test_unknown_flow_is_404_naming_the_flow(client: httpx.AsyncClient,
                                                   pool: asyncpg.Pool) -> None:
    response = await client.post("/scrape_request_log/flow/no_such_flow", json={"params": {}})

    assert response.status_code == 404
    assert "no_such_flow" in response.json()["detail"]
    assert await count(pool) == 0


@pytest.mark.parametrize("params, error_type", [
    ({"seconds": "abc"}, "float_parsing"),
    ({"seconds": -1}, "greater_than_equal"),
    ({}, "missing"),
], ids=["seconds-not-a-number", "seconds-negative", "seconds-missing"])
async def test_invalid_flow_params_are_422_naming_the_field(
        client: httpx.AsyncClient, pool: asyncpg.Pool, params: dict[str, Any],
        error_type: str) -> None:
    response = await client.post("/scrape_request_log/flow/sleep", json={"params": params})

    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert [(list(e["loc"]), e["type"]) for e in detail] == [(["params", "seconds"], error_type)]
    assert all(e["msg"] for e in detail)
    assert await count(pool) == 0


async def test_malformed_json_is_422_with_a_message(client: httpx.AsyncClient,
                                                    pool: asyncpg.Pool) -> None:
    response = await client.post("/scrape_request_log/flow/noop", content=b'{"params": ',
                                 headers={"content-type": "application/json"})

    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert detail[0]["type"] == "json_invalid"
    assert detail[0]["msg"]
    assert await count(pool) == 0


@pytest.mark.parametrize("body, loc", [
    ({"params": {}, "priority": "high"}, ["body", "priority"]),
    ({"params": ["a", "b"]}, ["body", "params"]),
], ids=["priority-a-string", "params-a-list"])
async def test_wrong_types_at_the_top_level_are_422(client: httpx.AsyncClient,
                                                    pool: asyncpg.Pool, body: dict[str, Any],
                                                    loc: list[str]) -> None:
    response = await client.post("/scrape_request_log/flow/noop", json=body)

    assert response.status_code == 422, response.text
    assert error_locs(response) == [loc]
    assert await count(pool) == 0


def big_body(size: int) -> bytes:
    return json.dumps({"params": {"blob": "x" * size}}).encode()


async def test_body_over_1mb_is_413(client: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    response = await client.post("/scrape_request_log/flow/noop", content=big_body(1_200_000),
                                 headers={"content-type": "application/json"})

    assert response.status_code == 413, response.text
    assert str(ONE_MB) in response.json()["detail"]
    assert await count(pool) == 0


async def test_body_just_under_1mb_is_accepted(client: httpx.AsyncClient,
                                               pool: asyncpg.Pool) -> None:
    response = await client.post("/scrape_request_log/flow/noop", content=big_body(1_000_000),
                                 headers={"content-type": "application/json"})

    assert response.status_code == 201, response.text
    assert len((await rows(pool))[0]["params"]["blob"]) == 1_000_000


async def chunked(body: bytes, chunk: int = 65_536) -> AsyncIterator[bytes]:
    for start in range(0, len(body), chunk):
        yield body[start:start + chunk]


async def test_streamed_body_over_1mb_without_content_length_is_413(
        client: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    request = client.build_request("POST", "/scrape_request_log/flow/noop",
                                   content=chunked(big_body(1_200_000)),
                                   headers={"content-type": "application/json"})
    assert "content-length" not in request.headers

    response = await client.send(request)

    assert response.status_code == 413, response.text
    assert str(ONE_MB) in response.json()["detail"]
    assert await count(pool) == 0


async def test_streamed_body_under_1mb_without_content_length_is_accepted(
        client: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    request = client.build_request("POST", "/scrape_request_log/flow/noop",
                                   content=chunked(big_body(1_000_000)),
                                   headers={"content-type": "application/json"})
    assert "content-length" not in request.headers

    response = await client.send(request)

    assert response.status_code == 201, response.text
    assert await count(pool) == 1


async def test_expires_at_in_the_past_and_account_id_are_stored(
        client: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    response = await client.post("/scrape_request_log/flow/sleep", json={
        "params": {"seconds": 1.5}, "expires_at": "2020-01-02T03:04:05Z",
        "account_id": "acme", "priority": 5})

    assert response.status_code == 201, response.text
    task = response.json()
    assert datetime.fromisoformat(task["expires_at"]) == datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert task["account_id"] == "acme"
    assert task["priority"] == 5
    assert task["status"] == "PENDING"
    stored = await row(pool, task["id"])
    assert stored["expires_at"] == datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert stored["account_id"] == "acme"
    assert stored["params"] == {"seconds": 1.5}
    assert stored["priority"] == 5
    assert stored["platform"] is None and stored["flow"] == "sleep"


# -- POST /scrape_request_log/flows (bulk) -----------------------------------------------------

async def test_bulk_enqueues_10000_tasks_in_one_call(client: httpx.AsyncClient,
                                                     pool: asyncpg.Pool) -> None:
    tasks = [{"flow": "noop", "params": {"i": i}} for i in range(10_000)]

    response = await client.post("/scrape_request_log/flows", json={"tasks": tasks})

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["created"] == 10_000 and body["existing"] == 0
    assert len(body["tasks"]) == 10_000
    assert all(t["created"] and t["status"] == "PENDING" for t in body["tasks"])
    stored = {r["id"]: r["params"]["i"] for r in
              await pool.fetch("SELECT id, params FROM scrape_request_log")}
    assert len(stored) == 10_000
    # result i belongs to tasks[i]
    assert [stored[t["id"]] for t in body["tasks"]] == list(range(10_000))


async def test_bulk_dedupes_keys_within_the_batch_and_against_active_tasks(
        client: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    old = await enqueue(client, params={"v": "old"}, idempotency_key="old")

    response = await client.post("/scrape_request_log/flows", json={"tasks": [
        {"flow": "noop", "params": {"i": 0}},
        {"flow": "noop", "params": {"i": 1}, "idempotency_key": "old"},
        {"flow": "noop", "params": {"i": 2}, "idempotency_key": "new"},
        {"flow": "noop", "params": {"i": 3}, "idempotency_key": "new"},
        {"flow": "sleep", "params": {"seconds": 0}},
    ]})

    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["created"], body["existing"]) == (3, 2)
    results = body["tasks"]
    assert [r["created"] for r in results] == [True, False, True, False, True]
    assert results[1]["id"] == old["id"]
    assert results[3]["id"] == results[2]["id"]
    assert len({results[i]["id"] for i in (0, 2, 4)} | {old["id"]}) == 4
    stored = {r["id"]: r for r in await rows(pool)}
    assert set(stored) == {old["id"], results[0]["id"], results[2]["id"], results[4]["id"]}
    assert stored[old["id"]]["params"] == {"v": "old"}
    assert stored[results[2]["id"]]["params"] == {"i": 2}
    assert stored[results[2]["id"]]["idempotency_key"] == "new"
    assert stored[results[4]["id"]]["flow"] == "sleep"


async def test_bulk_with_invalid_params_in_one_item_is_422_and_enqueues_nothing(
        client: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    tasks: list[dict[str, Any]] = [{"flow": "sleep", "params": {"seconds": i}} for i in range(5)]
    tasks[3]["params"] = {"seconds": "abc"}

    response = await client.post("/scrape_request_log/flows", json={"tasks": tasks})

    assert response.status_code == 422, response.text
    assert error_locs(response) == [["tasks[3].params", "seconds"]]
    assert await count(pool) == 0


async def test_bulk_with_unknown_flow_in_one_item_is_404_and_enqueues_nothing(
        client: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    tasks = [{"flow": "noop", "params": {}} for _ in range(4)]
    tasks[2]["flow"] = "no_such_flow"

    response = await client.post("/scrape_request_log/flows", json={"tasks": tasks})

    assert response.status_code == 404, response.text
    assert "tasks[2]" in response.json()["detail"]
    assert "no_such_flow" in response.json()["detail"]
    assert await count(pool) == 0


async def test_bulk_with_an_empty_list_is_422(client: httpx.AsyncClient,
                                              pool: asyncpg.Pool) -> None:
    response = await client.post("/scrape_request_log/flows", json={"tasks": []})

    assert response.status_code == 422, response.text
    assert error_locs(response) == [["body", "tasks"]]
    assert await count(pool) == 0


async def test_bulk_with_10001_items_is_422(client: httpx.AsyncClient,
                                            pool: asyncpg.Pool) -> None:
    tasks = [{"flow": "noop", "params": {}} for _ in range(10_001)]

    response = await client.post("/scrape_request_log/flows", json={"tasks": tasks})

    assert response.status_code == 422, response.text
    assert error_locs(response) == [["body", "tasks"]]
    assert response.json()["detail"][0]["type"] == "too_long"
    assert await count(pool) == 0

