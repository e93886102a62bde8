"""API keys (in-process app from core.api.app.create_app): BEAT_API_KEYS guard everything but
GET /heartbeat and the docs; /tokens always needs a BEAT_ADMIN_KEYS key; check_bind refuses a
public bind without API keys."""

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from core.api.app import create_app
from core.api.auth import InsecureBind, bearer, check_bind, is_loopback, matches
from core.config import Settings

API_KEY, OTHER_KEY, ADMIN_KEY = "api-key-one", "api-key-two", "admin-key-one"


def keyed(settings: Settings, tmp_path: Path, api: list[str], admin: list[str]) -> Settings:
    return settings.model_copy(update={
        "beat_api_keys": [SecretStr(k) for k in api],
        "beat_admin_keys": [SecretStr(k) for k in admin], "beat_home": tmp_path})


async def started(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://beat") as client:
            yield client


@pytest.fixture
async def client(settings: Settings, pool: asyncpg.Pool, tmp_path: Path
                 ) -> AsyncIterator[httpx.AsyncClient]:
    async for client in started(keyed(settings, tmp_path, [API_KEY, OTHER_KEY], [ADMIN_KEY])):
        yield client


@pytest.fixture
async def open_client(settings: Settings, pool: asyncpg.Pool, tmp_path: Path
                      ) -> AsyncIterator[httpx.AsyncClient]:
    async for client in started(keyed(settings, tmp_path, [], [])):
        yield client


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_api_keys_guard_every_endpoint(client: httpx.AsyncClient) -> None:
    missing = await client.get("/queue/stats")
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    wrong = await client.get("/queue/stats", headers=auth("api-key-on"))
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"].startswith("Bearer")
    basic = await client.get("/queue/stats", headers={"Authorization": f"Basic {API_KEY}"})
    assert basic.status_code == 401
    assert (await client.get("/queue/stats", headers=auth(API_KEY))).status_code == 200
    assert (await client.get("/flows", headers={"authorization": f"bearer {OTHER_KEY}"}
                             )).status_code == 200
    assert (await client.get("/queue/stats", headers=auth(ADMIN_KEY))).status_code == 200
    posted = await client.post("/scrape_request_log/flow/noop", json={})
    assert posted.status_code == 401


async def test_heartbeat_and_docs_stay_open(client: httpx.AsyncClient) -> None:
    assert (await client.get("/heartbeat")).status_code == 200
    assert (await client.get("/openapi.json")).status_code == 200
    assert (await client.get("/docs")).status_code == 200
    drain = await client.put("/heartbeat", params={"beat": "false"})
    assert drain.status_code == 401  # draining the server is not open


async def test_tokens_need_an_admin_key(client: httpx.AsyncClient) -> None:
    assert (await client.get("/tokens")).status_code == 401
    as_user = await client.get("/tokens", headers=auth(API_KEY))
    assert as_user.status_code == 403 and "admin" in as_user.json()["detail"]
    assert (await client.get("/tokens", headers=auth("nope"))).status_code == 401
    assert (await client.get("/tokens", headers=auth(ADMIN_KEY))).status_code == 200
    schema = (await client.get("/openapi.json")).json()
    assert "/tokens" in schema["paths"] and "/token/validate" in schema["paths"]


async def test_without_keys_the_api_is_open_but_tokens_are_not(
        open_client: httpx.AsyncClient) -> None:
    assert (await open_client.get("/queue/stats")).status_code == 200
    refused = await open_client.get("/tokens")
    assert refused.status_code == 403 and "BEAT_ADMIN_KEYS" in refused.json()["detail"]
    posted = await open_client.post("/tokens", headers=auth("anything"),
                                    json={"source": "ytapi", "credentials": {"key": "k" * 20}})
    assert posted.status_code == 403 and "BEAT_ADMIN_KEYS" in posted.json()["detail"]


def test_check_bind(tmp_path: Path) -> None:
    none = Settings(beat_home=tmp_path, beat_api_keys=[])
    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2", "[::1]"):
        check_bind(host, none)
    for host in ("0.0.0.0", "::", "", "192.168.1.10", "beat.example.com"):
        with pytest.raises(InsecureBind) as refused:
            check_bind(host, none)
        assert "\n" not in str(refused.value) and "BEAT_API_KEYS" in str(refused.value)
    check_bind("0.0.0.0", keyed(none, tmp_path, ["k1"], []))


def test_key_helpers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BEAT_API_KEYS", "k1, k2")
    monkeypatch.setenv("BEAT_ADMIN_KEYS", '["a1"]')
    settings = Settings()
    assert [k.get_secret_value() for k in settings.beat_api_keys] == ["k1", "k2"]
    assert [k.get_secret_value() for k in settings.beat_admin_keys] == ["a1"]
    assert "k1" not in repr(settings)
    assert bearer("Bearer abc") == "abc" and bearer("bearer  abc ") == "abc"
    assert bearer("Basic abc") is None and bearer(None) is None and bearer("Bearer") is None
    assert matches("k2", ["k1", "k2"]) and not matches("k", ["k1"]) and not matches(None, ["k"])
    assert matches("clé", ["clé"]) and not is_loopback("localhost.example")
