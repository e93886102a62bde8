"""The HTTP API as a specification, run in-process against real PostgreSQL.

Every test starts a fresh app (lifespan included, so the app owns its pool) over an emptied
scrape_request_log, talks to it through httpx's ASGI transport, and checks both the HTTP answer
and the rows the request left in the database.
"""

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from core.api.app import create_app
from core.config import Settings
from core.db import SchemaOutOfDate
from core.queue import sql
from tests.conftest import admin, url_for

ONE_MB = 1_048_576


# -- Fixtures and helpers ----------------------------------------------------------------------

@pytest.fixture
async def app(settings: Settings, pool: asyncpg.Pool) -> AsyncIterator[FastAPI]:
    """A started app; depending on `pool` empties scrape_request_log first."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    # raise_app_exceptions=False: an unhandled error is seen as the 500 a real client would get.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://beat") as client:
        yield client


async def rows(pool: asyncpg.Pool) -> list[dict[str, Any]]:
    return [dict(r) for r in await pool.fetch("SELECT * FROM scrape_request_log ORDER BY id")]


async def row(pool: asyncpg.Pool, task_id: int) -> dict[str, Any]:
    record = await pool.fetchrow("SELECT * FROM scrape_request_log WHERE id = $1", task_id)
    assert record is not None, f"no row {task_id}"
    return dict(record)


async def count(pool: asyncpg.Pool) -> int:
    return await pool.fetchval("SELECT count(*) FROM scrape_request_log")


async def enqueue(client: httpx.AsyncClient, flow: str = "noop", **body: Any) -> dict[str, Any]:
    response = await client.post(f"/scrape_request_log/flow/{flow}", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def error_locs(response: httpx.Response) -> list[list[Any]]:
    return [list(error["loc"]) for error in response.json()["detail"]]


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


# -- GET /scrape_request_log/flow/{id} ---------------------------------------------------------

async def test_get_task_returns_the_stored_task(client: httpx.AsyncClient,
                                                pool: asyncpg.Pool) -> None:
    created = await enqueue(client, "sleep", params={"seconds": 2}, account_id="acme")

    response = await client.get(f"/scrape_request_log/flow/{created['id']}")

    assert response.status_code == 200, response.text
    assert response.json() == created
    stored = await row(pool, created["id"])
    assert response.json()["status"] == stored["status"] == "PENDING"
    assert response.json()["params"] == stored["params"] == {"seconds": 2}


async def test_get_unknown_task_is_404(client: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    response = await client.get("/scrape_request_log/flow/987654")

    assert response.status_code == 404
    assert "987654" in response.json()["detail"]
    assert await pool.fetchval("SELECT count(*) FROM scrape_request_log WHERE id = 987654") == 0


# -- POST /scrape_request_log/flow/update/{id} -------------------------------------------------

async def update(client: httpx.AsyncClient, task_id: int, body: dict[str, Any]) -> httpx.Response:
    return await client.post(f"/scrape_request_log/flow/update/{task_id}", json=body)


async def test_cancel_a_pending_task(client: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    task = await enqueue(client)

    response = await update(client, task["id"], {"action": "cancel"})

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "CANCELLED"
    stored = await row(pool, task["id"])
    assert stored["status"] == "CANCELLED"
    assert stored["scraped_at"] is not None


async def test_cancel_twice_is_409_with_a_message(client: httpx.AsyncClient,
                                                  pool: asyncpg.Pool) -> None:
    task = await enqueue(client)
    assert (await update(client, task["id"], {"action": "cancel"})).status_code == 200
    before = await row(pool, task["id"])

    response = await update(client, task["id"], {"action": "cancel"})

    assert response.status_code == 409, response.text
    detail = response.json()["detail"]
    assert "cancel" in detail and str(task["id"]) in detail and "CANCELLED" in detail
    assert await row(pool, task["id"]) == before


async def test_requeue_a_cancelled_task_runs_it_again_from_scratch(
        client: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    task = await enqueue(client)
    assert (await update(client, task["id"], {"action": "cancel"})).status_code == 200
    # as if it had been tried twice before
    await pool.execute("UPDATE scrape_request_log SET retry_count = 2, last_error = 'boom' "
                       "WHERE id = $1", task["id"])

    response = await update(client, task["id"], {"action": "requeue"})

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "PENDING"
    assert response.json()["retry_count"] == 0
    stored = await row(pool, task["id"])
    assert (stored["status"], stored["retry_count"]) == ("PENDING", 0)
    assert stored["last_error"] is None and stored["scraped_at"] is None


async def test_requeue_a_pending_task_is_409(client: httpx.AsyncClient,
                                             pool: asyncpg.Pool) -> None:
    task = await enqueue(client)

    response = await update(client, task["id"], {"action": "requeue"})

    assert response.status_code == 409, response.text
    assert "PENDING" in response.json()["detail"]
    assert (await row(pool, task["id"]))["status"] == "PENDING"


async def test_set_priority(client: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    task = await enqueue(client)

    response = await update(client, task["id"], {"priority": 7})

    assert response.status_code == 200, response.text
    assert response.json()["priority"] == 7
    assert response.json()["status"] == "PENDING"
    stored = await row(pool, task["id"])
    assert (stored["priority"], stored["status"]) == (7, "PENDING")


async def test_update_with_an_empty_body_is_422(client: httpx.AsyncClient,
                                                pool: asyncpg.Pool) -> None:
    task = await enqueue(client)
    before = await row(pool, task["id"])

    response = await update(client, task["id"], {})

    assert response.status_code == 422, response.text
    assert "action" in response.json()["detail"]
    assert await row(pool, task["id"]) == before


async def test_update_unknown_task_is_404(client: httpx.AsyncClient,
                                          pool: asyncpg.Pool) -> None:
    response = await update(client, 987654, {"action": "cancel"})

    assert response.status_code == 404, response.text
    assert "987654" in response.json()["detail"]
    assert await count(pool) == 0


async def test_a_refused_update_changes_nothing(client: httpx.AsyncClient,
                                                pool: asyncpg.Pool) -> None:
    """Cancel + priority on a task that is already cancelled: 409, and the priority stays."""
    task = await enqueue(client)
    assert (await update(client, task["id"], {"action": "cancel"})).status_code == 200
    before = await row(pool, task["id"])

    response = await update(client, task["id"], {"action": "cancel", "priority": 9})

    assert response.status_code == 409, response.text
    assert await row(pool, task["id"]) == before


async def test_requeue_when_another_active_task_holds_the_key_is_409(
        client: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    first = await enqueue(client, params={"v": 1}, idempotency_key="k")
    assert (await update(client, first["id"], {"action": "cancel"})).status_code == 200
    second = await enqueue(client, params={"v": 2}, idempotency_key="k")
    assert second["id"] != first["id"]

    response = await update(client, first["id"], {"action": "requeue"})

    assert response.status_code == 409, response.text
    assert isinstance(response.json()["detail"], str) and response.json()["detail"]
    assert (await row(pool, first["id"]))["status"] == "CANCELLED"
    assert (await row(pool, second["id"]))["status"] == "PENDING"


# -- GET /list_scrape_data/{account_id} --------------------------------------------------------

async def test_list_pages_through_one_accounts_tasks_newest_first(
        client: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    # 250 tasks of acme interleaved with 60 of another account
    tasks = [{"flow": "noop", "params": {"i": i},
              "account_id": "other" if i % 5 == 4 and i < 300 else "acme"} for i in range(310)]
    response = await client.post("/scrape_request_log/flows", json={"tasks": tasks})
    assert response.status_code == 201, response.text
    acme_ids = [r["id"] for r in await pool.fetch(
        "SELECT id FROM scrape_request_log WHERE account_id = 'acme' ORDER BY id DESC")]
    assert len(acme_ids) == 250
    assert await count(pool) == 310

    first = await client.get("/list_scrape_data/acme", params={"limit": 100})
    assert first.status_code == 200, first.text
    page = first.json()
    assert [t["id"] for t in page["items"]] == acme_ids[:100]
    assert page["next_cursor"] == acme_ids[99]

    seen = [t["id"] for t in page["items"]]
    sizes = [len(page["items"])]
    while page["next_cursor"] is not None:
        response = await client.get("/list_scrape_data/acme",
                                    params={"limit": 100, "cursor": page["next_cursor"]})
        assert response.status_code == 200, response.text
        page = response.json()
        assert all(t["account_id"] == "acme" for t in page["items"])
        seen += [t["id"] for t in page["items"]]
        sizes.append(len(page["items"]))
        assert len(sizes) < 10, "cursor never ends"

    assert sizes == [100, 100, 50]
    assert seen == acme_ids  # exactly the 250, newest first, no duplicates


async def test_list_of_an_account_without_tasks_is_empty(client: httpx.AsyncClient,
                                                         pool: asyncpg.Pool) -> None:
    await enqueue(client, account_id="acme")

    response = await client.get("/list_scrape_data/nobody")

    assert response.status_code == 200, response.text
    assert response.json() == {"items": [], "next_cursor": None}
    assert await count(pool) == 1


# -- Health ------------------------------------------------------------------------------------

async def test_heartbeat_drains_and_comes_back(client: httpx.AsyncClient) -> None:
    response = await client.get("/heartbeat")
    assert (response.status_code, response.json()) == (200, {"beat": True})

    response = await client.put("/heartbeat", params={"beat": "false"})
    assert (response.status_code, response.json()) == (200, {"beat": False})
    response = await client.get("/heartbeat")
    assert (response.status_code, response.json()) == (503, {"beat": False})

    response = await client.put("/heartbeat", params={"beat": "true"})
    assert (response.status_code, response.json()) == (200, {"beat": True})
    response = await client.get("/heartbeat")
    assert (response.status_code, response.json()) == (200, {"beat": True})


# -- Ops ---------------------------------------------------------------------------------------

async def test_queue_stats_counts_pending_and_processing_per_flow(
        client: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    for i in range(5):
        await enqueue(client, params={"i": i})
    for _ in range(2):
        await enqueue(client, "sleep", params={"seconds": 1})
    claimed = await pool.fetch(sql("claim_batch"), "noop", 3, 30.0, "w1")
    assert len(claimed) == 3

    response = await client.get("/queue/stats")

    assert response.status_code == 200, response.text
    stats = {s["flow"]: s for s in response.json()}
    assert set(stats) == {"noop", "sleep"}
    assert (stats["noop"]["pending"], stats["noop"]["processing"]) == (2, 3)
    assert (stats["sleep"]["pending"], stats["sleep"]["processing"]) == (2, 0)
    in_db = {(r["flow"], r["status"]): r["n"] for r in await pool.fetch(
        "SELECT flow, status, count(*) AS n FROM scrape_request_log GROUP BY flow, status")}
    assert in_db == {("noop", "PENDING"): 2, ("noop", "PROCESSING"): 3, ("sleep", "PENDING"): 2}


async def test_openapi_lists_every_endpoint(client: httpx.AsyncClient) -> None:
    response = await client.get("/openapi.json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    expected = {
        "/scrape_request_log/flow/{flow}": {"post"},
        "/scrape_request_log/flows": {"post"},
        "/scrape_request_log/flow/{task_id}": {"get"},
        "/scrape_request_log/flow/update/{task_id}": {"post"},
        "/list_scrape_data/{account_id}": {"get"},
        "/heartbeat": {"get", "put"},
        "/queue/stats": {"get"},
        "/flows": {"get"},
    }
    for path, methods in expected.items():
        assert path in paths, path
        assert methods <= set(paths[path]), (path, set(paths[path]))


async def test_flows_lists_the_builtin_flows_with_their_settings(
        client: httpx.AsyncClient) -> None:
    response = await client.get("/flows")

    assert response.status_code == 200
    flows = {f["name"]: f for f in response.json()}
    assert {"noop", "sleep"} <= set(flows)
    assert (flows["noop"]["processes"], flows["noop"]["concurrency"]) == (2, 500)
    assert (flows["sleep"]["processes"], flows["sleep"]["concurrency"]) == (1, 50)
    assert flows["sleep"]["params_schema"]["required"] == ["seconds"]


# -- Start-up ----------------------------------------------------------------------------------

@pytest.fixture
def empty_database_url() -> Iterator[str]:
    name = f"beat_empty_{uuid.uuid4().hex[:8]}"
    admin(f"CREATE DATABASE {name}")
    try:
        yield url_for(name)
    finally:
        admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


async def test_app_refuses_to_start_on_an_unmigrated_database(settings: Settings,
                                                              empty_database_url: str) -> None:
    app = create_app(settings.model_copy(update={"database_url": empty_database_url}))

    with pytest.raises(SchemaOutOfDate, match=r"at nothing.*run `beat migrate`"):
        async with app.router.lifespan_context(app):
            pytest.fail("the app started on an unmigrated database")
    assert not hasattr(app.state, "queue")
