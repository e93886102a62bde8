"""`beat up`: one command that runs the API server and the workers, on embedded PostgreSQL and
Redis under BEAT_HOME when DATABASE_URL / REDIS_URL are not set, and stops it all on Ctrl-C."""

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

from core import db
from core.config import Settings

log = logging.getLogger(__name__)

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
            _run_children(env, host or settings.server_host, port or settings.server_port)
        finally:
            published.unlink(missing_ok=True)


def _wait_until_serving(host: str, port: int, children: list[subprocess.Popen[bytes]],
                        timeout: float = 60.0) -> bool:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and all(child.poll() is None for child in children):
        try:
            if httpx.get(f"http://{host}:{port}/heartbeat", timeout=1).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    return False


def _run_children(env: dict[str, str], host: str, port: int) -> None:
    command = [sys.executable, "-m", "core.cli"]
    children = [
        subprocess.Popen([*command, "server", "--host", host, "--port", str(port)], env=env),
        subprocess.Popen([*command, "worker"], env=env),
    ]
    stopping = False
    if _wait_until_serving(host, port, children):
        log.info("Beat is up: API on http://%s:%d (docs at /docs); Ctrl-C stops it", host, port)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    while not stopping and all(child.poll() is None for child in children):
        time.sleep(0.2)
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children:
        try:
            child.wait(timeout=60)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    failed = [(name, c.returncode) for name, c in zip(("server", "worker"), children)
              if c.returncode not in (0, -signal.SIGTERM)]
    log.info("Beat stopped")
    if failed and not stopping:
        raise RuntimeError(f"the {failed[0][0]} exited with code {failed[0][1]}")
