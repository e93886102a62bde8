"""The assets tests' servers, as real processes on free ports, stopped by the pid they were
started with: the sandbox (the image host and its hostile answers) and moto's standalone S3
server (a real S3-compatible endpoint, not a mocked client)."""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.procs import free_port

ROOT = Path(__file__).parents[2]


def start(args: list[str], ready_url: str | None, log: Path) -> subprocess.Popen[bytes]:
    """Start `args`, wait until `ready_url` answers (fail with the log if it never does);
    without a URL, only start it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with open(log, "wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=env, cwd=log.parent)
    if ready_url is None:
        return proc
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(ready_url, timeout=2).status_code < 500:
                return proc
        except httpx.TransportError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    stop(proc)
    raise AssertionError(f"{args[0]} did not answer at {ready_url}:\n{log.read_text()}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@pytest.fixture(scope="session")
def sandbox_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start([sys.executable, "-m", "sandbox.server", "--port", str(port)],
                 f"{url}/assets/hostile/no-og", tmp_path_factory.mktemp("sandbox") / "log")
    try:
        yield url
    finally:
        stop(proc)


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = str(Path(sys.executable).with_name("moto_server"))
    proc = start([server, "-H", "127.0.0.1", "-p", str(port)], f"{url}/moto-api/",
                 tmp_path_factory.mktemp("moto") / "log")
    try:
        yield url
    finally:
        stop(proc)
