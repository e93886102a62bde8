"""Injected faults: latency (async), 5xx, 429 with Retry-After, truncated bodies, slow bodies;
seeded, scoped by path prefix, changeable while running."""

import asyncio
import json
import time
from collections import Counter

import httpx
import pytest
from pydantic import ValidationError

from sandbox.app import create_sandbox_app
from sandbox.faults import Faults
from tests.sandbox.helpers import KEY, client_for

N = 1000


def video_url(index: int = 0) -> str:
    return f"/youtube/v3/videos?part=id&id=v{index}&key={KEY}"


async def statuses(seed: int, faults: Faults, n: int = N) -> list[int]:
    async with client_for(create_sandbox_app(seed=seed, faults=faults)) as client:
        return [(await client.get(video_url(i % 7))).status_code for i in range(n)]


async def burst(latency_ms: float) -> tuple[float, float]:
    """How long one request takes, then 100 at once, in a sandbox adding `latency_ms`."""
    app = create_sandbox_app(seed=1, faults=Faults(latency_ms=latency_ms))
    async with client_for(app) as client:
        start = time.perf_counter()
        await client.get(video_url())
        one = time.perf_counter() - start
        start = time.perf_counter()
        responses = await asyncio.gather(*(client.get(video_url(i)) for i in range(100)))
        elapsed = time.perf_counter() - start
    assert all(r.status_code == 200 for r in responses)
    return one, elapsed


async def test_latency_is_async() -> None:
    """100 x 50 ms together add about 50 ms to what the same requests cost without latency,
    not the 5 s of one after another (measured against that cost in the same test: the
    requests' own work varies with the machine's load)."""
    one, elapsed = await burst(50)
    _, without = await burst(0)
    assert one >= 0.05 and elapsed >= 0.05
    assert elapsed - without < 2.5, (elapsed, without)


async def test_error_rate_roughly_as_set_and_seeded() -> None:
    faults = Faults(error_rate=0.1, error_status=503)
    first = await statuses(1, faults)
    share = first.count(503) / N
    assert 0.06 < share < 0.14
    assert set(first) == {200, 503}
    assert await statuses(1, faults) == first
    assert await statuses(2, faults) != first


async def test_rate_limits_carry_retry_after() -> None:
    app = create_sandbox_app(seed=1, faults=Faults(rate_limit_rate=0.2, retry_after_s=7))
    async with client_for(app) as client:
        responses = [await client.get(video_url(i % 5)) for i in range(N)]
    limited = [r for r in responses if r.status_code == 429]
    assert 0.15 < len(limited) / N < 0.25
    assert all(r.headers["retry-after"] == "7" for r in limited)
    assert limited[0].json()["error"]["errors"][0]["reason"] == "rateLimitExceeded"


async def test_malformed_bodies_are_truncated_json_with_200() -> None:
    app = create_sandbox_app(seed=1, faults=Faults(malformed_rate=0.3))
    async with client_for(app) as client:
        responses = [await client.get(video_url(i % 3)) for i in range(300)]
    broken = 0
    for response in responses:
        assert response.status_code == 200
        try:
            json.loads(response.content)
        except ValueError:
            broken += 1
    assert 0.2 < broken / 300 < 0.4


async def test_server_error_bodies_per_service() -> None:
    faults = Faults(error_rate=1.0, error_status=500, prefix="/invidious")
    async with client_for(create_sandbox_app(seed=1, faults=faults)) as client:
        invidious = await client.get("/invidious/api/v1/videos/AAAAAAAAAAA")
        assert invidious.status_code == 500
        assert set(invidious.json()) == {"error", "errorBacktrace"}
        youtube = await client.get(video_url())
        assert youtube.status_code == 200  # outside the prefix
        await client.post("/_sandbox/faults", json={"error_rate": 1.0, "error_status": 503})
        youtube = await client.get(video_url())
        assert youtube.status_code == 503
        assert youtube.json()["error"]["errors"][0]["reason"] == "backendError"


async def test_faults_change_while_running_and_are_counted() -> None:
    async with client_for(create_sandbox_app(seed=1)) as client:
        assert (await client.get(video_url())).status_code == 200
        scopes = (await client.post("/_sandbox/faults", json={
            "prefix": "/youtube/v3/videos", "error_rate": 1.0, "error_status": 502})).json()
        assert scopes["scopes"][0]["error_status"] == 502
        assert (await client.get(video_url())).status_code == 502
        assert (await client.get("/_sandbox/faults")).status_code == 200  # control: never faulted
        await client.delete("/_sandbox/faults")
        assert (await client.get(video_url())).status_code == 200
        usage = (await client.get("/_sandbox/usage")).json()
    assert usage["calls"] == {"GET /youtube/v3/videos": 3}
    assert usage["statuses"] == {"200": 2, "502": 1}
    assert usage["faults"] == {"error": 1}
    assert usage["quota"]["keys"][KEY]["used"] == 2  # an injected error costs no quota


async def test_slow_body() -> None:
    app = create_sandbox_app(seed=1, faults=Faults(slow_body_ms=100))
    async with client_for(app) as client:
        start = time.perf_counter()
        response = await client.get(video_url())
        assert time.perf_counter() - start >= 0.09
    assert response.json()["kind"] == "youtube#videoListResponse"


async def test_reset_restores_initial_faults() -> None:
    async with client_for(create_sandbox_app(seed=1, faults=Faults(latency_ms=1))) as client:
        await client.post("/_sandbox/faults", json={"prefix": "/x", "error_rate": 0.5})
        await client.post("/_sandbox/reset")
        scopes = (await client.get("/_sandbox/faults")).json()["scopes"]
    assert [s["prefix"] for s in scopes] == ["/"] and scopes[0]["latency_ms"] == 1


async def test_invalid_faults_are_refused(client: httpx.AsyncClient) -> None:
    bad = await client.post("/_sandbox/faults", json={"error_rate": 0.7, "malformed_rate": 0.5})
    assert bad.status_code == 422
    with pytest.raises(ValidationError):
        Faults(error_status=200)


async def test_statuses_by_kind_add_up() -> None:
    faults = Faults(error_rate=0.1, rate_limit_rate=0.1, malformed_rate=0.1)
    seen = Counter(await statuses(5, faults, 600))
    assert seen[200] > seen[429] > 0 and seen[503] > 0
