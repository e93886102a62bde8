"""`beat up`: one command that runs the API server and the workers, on embedded PostgreSQL and
Redis under BEAT_HOME when DATABASE_URL / REDIS_URL are not set, and stops it all on Ctrl-C."""

import errno
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

from core import db
from core.config import Settings

log = logging.getLogger(__name__)

SANDBOX_KEYS = ("sandbox-key-1", "sandbox-key-2")

SERVICES_FILE = "services.json"


def running_services(home: Path) -> dict[str, Any] | None:
    """The URLs a running `beat up` published under `home`, if its process is alive."""
    path = home / SERVICES_FILE
    try:
        info = json.loads(path.read_text())
        os.kill(int(info["pid"]), 0)
    except (OSError, ValueError, KeyError):
        return None
    return {k: info.get(k) for k in ("database_url", "redis_url")}


def run_up(settings: Settings, host: str | None, port: int | None) -> None:
    from core.embedded import EmbeddedServices

    home = settings.beat_home
    home.mkdir(parents=True, exist_ok=True)
    with EmbeddedServices(home, need_postgres=not settings.database_url,
                          need_redis=not settings.redis_url) as embedded:
        database_url = settings.database_url or embedded.database_url
        redis_url = settings.redis_url or embedded.redis_url
        assert database_url
        db.migrate(database_url)
        env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url or ""}
        # One machine runs every flow: one process each unless configured otherwise.
        env.setdefault("WORKER_PROCESS_CAP", str(settings.worker_process_cap or 1))
        published = home / SERVICES_FILE
        published.write_text(json.dumps({"pid": os.getpid(), "database_url": database_url,
                                         "redis_url": redis_url}))
        try:
            _run_children(_commands(settings, env, host or settings.server_host,
                                    port or settings.server_port), env)
        finally:
            published.unlink(missing_ok=True)


def _commands(settings: Settings, env: dict[str, str], host: str,
              port: int) -> dict[str, tuple[list[str], str | None]]:
    """Name -> (command, URL that answers once it serves). Without platform credentials the
    sandbox stands in for the platforms."""
    beat = [sys.executable, "-m", "core.cli"]
    commands: dict[str, tuple[list[str], str | None]] = {}
    if not settings.youtube_api_keys and not settings.sandbox_url:
        sandbox_port = free_port()
        env["SANDBOX_URL"] = f"http://127.0.0.1:{sandbox_port}"
        env["YOUTUBE_API_KEYS"] = ",".join(SANDBOX_KEYS)
        commands["sandbox"] = ([*beat, "sandbox", "--port", str(sandbox_port)],
                               f"{env['SANDBOX_URL']}/_sandbox/world")
    commands["server"] = ([*beat, "server", "--host", host, "--port", str(port)],
                          f"http://{host}:{port}/heartbeat")
    commands["worker"] = ([*beat, "worker"], None)
    return commands


class PortInUse(Exception):
    """The API port is taken: by another `beat up` or `beat server`, or another program."""


def check_port(host: str, port: int) -> None:
    """Raise PortInUse unless `host:port` can be bound now, the way uvicorn binds it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUse(f"port {port} is in use (another beat up?); use --port") \
                    from None
            raise PortInUse(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_serving(url: str, children: dict[str, subprocess.Popen[bytes]],
                        timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and all(c.poll() is None for c in children.values()):
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    return False


def _run_children(commands: dict[str, tuple[list[str], str | None]],
                  env: dict[str, str]) -> None:
    stopping = False

    def on_signal(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    children: dict[str, subprocess.Popen[bytes]] = {}
    for name, (command, ready_url) in commands.items():
        children[name] = subprocess.Popen(command, env=env)
        if ready_url and not _wait_until_serving(ready_url, children):
            break
    else:
        if "sandbox" in children:
            log.info("no platform credentials: platform calls go to the sandbox at %s",
                     env["SANDBOX_URL"])
        log.info("Beat is up: API on %s (docs at /docs); Ctrl-C stops it",
                 (commands["server"][1] or "").removesuffix("/heartbeat"))
    while not stopping and all(c.poll() is None for c in children.values()):
        time.sleep(0.2)
    _stop(children)
    failed = [(name, c.returncode) for name, c in children.items()
              if c.returncode not in (0, -signal.SIGTERM)]
    log.info("Beat stopped")
    if failed and not stopping:
        raise RuntimeError(f"the {failed[0][0]} exited with code {failed[0][1]}")


def _stop(children: dict[str, subprocess.Popen[bytes]]) -> None:
    """Workers and server first, the sandbox last (running tasks may still call it)."""
    for group in ([c for n, c in children.items() if n != "sandbox"],
                  [c for n, c in children.items() if n == "sandbox"]):
        for child in group:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in group:
            try:
                child.wait(timeout=60)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
