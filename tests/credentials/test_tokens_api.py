"""The /tokens endpoints (in-process app from create_app, admin key, sandbox as the platforms):
upsert, masked listing, validation stored, disable and enable, errors without echoed secrets."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from core.config import Settings
from sandbox.graph import debug_token
from tests.api.support import admin_client
from tests.credentials.conftest import SANDBOX

KEY = "AIzaSyD-very-secret-api-key-0123456789"


@pytest.fixture
async def api(settings: Settings, creds_pool: asyncpg.Pool, tmp_path: Path,
              sandbox: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    async with admin_client(settings, beat_home=tmp_path, sandbox_url=SANDBOX) as client:
        yield client


async def post(api: httpx.AsyncClient, expected: int = 201, **body: Any) -> dict[str, Any]:
    response = await api.post("/tokens", json=body)
    assert response.status_code == expected, response.text
    return dict(response.json())


async def test_upsert_and_list(api: httpx.AsyncClient) -> None:
    yt = await post(api, source="youtube_data_api", credentials={"key": KEY}, handle="main")
    assert yt["credentials"] == {"key": "****6789"} and yt["enabled"] is True
    assert yt["scopes"] is None and yt["validated_at"] is None
    same = await post(api, 200, source="youtube_data_api", credentials={"key": KEY},
                      enabled=False)
    assert same["id"] == yt["id"] and same["enabled"] is False and same["handle"] == "main"
    graph = await post(api, source="graphapi", idempotency_key="ig:brand",
                       credentials={"token": debug_token.TOKEN_VALID, "user_id": "17"})
    assert graph["idempotency_key"] == "ig:brand"
    listed = (await api.get("/tokens")).json()
    assert [t["id"] for t in listed] == [yt["id"], graph["id"]]
    only = (await api.get("/tokens", params={"source": "graphapi"})).json()
    assert [t["id"] for t in only] == [graph["id"]]
    assert (await api.get(f"/tokens/{graph['id']}")).json() == graph
    assert (await api.get("/tokens/999999")).status_code == 404
    assert KEY not in (await api.get("/tokens")).text


async def test_validation_errors_do_not_echo_secrets(api: httpx.AsyncClient) -> None:
    for body in ({"credentials": {"key": KEY}},
                 {"source": "Bad Source", "credentials": {"key": KEY}},
                 {"source": "ytapi", "credentials": {"key": KEY, "n": 5}},
                 {"source": "ytapi", "credentials": {}}):
        response = await api.post("/tokens", json=body)
        assert response.status_code == 422, body
        assert KEY not in response.text and all("input" not in e
                                                for e in response.json()["detail"])
    broken = await api.post("/tokens", content=f'{{"source": "ytapi", "credentials": "{KEY}',
                            headers={"content-type": "application/json"})
    assert broken.status_code == 422 and KEY not in broken.text


async def test_validate_stores_the_outcome(api: httpx.AsyncClient) -> None:
    good = await post(api, source="graphapi", credentials={"token": debug_token.TOKEN_VALID})
    lacking = await post(api, source="graphapi",
                         credentials={"token": debug_token.TOKEN_NO_INSIGHTS})
    checked = (await api.get("/token/validate", params={"id": good["id"]})).json()
    assert checked["valid"] is True and checked["token"]["validated_at"] is not None
    assert "instagram_manage_insights" in checked["token"]["scopes"]
    refused = (await api.get("/token/validate", params={"id": lacking["id"]})).json()
    assert refused["valid"] is False
    assert refused["reason"] == "missing scopes: instagram_manage_insights"
    assert refused["token"]["data_access_expired"] is True
    assert refused["token"]["last_error"] == refused["reason"]
    assert (await api.get("/token/validate", params={"id": 999999})).status_code == 404
    other = await post(api, source="rocketapi", credentials={"key": KEY})
    unsupported = await api.get("/token/validate", params={"id": other["id"]})
    assert unsupported.status_code == 422 and "rocketapi" in unsupported.text


async def test_validate_when_the_platform_gives_no_verdict(
        api: httpx.AsyncClient, sandbox: httpx.AsyncClient) -> None:
    token = await post(api, source="graphapi", credentials={"token": debug_token.TOKEN_VALID})
    await sandbox.post("/_sandbox/faults", json={"prefix": "/graph", "rate_limit_rate": 1,
                                                 "retry_after_s": 9})
    limited = await api.get("/token/validate", params={"id": token["id"]})
    assert limited.status_code == 429 and limited.headers["retry-after"] == "9"
    await sandbox.post("/_sandbox/faults", json={"prefix": "/graph", "error_rate": 1})
    assert (await api.get("/token/validate", params={"id": token["id"]})).status_code == 502
    after = (await api.get(f"/tokens/{token['id']}")).json()
    assert after["validated_at"] is None and after["data_access_expired"] is False


async def test_disable_and_enable(api: httpx.AsyncClient) -> None:
    token = await post(api, source="ytapi", credentials={"key": KEY})
    rested = (await api.post(f"/tokens/{token['id']}/disable", params={"ttl_s": 600})).json()
    assert rested["enabled"] is True and rested["disabled_till"] is not None
    off = (await api.post(f"/tokens/{token['id']}/disable")).json()
    assert off["enabled"] is False
    on = (await api.post(f"/tokens/{token['id']}/enable")).json()
    assert on["enabled"] is True and on["disabled_till"] is None
    assert (await api.post("/tokens/999999/enable")).status_code == 404
    bad_ttl = await api.post(f"/tokens/{token['id']}/disable", params={"ttl_s": -1})
    assert bad_ttl.status_code == 422
