"""API keys (in-process app from core.api.app.create_app): BEAT_API_KEYS guard everything but
GET /heartbeat and the docs; /tokens always needs a BEAT_ADMIN_KEYS key; check_bind refuses a
public bind without API keys. Scopes: admin-only operations, keys limited to account_ids, keys
given as SHA-256 hashes."""

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from core.api.app import create_app
from core.api.auth import bearer, matches
from core.config import ConfigError, Settings
from core.exposure import InsecureBind, check_bind, is_loopback

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
    assert (await client.head("/heartbeat")).status_code == 200
    assert (await client.head("/flows")).status_code == 401, "HEAD is guarded as GET is"
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


# -- Scopes ---------------------------------------------------------------------------------------

LIMITED, HASHED_KEY = "limited-key-acme", "hashed-key-given-as-sha256"


@pytest.fixture
async def scoped(settings: Settings, pool: asyncpg.Pool, tmp_path: Path
                 ) -> AsyncIterator[httpx.AsyncClient]:
    """An unlimited caller key, one limited to acme and beta, one given as its hash; an admin."""
    digest = hashlib.sha256(HASHED_KEY.encode()).hexdigest()
    keys = [API_KEY, f"{LIMITED}@acme|beta", f"sha256:{digest.upper()}"]
    async for client in started(keyed(settings, tmp_path, keys, [ADMIN_KEY])):
        yield client


def refused(response: httpx.Response, *words: str) -> bool:
    detail = response.json().get("detail", "")
    return response.status_code == 403 and all(word in detail for word in words)


async def enqueue_as(client: httpx.AsyncClient, key: str, account: str | None) -> httpx.Response:
    body = {"params": {}} if account is None else {"params": {}, "account_id": account}
    return await client.post("/scrape_request_log/flow/noop", json=body, headers=auth(key))


async def test_ops_actions_need_an_admin_key(scoped: httpx.AsyncClient) -> None:
    task = (await enqueue_as(scoped, API_KEY, "acme")).json()
    update = f"/scrape_request_log/flow/update/{task['id']}"
    for key in (API_KEY, LIMITED, HASHED_KEY):
        assert refused(await scoped.post(update, json={"action": "cancel"}, headers=auth(key)),
                       "admin key")
        assert refused(await scoped.post(update, json={"priority": 5}, headers=auth(key)),
                       "admin key")
        assert refused(await scoped.put("/heartbeat", params={"beat": "false"},
                                        headers=auth(key)), "admin key")
    assert (await scoped.get("/heartbeat")).json() == {"beat": True}
    cancelled = await scoped.post(update, json={"action": "cancel"}, headers=auth(ADMIN_KEY))
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "CANCELLED"
    drained = await scoped.put("/heartbeat", params={"beat": "false"}, headers=auth(ADMIN_KEY))
    assert drained.json() == {"beat": False}
    await scoped.put("/heartbeat", params={"beat": "true"}, headers=auth(ADMIN_KEY))


async def test_a_limited_key_enqueues_only_for_its_accounts(scoped: httpx.AsyncClient) -> None:
    assert (await enqueue_as(scoped, LIMITED, "acme")).status_code == 201
    assert refused(await enqueue_as(scoped, LIMITED, "other"), "acme, beta", "'other'")
    assert refused(await enqueue_as(scoped, LIMITED, None), "give one")
    bulk = await scoped.post("/scrape_request_log/flows", headers=auth(LIMITED), json={"tasks": [
        {"flow": "noop", "account_id": "beta"}, {"flow": "noop", "account_id": "other"}]})
    assert refused(bulk, "tasks[1].account_id", "acme, beta")
    assert (await enqueue_as(scoped, API_KEY, "other")).status_code == 201, "unlimited key"
    assert (await enqueue_as(scoped, HASHED_KEY, None)).status_code == 201


async def test_a_limited_key_reads_and_lists_only_its_accounts_tasks(
        scoped: httpx.AsyncClient) -> None:
    own = (await enqueue_as(scoped, LIMITED, "beta")).json()
    other = (await enqueue_as(scoped, API_KEY, "other")).json()
    unowned = (await enqueue_as(scoped, API_KEY, None)).json()
    read = await scoped.get(f"/scrape_request_log/flow/{own['id']}", headers=auth(LIMITED))
    assert read.status_code == 200 and read.json()["account_id"] == "beta"
    for task in (other, unowned):
        assert refused(await scoped.get(f"/scrape_request_log/flow/{task['id']}",
                                        headers=auth(LIMITED)), f"task {task['id']}")
    listed = await scoped.get("/list_scrape_data/beta", headers=auth(LIMITED))
    assert [t["id"] for t in listed.json()["items"]] == [own["id"]]
    assert refused(await scoped.get("/list_scrape_data/other", headers=auth(LIMITED)),
                   "acme, beta")
    assert (await scoped.get("/list_scrape_data/other", headers=auth(API_KEY))).status_code == 200


async def test_a_limited_key_is_never_answered_with_another_accounts_task(
        scoped: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    """Idempotency keys are one namespace: a limited key repeating a key that another account's
    active task holds gets 409, not that task (its params, and later its result), and a bulk
    holding such an item stores nothing."""
    other = await scoped.post("/scrape_request_log/flow/noop", headers=auth(API_KEY), json={
        "params": {"secret": "other-data"}, "idempotency_key": "shared", "account_id": "other"})
    assert other.status_code == 201
    single = await scoped.post("/scrape_request_log/flow/noop", headers=auth(LIMITED), json={
        "params": {}, "idempotency_key": "shared", "account_id": "acme"})
    assert single.status_code == 409 and "another account" in single.json()["detail"]
    assert "other-data" not in single.text and set(single.json()) == {"detail"}
    bulk = await scoped.post("/scrape_request_log/flows", headers=auth(LIMITED), json={"tasks": [
        {"flow": "noop", "account_id": "acme", "idempotency_key": "mine"},
        {"flow": "noop", "account_id": "beta", "idempotency_key": "shared"}]})
    assert bulk.status_code == 409 and "tasks[1].idempotency_key" in bulk.json()["detail"]
    assert set(bulk.json()) == {"detail"}
    assert await pool.fetchval("SELECT count(*) FROM scrape_request_log") == 1, "nothing stored"
    own = await scoped.post("/scrape_request_log/flow/noop", headers=auth(LIMITED), json={
        "params": {}, "idempotency_key": "mine", "account_id": "acme"})
    again = await scoped.post("/scrape_request_log/flows", headers=auth(LIMITED), json={"tasks": [
        {"flow": "noop", "account_id": "beta", "idempotency_key": "mine"}]})
    assert own.status_code == 201 and again.status_code == 201, "its own accounts' tasks: shared"
    assert again.json()["tasks"][0] == {"id": own.json()["id"], "status": "PENDING",
                                        "created": False}
    repeat = await scoped.post("/scrape_request_log/flow/noop", headers=auth(API_KEY), json={
        "params": {}, "idempotency_key": "shared", "account_id": "acme"})
    assert repeat.status_code == 200 and repeat.json()["id"] == other.json()["id"], "unlimited"


async def test_a_limited_key_has_no_event_stream_queue_stats_or_watchlists(
        scoped: httpx.AsyncClient) -> None:
    for path in ("/events", "/queue/stats", "/watchlists", "/budgets"):
        assert refused(await scoped.get(path, headers=auth(LIMITED)), "spans every account")
        assert (await scoped.get(path, headers=auth(API_KEY))).status_code == 200
    assert (await scoped.get("/flows", headers=auth(LIMITED))).status_code == 200


async def test_keys_are_known_by_their_hash(scoped: httpx.AsyncClient) -> None:
    digest = hashlib.sha256(HASHED_KEY.encode()).hexdigest()
    assert (await scoped.get("/flows", headers=auth(HASHED_KEY))).status_code == 200
    assert (await scoped.get("/flows", headers=auth(f"sha256:{digest}"))).status_code == 401
    assert (await scoped.get("/flows", headers=auth(f"{LIMITED}@acme|beta"))).status_code == 401


@pytest.mark.parametrize(("api", "admin", "message"), [
    (["sha256:abc"], [], "BEAT_API_KEYS entry 1: sha256: must be followed by"),
    (["k1", "k2@"], [], "BEAT_API_KEYS entry 2: give the account_ids after @"),
    ([], ["a@acme"], "BEAT_ADMIN_KEYS entry 1: an admin key cannot be limited"),
])
def test_malformed_key_entries_are_refused_in_one_line(tmp_path: Path, api: list[str],
                                                        admin: list[str], message: str) -> None:
    from core.api.auth import ApiKeys

    with pytest.raises(ConfigError) as error:
        ApiKeys.from_settings(keyed(Settings(), tmp_path, api, admin))
    assert str(error.value).startswith(message) and "\n" not in str(error.value)
