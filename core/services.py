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
from core.platforms import registry
from core.process import stop_signal_note

log = logging.getLogger(__name__)

SERVICES_FILE = "services.json"


PUBLISHED = ("database_url", "redis_url", "sandbox_url")


def running_services(home: Path) -> dict[str, Any] | None:
    """The URLs a running `beat up` published under `home` (its database, its Redis, and the
    sandbox it started, if any), if its process is alive."""
    path = home / SERVICES_FILE
    try:
        info = json.loads(path.read_text())
        os.kill(int(info["pid"]), 0)
    except (OSError, ValueError, KeyError):
        return None
    return {k: info.get(k) for k in PUBLISHED}


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
        if settings.prometheus_multiproc_dir is None:
            # The server's /metrics shows the workers' samples: one directory for both.
            env["PROMETHEUS_MULTIPROC_DIR"] = str(_fresh_metrics_dir(home))
        # One machine runs every flow: one process per platform unless configured otherwise.
        env.setdefault("WORKER_PROCESS_CAP", str(settings.worker_process_cap or 1))
        env.setdefault("WORKER_PROCESSES_PER", "platform")
        commands = _commands(settings, env, host or settings.server_host,
                             port or settings.server_port)
        published = home / SERVICES_FILE
        published.write_text(json.dumps({"pid": os.getpid(), "database_url": database_url,
                                         "redis_url": redis_url,
                                         "sandbox_url": env.get("SANDBOX_URL")}))
        try:
            _run_children(commands, env, settings.worker_shutdown_grace)
        finally:
            published.unlink(missing_ok=True)


def _fresh_metrics_dir(home: Path) -> Path:
    from core.metrics import clear_dir

    directory = home / "metrics"
    directory.mkdir(parents=True, exist_ok=True)
    clear_dir(directory)  # the samples of an earlier `beat up` would add to this one's
    return directory


def _commands(settings: Settings, env: dict[str, str], host: str,
              port: int) -> dict[str, tuple[list[str], str | None]]:
    """Name -> (command, URL that answers once it serves). When no platform has credentials,
    the sandbox stands in for the platforms, with their sandbox credentials."""
    beat = [sys.executable, "-m", "core.cli"]
    commands: dict[str, tuple[list[str], str | None]] = {}
    own = [p.platform_settings(settings) for p in registry(settings).values()]
    if not settings.sandbox_url and not any(o and o.has_credentials() for o in own):
        sandbox_port = free_port()
        env["SANDBOX_URL"] = f"http://127.0.0.1:{sandbox_port}"
        for platform_settings in own:
            env.update(platform_settings.sandbox_env() if platform_settings else {})
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


def _run_children(commands: dict[str, tuple[list[str], str | None]], env: dict[str, str],
                  grace: float) -> None:
    """Start the children in order (each once the previous serves), watch them, stop them all.

    Children run in their own process group, so a Ctrl-C reaches this process alone and is
    passed on once: the first lets running tasks finish (up to `grace` seconds), the second
    hands them back to the queue now."""
    children: dict[str, subprocess.Popen[bytes]] = {}
    signals: list[int] = []

    def on_signal(signum: int, frame: FrameType | None) -> None:
        signals.append(signum)
        note = stop_signal_note(signum, len(signals), grace)
        if note:
            log.info("%s", note)
        for child in _all_but_sandbox(children):
            child.send_signal(signum)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    for name, (command, ready_url) in commands.items():
        if signals:
            break
        children[name] = subprocess.Popen(command, env=env, process_group=0)
        if ready_url and not _wait_until_serving(ready_url, children):
            break
    else:
        if "sandbox" in children:
            log.info("no platform credentials: platform calls go to the sandbox at %s",
                     env["SANDBOX_URL"])
        log.info("Beat is up: API on %s (docs at /docs); Ctrl-C stops it",
                 (commands["server"][1] or "").removesuffix("/heartbeat"))
    while not signals and all(c.poll() is None for c in children.values()):
        time.sleep(0.2)
    _stop(children, signal.SIGTERM if not signals else None, grace)
    stopped = (0, -signal.SIGTERM, -signal.SIGINT)
    failed = [(name, c.returncode) for name, c in children.items() if c.returncode not in stopped]
    log.info("Beat stopped")
    if failed and not signals:
        raise RuntimeError(f"the {failed[0][0]} exited with code {failed[0][1]}")


def _all_but_sandbox(children: dict[str, subprocess.Popen[bytes]]
                     ) -> list[subprocess.Popen[bytes]]:
    return [c for n, c in children.items() if n != "sandbox" and c.poll() is None]


def _stop(children: dict[str, subprocess.Popen[bytes]], signum: int | None,
          grace: float) -> None:
    """Workers and server first (sent `signum` unless a signal was passed on already), the
    sandbox last: running tasks may still call it."""
    first = _all_but_sandbox(children)
    if signum is not None:
        for child in first:
            child.send_signal(signum)
    _wait_or_kill(first, grace + 30)
    sandbox = [c for n, c in children.items() if n == "sandbox" and c.poll() is None]
    for child in sandbox:
        child.send_signal(signal.SIGTERM)
    _wait_or_kill(sandbox, 30)


def _wait_or_kill(children: list[subprocess.Popen[bytes]], timeout: float) -> None:
    for child in children:
        try:
            child.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            log.error("pid %d did not stop in %.0fs: killing it", child.pid, timeout)
            child.kill()
            child.wait()
