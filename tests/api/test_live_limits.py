"""The live profile endpoints refresh within the seed's limits (1/s per handle, 60/min and
20,000/day across all), answering 429 with Retry-After past them; stored data stays free."""

import uuid

import httpx
import pytest
from fastapi import FastAPI

from core.api.app import create_app
from core.config import Settings


@pytest.fixture
async def tight(settings: Settings) -> FastAPI:
    """The app with a global live-refresh limit of 3 a minute (own counters), to reach it."""
    return create_app(settings.model_copy(update={"live_refresh_limits": ["global:3/min"],
                                                  "rate_limit_prefix": uuid.uuid4().hex}))


async def test_a_second_refresh_of_one_handle_within_a_second_is_429(
        client: httpx.AsyncClient) -> None:
    first = await client.get("/profiles/YOUTUBE/byhandle/somebody", params={"wait": 0})
    assert first.status_code == 202
    again = await client.get("/profiles/YOUTUBE/byhandle/somebody", params={"wait": 0})
    assert again.status_code == 429 and again.headers["retry-after"] == "1"
    assert "live:target:youtube:@somebody:1/1s" in again.json()["detail"]
    other = await client.get("/profiles/YOUTUBE/byhandle/someone-else", params={"wait": 0})
    assert other.status_code == 202, "the limit is per handle"


async def test_the_global_limit_refuses_without_burning_the_handle_budget(
        tight: FastAPI, pool: object) -> None:
    async with tight.router.lifespan_context(tight), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=tight), base_url="http://beat") as client:
        for name in ("one", "two", "three"):
            answer = await client.get(f"/profiles/YOUTUBE/byhandle/{name}", params={"wait": 0})
            assert answer.status_code == 202, (name, answer.text)
        refused = await client.get("/profiles/YOUTUBE/byhandle/four", params={"wait": 0})
        assert refused.status_code == 429 and "live:global:3/60s" in refused.json()["detail"]
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        stats = (await client.get("/queue/stats")).json()
    assert sum(row["pending"] for row in stats) == 3, "a refused refresh enqueues nothing"


async def test_a_callers_task_cannot_take_the_key_of_a_live_refresh(
        client: httpx.AsyncClient) -> None:
    squat = await client.post("/scrape_request_log/flow/sleep", json={
        "params": {"seconds": 60}, "idempotency_key": "beat:yt:post:dQw4w9WgXcQ"})
    assert squat.status_code == 422 and "Beat's own" in squat.text
    bulk = await client.post("/scrape_request_log/flows", json={"tasks": [
        {"flow": "sleep", "params": {"seconds": 1}, "idempotency_key": "beat:x"}]})
    assert bulk.status_code == 422 and "Beat's own" in bulk.text
    # The key the refresh used to have is an ordinary caller key now: it holds nothing back.
    old_form = await client.post("/scrape_request_log/flow/sleep", json={
        "params": {"seconds": 60}, "idempotency_key": "yt:post:dQw4w9WgXcQ"})
    assert old_form.status_code == 201
    live = await client.get("/posts/YOUTUBE/byshortcode/dQw4w9WgXcQ", params={"wait": 0})
    assert live.status_code == 202
    refresh = await client.get(f"/scrape_request_log/flow/{live.json()['task_id']}")
    assert refresh.json()["flow"] == "refresh_yt_posts"
    assert refresh.json()["idempotency_key"] == "beat:yt:post:dQw4w9WgXcQ"
