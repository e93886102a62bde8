"""Health, queue stats, OpenAPI, the flow list, and refusing an unmigrated database."""

import uuid
from collections.abc import Iterator

import asyncpg
import httpx
import pytest

from core.api.app import create_app
from core.config import Settings
from core.db import SchemaOutOfDate
from core.queue import sql
from tests.api.support import enqueue
from tests.conftest import admin, url_for

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

async def test_head_answers_like_get_without_a_body(client: httpx.AsyncClient) -> None:
    """HEAD is what many load balancers send to a health check: it answers as GET would,
    drained or not, with the headers and no body; a route without GET still answers 405."""
    for path in ("/heartbeat", "/flows", "/queue/stats", "/events"):
        head, get = await client.head(path), await client.get(path)
        assert (head.status_code, head.content) == (200, b""), path
        assert head.headers["content-type"] == get.headers["content-type"], path
    await client.put("/heartbeat", params={"beat": "false"})
    drained = await client.head("/heartbeat")
    await client.put("/heartbeat", params={"beat": "true"})
    assert (drained.status_code, drained.content) == (503, b"")
    assert (await client.head("/scrape_request_log/flows")).status_code == 405


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
