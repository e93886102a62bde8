"""The sandbox Graph API: only the fields asked, real paging and error shapes, usage headers,
throttling by budget and tokens expired on demand (debug_token agrees)."""

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from sandbox.app import create_sandbox_app
from sandbox.instagram.world import MILLION_HANDLE, PRIVATE_HANDLE, build_world
from tests.sandbox.helpers import client_for

ME = "17841400000000101"
TOKEN = "sandbox-graph-token"
world = build_world(1)


@pytest.fixture
async def graph() -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(create_sandbox_app(seed=1)) as c:
        yield c


async def get(client: httpx.AsyncClient, path: str, **params: Any) -> httpx.Response:
    params.setdefault("access_token", TOKEN)
    return await client.get(f"/graph/v19.0/{path}", params=params)


async def test_business_discovery_answers_only_the_fields_asked(
        graph: httpx.AsyncClient) -> None:
    fields = (f"business_discovery.username({MILLION_HANDLE}){{followers_count,"
              "media.limit(3){like_count,timestamp}}")
    body = (await get(graph, ME, fields=fields)).json()
    assert set(body) == {"business_discovery", "id"} and body["id"] == ME  # as the real API
    found = body["business_discovery"]
    assert found["followers_count"] == 1_000_000 and set(found) == {"followers_count", "media"}
    assert [set(m) for m in found["media"]["data"]] == [{"like_count", "timestamp"}] * 3
    assert set(found["media"]["paging"]) == {"cursors"}
    after = found["media"]["paging"]["cursors"]["after"]
    more = (await get(graph, ME, fields=f"business_discovery.username({MILLION_HANDLE})"
                      f"{{media.limit(3).after({after}){{id}}}}")).json()
    ids = [m["id"] for m in more["business_discovery"]["media"]["data"]]
    assert ids == [m.graph_id for m in world.media_of(world.million(), 3, 3)]


async def test_cannot_find_user_and_unknown_ids(graph: httpx.AsyncClient) -> None:
    answer = await get(graph, ME, fields=f"business_discovery.username({PRIVATE_HANDLE}){{id}}")
    error = answer.json()["error"]
    assert answer.status_code == 400
    assert (error["code"], error["error_subcode"]) == (110, 2207013)
    assert error["error_user_title"] == "Cannot find User"
    missing = (await get(graph, "17900000000000000")).json()["error"]
    assert (missing["code"], missing["error_subcode"]) == (100, 33)


async def test_media_edge_pages_with_next_links(graph: httpx.AsyncClient) -> None:
    first = (await get(graph, f"{ME}/media", fields="id", limit="5")).json()
    second = (await graph.get(first["paging"]["next"])).json()
    ids = [m["id"] for m in first["data"] + second["data"]]
    assert ids == [m.graph_id for m in world.media_of(world.owner(), 0, 10)]


async def test_insights_shapes(graph: httpx.AsyncClient) -> None:
    post = world.media_of(world.owner(), 0, 1)[0].graph_id
    values = (await get(graph, f"{post}/insights", metric="reach,saved")).json()["data"]
    assert all("values" in m and "total_value" not in m for m in values)
    total = (await get(graph, f"{post}/insights", metric="reach",
                       metric_type="total_value")).json()["data"][0]
    assert total["total_value"]["value"] == total["values"][0]["value"]
    refused = await get(graph, f"{ME}/insights", metric="likes", period="day")
    assert refused.status_code == 400 and refused.json()["error"]["code"] == 100
    demo = (await get(graph, f"{ME}/insights", metric="follower_demographics",
                      period="lifetime", metric_type="total_value",
                      breakdown="gender")).json()["data"][0]
    results = demo["total_value"]["breakdowns"][0]["results"]
    assert {r["dimension_values"][0] for r in results} <= {"F", "M", "U"}


async def test_usage_headers_and_throttling(graph: httpx.AsyncClient) -> None:
    await graph.post("/_sandbox/instagram/graph/usage", json={"token_calls": 4})
    answers = [await get(graph, ME) for _ in range(5)]
    usage = [json.loads(a.headers["x-app-usage"])["call_count"] for a in answers[:4]]
    assert usage == [25, 50, 75, 100]
    business = json.loads(answers[0].headers["x-business-use-case-usage"])
    assert business[ME][0]["type"] == "instagram"
    throttled = answers[4]
    assert throttled.status_code == 400 and throttled.json()["error"]["code"] == 17
    regain = json.loads(throttled.headers["x-business-use-case-usage"])[ME][0]
    assert regain["estimated_time_to_regain_access"] == 60
    await graph.post("/_sandbox/instagram/graph/reset")
    assert (await get(graph, ME)).status_code == 200


async def test_expire_a_token_now(graph: httpx.AsyncClient) -> None:
    assert (await get(graph, ME)).status_code == 200
    await graph.post(f"/_sandbox/instagram/graph/tokens/{TOKEN}/expire")
    answer = await get(graph, ME)
    error = answer.json()["error"]
    assert answer.status_code == 400 and (error["code"], error["error_subcode"]) == (190, 463)
    debug = (await graph.get("/graph/debug_token", params={
        "input_token": TOKEN, "access_token": "1000000000000001|sandbox-app-secret"})).json()
    assert debug["data"]["is_valid"] is False
    await graph.delete(f"/_sandbox/instagram/graph/tokens/{TOKEN}/expire")
    assert (await get(graph, ME)).status_code == 200
