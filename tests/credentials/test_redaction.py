"""Redaction catches fragments: a known secret, or a prefix or suffix of 12+ characters of one that
an upstream echoes, is masked in a task's last_error, in logs (tracebacks included) and in API
answers; a malformed DATABASE_URL never shows its password; the limiter's 503 does not name the
Redis host."""

import io
import logging
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import FastAPI, HTTPException
from pydantic import SecretStr

from core.acks import Claim
from core.api.app import create_app
from core.api.freshness import LiveLimits
from core.config import Settings
from core.errors import CredentialInvalid
from core.flow_loop import failure_ack
from core.ratelimit import RateLimiter, parse_limit
from credentials import redact, store
from credentials.crypto import Crypto
from credentials.manager import CredentialManager
from tests import beat_cli

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "EAAGm0PX4ZCpsBAKZD-fragment-token-7f3a9c2e5b1d"
PREFIX, SUFFIX = TOKEN[:14], TOKEN[-12:]
PASSWORD = "S3cret-Passw0rd-of-the-db"


def echoed(text: str) -> bool:
    """Whether any 12-character piece of TOKEN is still in `text`."""
    return any(TOKEN[i:i + 12] in text for i in range(len(TOKEN) - 11))


async def known_credential(pool: asyncpg.Pool, crypto: Crypto) -> int:
    """A credential this process has decrypted (as a worker does before using it)."""
    info, _ = await store.upsert(pool, crypto, "graphapi", {"token": TOKEN, "user_id": "9"})
    assert (await store.get(pool, crypto, info.id)) is not None
    return info.id


async def test_last_error_masks_an_echoed_prefix_or_suffix(creds_pool: asyncpg.Pool,
                                                          crypto: Crypto) -> None:
    await known_credential(creds_pool, crypto)
    upstream = CredentialInvalid(f"graphapi: token {PREFIX}... rejected; ...{SUFFIX} expired")
    error = failure_ack(Claim(1, 1), 1, 3, upstream).error or ""
    assert not echoed(error) and error.count("***") == 2 and "rejected" in error
    odd = CredentialInvalid(f"token {TOKEN[:11]} is odd")
    short = failure_ack(Claim(1, 1), 1, 3, odd).error or ""
    assert TOKEN[:11] in short, "fewer than 12 characters: a coincidence, left alone"


def capture(name: str) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    root.addHandler(logging.StreamHandler(stream))
    redact.install_on_handlers()
    return logging.getLogger(name), stream


@pytest.fixture
def logged() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    logger, stream = capture("beat.test.redaction")
    logger.setLevel(logging.INFO)
    yield logger, stream
    for handler in logging.getLogger().handlers[:]:
        if getattr(handler, "stream", None) is stream:
            logging.getLogger().removeHandler(handler)


async def test_logs_mask_fragments_in_messages_arguments_and_tracebacks(
        creds_pool: asyncpg.Pool, crypto: Crypto,
        logged: tuple[logging.Logger, io.StringIO]) -> None:
    await known_credential(creds_pool, crypto)
    logger, stream = logged
    logger.warning("upstream said: %s", f"bad token {PREFIX}")
    logger.info(f"suffix {SUFFIX} in the message itself")
    try:
        raise ValueError(f"token {TOKEN} refused")
    except ValueError:
        logger.exception("call failed")
    text = stream.getvalue()
    assert "upstream said: bad token ***" in text and "suffix *** in the message" in text
    assert "ValueError: token *** refused" in text and not echoed(text)


@pytest.fixture
async def api(settings: Settings, creds_pool: asyncpg.Pool, tmp_path: Path
              ) -> AsyncIterator[tuple[httpx.AsyncClient, FastAPI]]:
    app = create_app(settings.model_copy(update={
        "beat_admin_keys": [SecretStr("admin-key-for-tests")], "beat_home": tmp_path}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://beat", headers={
                "Authorization": "Bearer admin-key-for-tests"}) as client:
            yield client, app


async def test_api_answers_mask_an_echoed_fragment(api: tuple[httpx.AsyncClient, FastAPI],
                                                   creds_pool: asyncpg.Pool) -> None:
    client, app = api
    created = await client.post("/tokens", json={"source": "graphapi",
                                                 "credentials": {"token": TOKEN, "user_id": "9"}})
    crypto = app.state.credentials_crypto
    manager = CredentialManager(creds_pool, crypto)
    cred = await manager.pick("graphapi")
    assert cred is not None
    await manager.invalid(cred, f"Error validating access token {PREFIX}…: session expired")
    listed = await client.get("/tokens")
    one = await client.get(f"/tokens/{created.json()['id']}")
    for answer in (created, listed, one):
        assert not echoed(answer.text), answer.text
    assert one.json()["last_error"] == "Error validating access token ***…: session expired"


def test_a_malformed_database_url_never_prints_its_password(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    for url in (f"postgres//beat:{PASSWORD}@127.0.0.1:5432/beat",
                f"postgresql://beat:{PASSWORD}@127.0.0.1:notaport/beat",
                f"postgresql://beat:{PASSWORD}@[::1:5432/beat",
                f"postgresql://beat:{PASSWORD}@no-such-host.invalid:5432/beat"):
        for command in (["status"], ["migrate"], ["credentials"]):
            result = beat_cli.run(command, {**env, "DATABASE_URL": url,
                                            "BEAT_HOME": str(tmp_path)})
            assert result.returncode != 0 and result.stderr.startswith("beat: ")
            output = result.stdout + result.stderr
            assert PASSWORD not in output and PASSWORD[:12] not in output, (command, output)


def test_url_passwords_are_masked_in_any_text() -> None:
    text = redact.scrub("amqp://guest:guest@rabbit:5672/ and postgresql://u:p@ss:w/rd@db/x")
    assert text == "amqp://guest:***@rabbit:5672/ and postgresql://u:***@db/x"


async def test_the_limiter_503_does_not_name_the_redis_host() -> None:
    limiter = RateLimiter.from_url("redis://:hunter2-redis@127.0.0.1:1/0")
    limits = LiveLimits(limiter, (parse_limit("live:global:5/1s"),))
    try:
        with pytest.raises(HTTPException) as refused:
            await limits.admit()
    finally:
        await limiter.aclose()
    assert refused.value.status_code == 503
    detail = str(refused.value.detail)
    assert "rate limiter unavailable" in detail
    assert "127.0.0.1" not in detail and ":1" not in detail and "hunter2" not in detail
