"""The app itself refuses to serve beyond loopback without API keys, however it is started: a
real `uvicorn server:create_app --factory` process on 0.0.0.0 exits non-zero at start-up with
one line, and a request that arrives on a non-loopback address is refused (servers without a
lifespan)."""

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from core.api.app import create_app
from core.config import Settings
from tests.e2e.procs import free_port

ROOT = Path(__file__).resolve().parents[1]
REFUSAL = ("refusing to listen on 0.0.0.0 without API keys: set BEAT_API_KEYS (comma-separated) "
           "or bind to 127.0.0.1")


def uvicorn(database_url: str, host: str, port: int, **settings: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("BEAT_API_KEYS", "BEAT_ADMIN_KEYS", "DATABASE_URL", "REDIS_URL")}
    env.update(DATABASE_URL=database_url, PYTHONPATH=str(ROOT), **settings)
    return subprocess.Popen([sys.executable, "-m", "uvicorn", "server:create_app", "--factory",
                             "--host", host, "--port", str(port)], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def serves(process: subprocess.Popen[str], port: int, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/heartbeat", timeout=1).status_code == 200
        except httpx.TransportError:
            time.sleep(0.2)
    return False


def stop(process: subprocess.Popen[str]) -> str:
    if process.poll() is None:
        process.terminate()
    output, _ = process.communicate(timeout=30)
    return output


def test_plain_uvicorn_on_all_interfaces_without_keys_exits_at_start_up(database_url: str
                                                                         ) -> None:
    port = free_port()
    process = uvicorn(database_url, "0.0.0.0", port)
    try:
        code = process.wait(timeout=60)
    finally:
        output = stop(process)
    assert code != 0, output
    errors = [line for line in output.splitlines() if "refusing" in line]
    assert len(errors) == 1 and errors[0].endswith(REFUSAL), output
    assert "Traceback" not in output


@pytest.mark.parametrize(("host", "keys"), [("0.0.0.0", {"BEAT_API_KEYS": "a-key"}),
                                            ("127.0.0.1", {})])
def test_with_keys_or_on_loopback_it_serves(database_url: str, host: str,
                                            keys: dict[str, str]) -> None:
    port = free_port()
    process = uvicorn(database_url, host, port, **keys)
    try:
        assert serves(process, port), stop(process)
    finally:
        stop(process)


async def test_a_request_arriving_on_a_public_address_is_refused(settings: Settings) -> None:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        answers = {}
        for base in ("http://10.1.2.3:8000", "http://127.0.0.1:8000"):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=base) as client:
                answers[base] = await client.get("/flows")
    public = answers["http://10.1.2.3:8000"]
    assert public.status_code == 403 and "10.1.2.3 without API keys" in public.json()["detail"]
    assert answers["http://127.0.0.1:8000"].status_code == 200
