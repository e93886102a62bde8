"""The credential table (real PostgreSQL): the row holds ciphertext, never the secret; upsert by
idempotency key; masked listing; state changes; and no secret in logs or API answers."""

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from core.api.app import create_app
from core.config import Settings
from credentials import store
from credentials.crypto import Crypto, generate_key
from credentials.manager import CredentialManager
from credentials.validator import Validator, validate_and_record
from sandbox.graph.debug_token import TOKEN_VALID
from tests.credentials.conftest import SANDBOX

SECRET = "AIzaSyD-very-secret-api-key-0123456789"
ADMIN = {"Authorization": "Bearer admin-key-for-tests"}


async def raw_row(pool: asyncpg.Pool, cred_id: int) -> str:
    """The whole row as PostgreSQL stores it, as text."""
    return str(await pool.fetchval("SELECT row_to_json(c)::text FROM credential c WHERE id = $1",
                                   cred_id))


async def test_the_row_holds_ciphertext_never_the_secret(creds_pool: asyncpg.Pool,
                                                         crypto: Crypto) -> None:
    info, created = await store.upsert(creds_pool, crypto, "youtube_data_api", {"key": SECRET},
                                       handle="main key")
    assert created and info.masked == {"key": "****6789"}
    assert SECRET not in await raw_row(creds_pool, info.id)
    stored = await creds_pool.fetchval("SELECT credentials FROM credential WHERE id = $1",
                                       info.id)
    assert stored["v"] == 1 and stored["ciphertext"] and stored["masked"] == {"key": "****6789"}
    assert SECRET not in info.idempotency_key and SECRET not in repr(info)
    cred = await store.get(creds_pool, crypto, info.id)
    assert cred is not None and cred.secrets == {"key": SECRET}
    assert SECRET not in repr(cred)


async def test_upsert_by_idempotency_key(creds_pool: asyncpg.Pool, crypto: Crypto) -> None:
    first, created = await store.upsert(creds_pool, crypto, "graphapi",
                                        {"token": "EAAG-old-token-1111", "user_id": "42"})
    assert created and first.idempotency_key == "graphapi:42"
    second, created = await store.upsert(creds_pool, crypto, "graphapi",
                                         {"token": "EAAG-new-token-2222", "user_id": "42"},
                                         handle="brand")
    assert not created and second.id == first.id and second.handle == "brand"
    cred = await store.get(creds_pool, crypto, first.id)
    assert cred is not None and cred.secret("token") == "EAAG-new-token-2222"
    again, created = await store.upsert(creds_pool, crypto, "youtube_data_api", {"key": SECRET})
    same, created_again = await store.upsert(creds_pool, crypto, "youtube_data_api",
                                             {"key": SECRET})
    assert created and not created_again and same.id == again.id
    explicit, _ = await store.upsert(creds_pool, crypto, "youtube_data_api", {"key": "k" * 20},
                                     idempotency_key="yt:project-7")
    assert explicit.idempotency_key == "yt:project-7"
    assert [i.id for i in await store.list_infos(creds_pool)] == [first.id, again.id, explicit.id]
    assert [i.id for i in await store.list_infos(creds_pool, "graphapi")] == [first.id]


async def test_new_secrets_forget_the_old_validation(creds_pool: asyncpg.Pool,
                                                     crypto: Crypto) -> None:
    info, _ = await store.upsert(creds_pool, crypto, "youtube_data_api", {"key": SECRET},
                                 idempotency_key="yt:1")
    await store.mark_data_access_expired(creds_pool, info.id, "keyInvalid")
    same, _ = await store.upsert(creds_pool, crypto, "youtube_data_api", {"key": SECRET},
                                 idempotency_key="yt:1")
    assert same.data_access_expired and same.last_error == "keyInvalid"
    fresh, _ = await store.upsert(creds_pool, crypto, "youtube_data_api", {"key": SECRET + "X"},
                                  idempotency_key="yt:1")
    assert not fresh.data_access_expired and fresh.last_error is None


async def test_state_changes(creds_pool: asyncpg.Pool, crypto: Crypto) -> None:
    info, _ = await store.upsert(creds_pool, crypto, "youtube_data_api", {"key": SECRET})
    rested = await store.disable(creds_pool, info.id, ttl_s=120)
    assert rested is not None and rested.enabled and rested.disabled_till is not None
    db_now = await creds_pool.fetchval("SELECT now()")
    assert abs((rested.disabled_till - db_now).total_seconds() - 120) < 5
    shorter = await store.disable(creds_pool, info.id, ttl_s=5)
    assert shorter is not None and shorter.disabled_till == rested.disabled_till  # not shortened
    off = await store.disable(creds_pool, info.id)
    assert off is not None and not off.enabled
    on = await store.enable(creds_pool, info.id)
    assert on is not None and on.enabled and on.disabled_till is None
    expires = datetime(2030, 1, 1, tzinfo=UTC)
    valid = await store.mark_validated(creds_pool, info.id, ["a", "b"], expires)
    assert valid is not None and valid.scopes == ("a", "b") and valid.expires_at == expires
    assert valid.validated_at is not None and not valid.data_access_expired
    gone = await store.mark_data_access_expired(creds_pool, info.id, "revoked")
    assert gone is not None and gone.data_access_expired and gone.last_error == "revoked"
    assert await store.usable(creds_pool, crypto, "youtube_data_api") == []
    assert await store.enable(creds_pool, 999_999) is None
    assert await store.get(creds_pool, crypto, 999_999) is None


async def test_a_row_the_key_cannot_decrypt_is_skipped(creds_pool: asyncpg.Pool, crypto: Crypto,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    good, _ = await store.upsert(creds_pool, crypto, "youtube_data_api", {"key": SECRET})
    await store.upsert(creds_pool, Crypto([generate_key()]), "youtube_data_api",
                       {"key": "other-key-abcdef"})
    usable = await store.usable(creds_pool, crypto, "youtube_data_api")
    assert [c.id for c in usable] == [good.id]
    assert "cannot be decrypted" in caplog.text


# -- Secrets never in logs, never in API answers -------------------------------------------------

@pytest.fixture
async def app(settings: Settings, creds_pool: asyncpg.Pool, tmp_path: Path
              ) -> AsyncIterator[FastAPI]:
    tuned = settings.model_copy(update={
        "beat_admin_keys": [SecretStr("admin-key-for-tests")], "beat_home": tmp_path,
        "sandbox_url": SANDBOX})
    app = create_app(tuned)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def api(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://beat",
                                 headers=ADMIN) as client:
        yield client


async def test_no_secret_in_logs_rows_or_api_answers(
        api: httpx.AsyncClient, app: FastAPI, creds_pool: asyncpg.Pool,
        sandbox: httpx.AsyncClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    created = await api.post("/tokens", json={"source": "graphapi", "handle": "brand",
                                              "credentials": {"token": TOKEN_VALID}})
    updated = await api.post("/tokens", json={"source": "graphapi", "handle": "brand",
                                              "credentials": {"token": TOKEN_VALID}})
    assert (created.status_code, updated.status_code) == (201, 200)
    token_id = created.json()["id"]
    listed = await api.get("/tokens")
    validated = await api.get("/token/validate", params={"id": token_id})
    assert validated.status_code == 200 and validated.json()["valid"] is True
    crypto: Crypto = app.state.credentials_crypto
    manager = CredentialManager(creds_pool, crypto)
    cred = await manager.pick("graphapi")
    assert cred is not None and cred.secret("token") == TOKEN_VALID
    await manager.rate_limited(cred, 30)
    await manager.invalid(cred, f"refused: {TOKEN_VALID}")
    await validate_and_record(creds_pool, crypto, Validator(Settings(sandbox_url=SANDBOX)), cred.id)
    disabled = await api.post(f"/tokens/{token_id}/disable", params={"ttl_s": 60})
    bad = await api.post("/tokens", json={"source": "Graph API!",
                                          "credentials": {"token": TOKEN_VALID}})
    assert bad.status_code == 422
    answers = [created, updated, listed, validated, disabled, bad]
    assert all(TOKEN_VALID not in answer.text for answer in answers)
    assert created.json()["credentials"] == {"token": "****oken"}
    assert TOKEN_VALID not in await raw_row(creds_pool, token_id)
    assert "input_token=***" in caplog.text  # httpx logged the call, with the token redacted
    assert TOKEN_VALID not in caplog.text and "credential 1 (graphapi)" in caplog.text

