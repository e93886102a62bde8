"""BEAT_SECRET_KEY: required with a database server, checked at start-up with one line; a
credential the key cannot read says so wherever it shows (the CLI, the API, a task's last_error);
rotation (`new,old`, then `beat credentials rotate-key`, then `new`) neither duplicates
credentials nor loses any."""

import logging
import os
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from core import http
from core.acks import Claim
from core.api.app import create_app
from core.config import ConfigError, Settings
from core.errors import AllSourcesFailed
from core.flow_loop import failure_ack
from core.flows import TaskContext
from credentials import store
from credentials.crypto import Crypto, generate_key
from sandbox.app import create_sandbox_app
from tests import beat_cli
from youtube import flows

ROOT = Path(__file__).resolve().parents[2]
SECRET = "AIzaSyD-very-secret-api-key-0123456789"
OLD, NEW = generate_key(), generate_key()


def undecryptable(cred_id: int) -> str:
    return (f"credential {cred_id} cannot be decrypted with BEAT_SECRET_KEY: it was encrypted "
            "with another key")


def beat(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return beat_cli.run(list(args), env)


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    """A `beat` environment on the test database (a server over TCP), without a secret key."""
    clean = {k: v for k, v in os.environ.items()
             if k not in ("DATABASE_URL", "REDIS_URL", "AMQP_URL", "BEAT_SECRET_KEY")}
    return {**clean, "DATABASE_URL": database_url, "BEAT_HOME": str(tmp_path / "home")}


# -- Start-up -------------------------------------------------------------------------------------

@pytest.mark.parametrize("command", [["credentials"], ["credentials", "rotate-key"], ["worker"],
                                     ["server"], ["listen"], ["up"]])
def test_a_server_database_without_a_key_exits_2_with_one_line(
        env: dict[str, str], command: list[str]) -> None:
    result = beat(*command, env=env)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("beat: BEAT_SECRET_KEY is not set"), lines
    assert "beat credentials generate-key" in lines[0]


def test_a_malformed_key_exits_2_without_echoing_it(env: dict[str, str]) -> None:
    bad = "not-a-fernet-key-but-a-secret-all-the-same"
    result = beat("credentials", env={**env, "BEAT_SECRET_KEY": f"{NEW},{bad}"})
    assert result.returncode == 2
    assert result.stderr.strip() == ("beat: BEAT_SECRET_KEY is malformed: key 2 of 2 is not a "
                                     "Fernet key (32 url-safe base64-encoded bytes); make one "
                                     "with `beat credentials generate-key`")


def test_generate_key_prints_a_usable_key(env: dict[str, str]) -> None:
    key = beat("credentials", "generate-key", env=env).stdout.strip()
    assert Settings(beat_secret_key=SecretStr(key)).secret_keys() == [key]


def test_only_the_embedded_database_may_go_without_a_key(tmp_path: Path) -> None:
    embedded = "postgresql://postgres@/postgres?host=%2Ftmp%2Fbeat&port=5432"
    assert Settings(database_url=embedded, beat_secret_key=None).secret_keys() == []
    assert Settings(database_url=None, beat_secret_key=None).secret_keys() == []
    for server in ("postgresql://beat@db.internal:5432/beat", "postgresql://u@/db?host=10.0.0.9"):
        with pytest.raises(ConfigError, match="BEAT_SECRET_KEY is not set"):
            Settings(database_url=server, beat_secret_key=None).secret_keys()


async def test_the_app_refuses_to_start_without_a_key(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"beat_secret_key": None}))
    with pytest.raises(ConfigError, match="BEAT_SECRET_KEY is not set"):
        async with app.router.lifespan_context(app):
            pass


# -- Rotation -------------------------------------------------------------------------------------

async def test_rotation_then_re_adding_the_same_secret_adds_no_row(creds_pool: asyncpg.Pool
                                                                   ) -> None:
    first, _ = await store.upsert(creds_pool, Crypto([OLD]), "youtube_data_api", {"key": SECRET})
    await creds_pool.execute("UPDATE credential SET validated_at = now()")
    rotating = Crypto([NEW, OLD])
    again, created = await store.upsert(creds_pool, rotating, "youtube_data_api",
                                        {"key": SECRET})
    assert not created and again.id == first.id
    assert again.validated_at is not None, "the same secrets: the validation still holds"
    assert (await store.rotate_key(creds_pool, rotating)).reencrypted == 1
    for crypto in (rotating, Crypto([NEW])):
        after, created = await store.upsert(creds_pool, crypto, "youtube_data_api",
                                            {"key": SECRET})
        assert not created and after.id == first.id
    assert await creds_pool.fetchval("SELECT count(*) FROM credential") == 1


async def test_rotate_key_then_dropping_the_old_key_reads_everything(
        creds_pool: asyncpg.Pool, env: dict[str, str]) -> None:
    old = Crypto([OLD])
    ids = [(await store.upsert(creds_pool, old, "youtube_data_api", {"key": f"{SECRET}-{n}"}))[0].id
           for n in range(3)]
    ids.append((await store.upsert(creds_pool, old, "graphapi",
                                   {"token": "EAAG-token-0123456789", "user_id": "42"}))[0].id)
    rotated = beat("credentials", "rotate-key", env={**env, "BEAT_SECRET_KEY": f"{NEW},{OLD}"})
    assert rotated.returncode == 0, rotated.stderr
    assert "re-encrypted 4 credentials with the first key" in rotated.stdout
    listed = beat("credentials", env={**env, "BEAT_SECRET_KEY": NEW})
    assert listed.returncode == 0 and listed.stderr == "", listed.stderr
    new = Crypto([NEW])
    secrets = [(await store.get(creds_pool, new, cred_id)) for cred_id in ids]
    assert [s.secrets for s in secrets if s] == [
        {"key": f"{SECRET}-{n}"} for n in range(3)] + [
        {"token": "EAAG-token-0123456789", "user_id": "42"}]
    again, created = await store.upsert(creds_pool, new, "youtube_data_api", {"key": f"{SECRET}-1"})
    assert not created and again.id == ids[1]


# -- A credential the key cannot read ----------------------------------------------------------

async def test_beat_credentials_names_the_unreadable_credential(creds_pool: asyncpg.Pool,
                                                                env: dict[str, str]) -> None:
    await store.upsert(creds_pool, Crypto([OLD]), "youtube_data_api", {"key": SECRET})
    result = beat("credentials", env={**env, "BEAT_SECRET_KEY": NEW})
    assert result.returncode == 1
    assert result.stderr.strip() == f"beat: {undecryptable(1)}"
    assert "cannot be decrypted" in result.stdout and SECRET not in result.stdout


@pytest.fixture
async def app(settings: Settings, creds_pool: asyncpg.Pool, tmp_path: Path
              ) -> AsyncIterator[FastAPI]:
    tuned = settings.model_copy(update={"beat_admin_keys": [SecretStr("admin-key-for-tests")],
                                        "beat_secret_key": SecretStr(NEW), "beat_home": tmp_path})
    app = create_app(tuned)
    async with app.router.lifespan_context(app):
        yield app


async def test_the_api_names_the_unreadable_credential(app: FastAPI, creds_pool: asyncpg.Pool
                                                       ) -> None:
    info, _ = await store.upsert(creds_pool, Crypto([OLD]), "youtube_data_api", {"key": SECRET})
    readable, _ = await store.upsert(creds_pool, Crypto([NEW]), "graphapi",
                                     {"token": "EAAG-token-0123456789", "user_id": "7"})
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://beat",
                                 headers={"Authorization": "Bearer admin-key-for-tests"}) as api:
        listed = {t["id"]: t for t in (await api.get("/tokens")).json()}
        one = (await api.get(f"/tokens/{info.id}")).json()
        validated = await api.get("/token/validate", params={"id": info.id})
    assert listed[info.id]["decrypt_error"] == one["decrypt_error"] == undecryptable(info.id)
    assert listed[readable.id]["decrypt_error"] is None
    assert validated.status_code == 409
    assert validated.json()["detail"] == undecryptable(info.id)


async def test_a_task_says_its_key_cannot_be_decrypted_not_that_quota_ran_out(
        pool: asyncpg.Pool, settings: Settings, tmp_path: Path) -> None:
    await pool.execute("TRUNCATE credential RESTART IDENTITY")
    await store.upsert(pool, Crypto([OLD]), "youtube_data_api", {"key": "sandbox-key-1"})
    tuned = settings.model_copy(update={
        "beat_secret_key": SecretStr(NEW), "beat_home": tmp_path, "sandbox_url": None,
        "platform_settings": {"youtube": {"api_url": "http://sandbox/youtube/v3",
                                          "invidious_url": None, "api_keys": []}},
        "redis_url": None})
    ctx = TaskContext(task_id=1, flow="refresh_yt_posts", attempt=1, pool=pool,
                      log=logging.getLogger("test"), settings=tuned)
    http.use_client(httpx.AsyncClient(transport=httpx.ASGITransport(app=create_sandbox_app(1)),
                                      base_url="http://sandbox"))
    try:
        with pytest.raises(AllSourcesFailed) as failed:
            await flows.refresh_yt_posts(flows.VideosParams(video_ids=["dQw4w9WgXcQ"]), ctx)
    finally:
        await http.close_client()
    last_error = failure_ack(Claim(1, 1), 3, 3, failed.value).error or ""
    assert undecryptable(1) in last_error and "quota" not in last_error
