"""API keys and quota units: list 1, search 100, quotaExceeded, keyInvalid, Pacific reset."""

from datetime import UTC, datetime, timedelta

import httpx

from sandbox.app import create_sandbox_app
from sandbox.quota import QuotaBook
from tests.sandbox.helpers import KEY, client_for, data_api


def reason(response: httpx.Response) -> str:
    return str(response.json()["error"]["errors"][0]["reason"])


async def used(client: httpx.AsyncClient, key: str = KEY) -> int:
    usage = (await client.get("/_sandbox/usage")).json()
    return int(usage["quota"]["keys"][key]["used"])


async def test_default_keys_and_costs(client: httpx.AsyncClient) -> None:
    quota = (await client.get("/_sandbox/usage")).json()["quota"]["keys"]
    assert quota == {k: {"limit": 10000, "used": 0, "remaining": 10000, "throttle_s": 0.0}
                     for k in ("sandbox-key-1", "sandbox-key-2")}
    for method in ("channels", "videos", "playlistItems", "commentThreads"):
        await data_api(client, method, part="id", id="x")  # invalid or empty: still 1 unit
    assert await used(client) == 4
    await data_api(client, "search", part="snippet", q="review")
    assert await used(client) == 104
    assert await used(client, "sandbox-key-2") == 0


async def test_quota_exceeded_after_the_limit() -> None:
    async with client_for(create_sandbox_app(seed=1, keys={"small": 150})) as client:
        assert (await data_api(client, "search", part="id", key="small")).status_code == 200
        second = await data_api(client, "search", part="id", key="small")
        assert second.status_code == 403 and reason(second) == "quotaExceeded"
        for _ in range(50):
            ok = await data_api(client, "videos", part="id", id="x", key="small")
            assert ok.status_code == 200
        spent = await data_api(client, "videos", part="id", id="x", key="small")
        assert spent.status_code == 403 and reason(spent) == "quotaExceeded"
        assert await used(client, "small") == 150


async def test_unknown_and_missing_keys() -> None:
    async with client_for(create_sandbox_app(seed=1)) as client:
        unknown = await data_api(client, "videos", part="id", id="x", key="AIza-wrong")
        assert unknown.status_code == 400 and reason(unknown) == "keyInvalid"
        missing = await client.get("/youtube/v3/videos", params={"part": "id", "id": "x"})
        assert missing.status_code == 400 and reason(missing) == "keyInvalid"
        assert await used(client) == 0


async def test_quota_control(client: httpx.AsyncClient) -> None:
    await data_api(client, "search", part="id")
    snap = (await client.post("/_sandbox/quota", json={"key": KEY, "limit": 120})).json()
    assert snap["keys"][KEY] == {"limit": 120, "used": 100, "remaining": 20, "throttle_s": 0.0}
    assert (await data_api(client, "search", part="id")).status_code == 403
    snap = (await client.post("/_sandbox/quota", json={"reset": True})).json()
    assert snap["keys"][KEY]["used"] == 0
    assert (await data_api(client, "search", part="id")).status_code == 200
    snap = (await client.post("/_sandbox/quota", json={"key": "extra", "limit": 3})).json()
    assert snap["keys"]["extra"] == {"limit": 3, "used": 0, "remaining": 3, "throttle_s": 0.0}
    assert (await data_api(client, "videos", part="id", id="x", key="extra")).status_code == 200
    (await client.post("/_sandbox/quota", json={"key": KEY, "used": 120}))
    assert (await data_api(client, "videos", part="id", id="x")).status_code == 403
    await client.post("/_sandbox/reset")
    assert await used(client) == 0


async def test_quota_resets_at_midnight_pacific() -> None:
    now = [datetime(2025, 6, 2, 6, 59, tzinfo=UTC)]  # 23:59 PDT on June 1st
    book = QuotaBook({"k": 100}, clock=lambda: now[0])
    assert book.resets_at() == datetime(2025, 6, 2, 7, 0, tzinfo=UTC)
    async with client_for(create_sandbox_app(seed=1, keys={"k": 100},
                                             clock=lambda: now[0])) as client:
        assert (await data_api(client, "search", part="id", key="k")).status_code == 200
        assert (await data_api(client, "videos", part="id", id="x", key="k")).status_code == 403
        now[0] += timedelta(minutes=2)  # 00:01 PDT: a new quota day
        assert (await data_api(client, "videos", part="id", id="x", key="k")).status_code == 200
        assert await used(client, "k") == 1
    winter = QuotaBook({"k": 1}, clock=lambda: datetime(2025, 1, 10, 12, tzinfo=UTC))
    assert winter.resets_at() == datetime(2025, 1, 11, 8, 0, tzinfo=UTC)  # PST is UTC-8


async def test_a_throttled_key_answers_429_with_retry_after_and_costs_nothing(
        client: httpx.AsyncClient) -> None:
    await client.post("/_sandbox/quota", json={"key": KEY, "throttle_s": 7})
    answer = await client.get("/youtube/v3/videos", params={"id": "x", "part": "id", "key": KEY})
    assert answer.status_code == 429 and answer.headers["retry-after"] == "7"
    assert answer.json()["error"]["errors"][0]["reason"] == "rateLimitExceeded"
    snap = (await client.get("/_sandbox/usage")).json()["quota"]["keys"][KEY]
    assert snap["used"] == 0 and snap["throttle_s"] == 7
    await client.post("/_sandbox/quota", json={"key": KEY, "throttle_s": 0})
    answer = await client.get("/youtube/v3/videos", params={"id": "x", "part": "id", "key": KEY})
    assert answer.status_code == 200
