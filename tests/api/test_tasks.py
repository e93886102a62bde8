"""Reading, updating (cancel, requeue, priority) and listing tasks over HTTP."""

from typing import Any

import asyncpg
import httpx

from tests.api.support import count, enqueue, row

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
    # shaped like every other 422: a list of {loc, msg, type}
    [error] = response.json()["detail"]
    assert error["loc"] == ["body"] and "give an action" in error["msg"]
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

