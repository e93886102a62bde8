"""Validation against the in-process sandbox: Graph API debug_token (valid, missing scope, data
access expired, session expired, invalid) and YouTube keys (valid, invalid, quota spent), plus
the sandbox's debug_token shapes next to the real error fixtures."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from core.config import Settings
from core.errors import RateLimited, SourceUnavailable, Unsupported
from credentials import store
from credentials.crypto import Crypto
from credentials.models import Credential
from credentials.validator import (
    REQUIRED_SCOPES,
    ValidationResult,
    Validator,
    validate_and_record,
)
from sandbox.graph import debug_token
from tests.credentials.conftest import SANDBOX
from youtube.sources.data_api.keys import next_quota_reset

FIXTURES = Path(__file__).parents[2].parent / "shared" / "fixtures" / "facebook"
NOW = datetime.now(UTC)


def credential(source: str, **secrets: str) -> Credential:
    return Credential(id=1, idempotency_key="k", source=source, handle=None, enabled=True,
                      data_access_expired=False, disabled_till=None, masked={},
                      validated_at=None, scopes=None, expires_at=None,
                      data_access_expires_at=None, last_error=None, created_at=NOW,
                      updated_at=None, secrets=dict(secrets))


@pytest.fixture
def validator(sandbox: httpx.AsyncClient) -> Validator:
    return Validator(Settings(sandbox_url=SANDBOX))


async def graph(validator: Validator, token: str, **more: str) -> ValidationResult:
    return await validator.validate(credential("graphapi", token=token, **more))


async def test_valid_token_with_every_scope(validator: Validator) -> None:
    asked_at = datetime.now(UTC)  # not NOW: the module may run minutes after it was imported
    result = await graph(validator, debug_token.TOKEN_VALID)
    assert result.valid and result.reason is None
    assert set(REQUIRED_SCOPES) <= set(result.scopes)
    assert result.expires_at is not None
    assert abs(result.expires_at - (asked_at + timedelta(days=60))) < timedelta(minutes=5)
    assert result.data_access_expires_at is not None and result.data_access_expires_at > NOW


async def test_token_missing_a_scope_is_invalid(validator: Validator) -> None:
    result = await graph(validator, debug_token.TOKEN_NO_INSIGHTS)
    assert not result.valid and result.reason == "missing scopes: instagram_manage_insights"
    assert "instagram_basic" in result.scopes


async def test_expired_data_access_is_invalid(validator: Validator) -> None:
    result = await graph(validator, debug_token.TOKEN_DATA_EXPIRED)
    assert not result.valid and result.reason is not None
    assert result.reason.startswith("data access expired at ")


async def test_expired_session(validator: Validator) -> None:
    itself = await graph(validator, debug_token.TOKEN_EXPIRED)
    assert not itself.valid and itself.reason is not None
    assert itself.reason.startswith("OAuthException 190/463: Error validating access token: "
                                    "Session has expired on ")
    by_app = await graph(validator, debug_token.TOKEN_EXPIRED,
                         app_token=debug_token.SANDBOX_APP_TOKEN)
    assert not by_app.valid and by_app.reason is not None
    assert by_app.reason.startswith("token is not valid: Error validating access token")
    assert by_app.expires_at is not None and by_app.expires_at < NOW


async def test_invalid_token(validator: Validator) -> None:
    itself = await graph(validator, debug_token.TOKEN_INVALID)
    assert not itself.valid
    assert itself.reason == ("OAuthException 190: Invalid OAuth access token - Cannot parse "
                             "access token")
    by_app = await graph(validator, "garbage", app_token=debug_token.SANDBOX_APP_TOKEN)
    assert not by_app.valid and by_app.scopes == ()
    assert by_app.reason == "token is not valid: " + debug_token.CANNOT_PARSE
    assert not (await validator.validate(credential("graphapi", user_id="1"))).valid


async def test_youtube_keys(validator: Validator, sandbox: httpx.AsyncClient) -> None:
    assert (await validator.validate(credential("youtube_data_api", key="sandbox-key-1"))).valid
    bad = await validator.validate(credential("ytapi", key="not-a-sandbox-key"))
    assert not bad.valid and bad.reason is not None and bad.reason.startswith("keyInvalid")
    await sandbox.post("/_sandbox/quota", json={"key": "sandbox-key-2", "used": 10_000})
    spent = await validator.validate(credential("ytapi", api_key="sandbox-key-2"))
    assert spent.valid and spent.exhausted_until == next_quota_reset(datetime.now(UTC))
    assert spent.exhausted_until > NOW


async def test_no_verdict_raises(validator: Validator, sandbox: httpx.AsyncClient) -> None:
    with pytest.raises(Unsupported):
        await validator.validate(credential("rocketapi", key="x"))
    await sandbox.post("/_sandbox/faults", json={"prefix": "/graph", "rate_limit_rate": 1,
                                                 "retry_after_s": 7})
    with pytest.raises(RateLimited) as limited:
        await graph(validator, debug_token.TOKEN_VALID)
    assert limited.value.retry_after == 7
    await sandbox.post("/_sandbox/faults", json={"prefix": "/graph", "error_rate": 1})
    with pytest.raises(SourceUnavailable):
        await graph(validator, debug_token.TOKEN_VALID)


def test_next_quota_reset() -> None:
    winter = datetime(2025, 1, 15, 7, 59, tzinfo=UTC)  # 23:59 PST
    assert next_quota_reset(winter) == datetime(2025, 1, 15, 8, 0, tzinfo=UTC)
    summer = datetime(2025, 7, 15, 12, 0, tzinfo=UTC)  # 05:00 PDT
    assert next_quota_reset(summer) == datetime(2025, 7, 16, 7, 0, tzinfo=UTC)


async def test_outcomes_are_stored(creds_pool: asyncpg.Pool, crypto: Crypto,
                                   validator: Validator, sandbox: httpx.AsyncClient) -> None:
    good, _ = await store.upsert(creds_pool, crypto, "graphapi", {"token": debug_token.TOKEN_VALID})
    bad, _ = await store.upsert(creds_pool, crypto, "graphapi",
                                {"token": debug_token.TOKEN_NO_INSIGHTS})
    key, _ = await store.upsert(creds_pool, crypto, "ytapi", {"key": "sandbox-key-2"})
    outcome = await validate_and_record(creds_pool, crypto, validator, good.id)
    assert outcome is not None
    result, info = outcome
    assert info.validated_at is not None and info.scopes == result.scopes
    assert not info.data_access_expired and info.expires_at == result.expires_at
    outcome = await validate_and_record(creds_pool, crypto, validator, bad.id)
    assert outcome is not None and outcome[1].data_access_expired
    assert outcome[1].last_error == "missing scopes: instagram_manage_insights"
    await sandbox.post("/_sandbox/quota", json={"key": "sandbox-key-2", "used": 10_000})
    outcome = await validate_and_record(creds_pool, crypto, validator, key.id)
    assert outcome is not None and not outcome[1].data_access_expired
    assert outcome[1].disabled_till == outcome[0].exhausted_until
    assert await validate_and_record(creds_pool, crypto, validator, 999_999) is None


# -- The sandbox's debug_token, in the real shapes ----------------------------------------------

def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


async def test_sandbox_debug_token_shapes(sandbox: httpx.AsyncClient) -> None:
    ok = await sandbox.get("/graph/v19.0/debug_token", params={
        "input_token": debug_token.TOKEN_VALID, "access_token": debug_token.SANDBOX_APP_TOKEN})
    assert ok.status_code == 200
    assert ok.headers["content-type"] == "application/json; charset=UTF-8"
    data = ok.json()["data"]
    assert set(data) == {"app_id", "type", "application", "data_access_expires_at",
                         "expires_at", "is_valid", "issued_at", "scopes", "granular_scopes",
                         "user_id"}
    assert data["type"] == "USER" and data["is_valid"] is True
    refused = await sandbox.get("/graph/debug_token", params={
        "input_token": debug_token.TOKEN_VALID, "access_token": debug_token.TOKEN_INVALID})
    assert refused.status_code == 400
    assert refused.headers["www-authenticate"].startswith('OAuth "Facebook Platform" '
                                                          '"invalid_token"')
    error = refused.json()["error"]
    real = fixture("fb_error_oauth_190_docs_example.json")["error"]
    assert set(error) <= set(real) and list(error) == [k for k in real if k in error]
    assert (error["type"], error["code"]) == ("OAuthException", 190)
    assert len(error["fbtrace_id"]) == 23
    expired = await sandbox.get("/graph/debug_token", params={
        "input_token": debug_token.TOKEN_VALID, "access_token": debug_token.TOKEN_EXPIRED})
    assert expired.json()["error"]["error_subcode"] == 463
    missing = await sandbox.get("/graph/debug_token", params={"input_token": "x"})
    assert missing.json()["error"]["code"] == 104
    no_input = await sandbox.get("/graph/debug_token",
                                 params={"access_token": debug_token.SANDBOX_APP_TOKEN})
    shaped = fixture("fb_error_oauth_100_app_secret_proof.json")["error"]
    assert list(no_input.json()["error"]) == list(shaped)
    assert no_input.json()["error"]["message"] == "(#100) The parameter input_token is required"
