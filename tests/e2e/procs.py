"""Run real `beat worker` / `beat server` processes for end-to-end tests.

Each process writes stdout and stderr to its own log file; `Launcher.stop_all()` (called by the
test fixture) stops what it started and prints the logs, which pytest shows when a test fails.
Processes are only ever signalled by the pids this module started (and, as a last resort when a
supervisor has to be SIGKILLed, the children that supervisor forked), never by name.
"""

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

import asyncpg
import httpx
import psutil

from core.config import Settings
from core.db import asyncpg_dsn
from tests import beat_cli

ROOT = Path(__file__).resolve().parents[2]
FLOW_MODULES = '["tests.e2e.flows"]'
# Every environment variable Beat reads: cleared first so the caller's shell cannot leak in.
SETTING_NAMES = {name.upper() for name in Settings.model_fields}


def beat_command() -> list[str]:
    script = Path(sys.executable).with_name("beat")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "core.cli"]


def beat_env(database_url: str, **settings: object) -> dict[str, str]:
    """The environment for a Beat process: ours minus Beat settings, plus the given ones."""
    env = {k: v for k, v in os.environ.items() if k.upper() not in SETTING_NAMES}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    env["DATABASE_URL"] = database_url
    env["FLOW_MODULES"] = FLOW_MODULES
    env["LOG_LEVEL"] = "INFO"
    env["LOG_FORMAT"] = "text"  # the tests read the log lines as text
    env["BEAT_SECRET_KEY"] = os.environ["BEAT_SECRET_KEY"]  # set by tests/conftest.py
    for key, value in settings.items():
        env[key.upper()] = str(value)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class BeatProcess:
    """One `beat ...` subprocess, its log file, and ways to wait on and stop it."""

    def __init__(self, name: str, args: Sequence[str], env: dict[str, str], log_path: Path,
                 cwd: Path, prefix: Sequence[str] = ()) -> None:
        self.name = name
        self.args = list(args)
        self.prefix = list(prefix)  # e.g. `ip netns exec NS`: it execs beat, so the pid is beat's
        self.env = env
        self.log_path = log_path
        self.cwd = cwd
        self.popen: subprocess.Popen[bytes] | beat_cli.Forked | None = None

    def start(self) -> "BeatProcess":
        # cwd is a scratch directory so no stray .env file is read; PYTHONPATH finds `tests`.
        if not self.prefix:  # forked from Beat already imported (tests/beat_cli.py)
            self.popen = beat_cli.spawn(self.args, self.env, self.cwd, self.log_path)
            return self
        with open(self.log_path, "ab") as log:
            self.popen = subprocess.Popen([*self.prefix, *beat_command(), *self.args], stdout=log,
                                          stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                          env=self.env, cwd=self.cwd)
        return self

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    @property
    def returncode(self) -> int | None:
        assert self.popen is not None
        return self.popen.poll()

    def alive(self) -> bool:
        return self.returncode is None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def children(self) -> list[int]:
        """Pids of the live (non-zombie) direct children of this process."""
        try:
            kids = psutil.Process(self.pid).children()
        except psutil.NoSuchProcess:
            return []
        alive = []
        for kid in kids:
            try:
                if kid.status() != psutil.STATUS_ZOMBIE:
                    alive.append(kid.pid)
            except psutil.NoSuchProcess:
                pass
        return sorted(alive)

    def started_children(self) -> dict[int, str]:
        """pid -> slot name, from the supervisor's `started <slot> (pid N)` log lines."""
        return {int(pid): slot for slot, pid in
                re.findall(r"started (\S+) \(pid (\d+)\)", self.log())}

    def fail(self, message: str) -> AssertionError:
        return AssertionError(f"{self.name}: {message}\n--- log of {self.name} "
                              f"(pid {self.popen.pid if self.popen else '-'}) ---\n"
                              f"{tail(self.log())}")

    async def wait_log(self, pattern: str, count: int = 1, timeout: float = 30) -> list[str]:
        """Wait until the log holds `count` matches of the regex; fail if the process exits."""
        deadline = time.monotonic() + timeout
        while True:
            found = re.findall(pattern, self.log())
            if len(found) >= count:
                return found
            if not self.alive():
                raise self.fail(f"exited with {self.returncode} while waiting for {pattern!r}")
            if time.monotonic() > deadline:
                raise self.fail(f"{pattern!r} seen {len(found)}/{count} times in {timeout}s")
            await asyncio.sleep(0.05)

    async def wait_exit(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while self.returncode is None:
            if time.monotonic() > deadline:
                raise self.fail(f"still running {timeout}s later")
            await asyncio.sleep(0.02)
        code = self.returncode
        assert code is not None
        return code

    def signal(self, sig: int) -> None:
        if self.alive():
            os.kill(self.pid, sig)

    def stop(self, timeout: float = 20) -> int:
        """SIGTERM, then SIGKILL after `timeout` (and SIGKILL the children it left behind)."""
        if self.popen is None:
            return 0
        if self.alive():
            descendants = _descendants(self.pid)
            os.kill(self.pid, signal.SIGTERM)
            try:
                return self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                descendants += _descendants(self.pid)
                os.kill(self.pid, signal.SIGKILL)
                self.popen.wait(10)
                for proc in descendants:  # forked by the process we started: ours to clean up
                    try:
                        proc.kill()
                    except psutil.NoSuchProcess:
                        pass
        code = self.popen.wait()
        return code


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return list(psutil.Process(pid).children(recursive=True))
    except psutil.NoSuchProcess:
        return []


def tail(text: str, lines: int = 150) -> str:
    rows = text.splitlines()
    skipped = len(rows) - lines
    return "\n".join(([f"... {skipped} lines skipped ..."] if skipped > 0 else []) + rows[-lines:])


class Launcher:
    """Starts Beat processes against one database; remembers them to stop them at the end."""

    def __init__(self, database_url: str, workdir: Path) -> None:
        self.database_url = database_url
        self.workdir = workdir
        self.started: list[BeatProcess] = []
        # Its processes' rate limits and quotas are their own: credential ids restart with each
        # test database, and counts under a shared prefix would carry over between them.
        self.rate_limit_prefix = f"beat-e2e:{uuid.uuid4().hex[:8]}"

    def env(self, database_url: str | None = None, **settings: object) -> dict[str, str]:
        settings.setdefault("RATE_LIMIT_PREFIX", self.rate_limit_prefix)
        return beat_env(database_url or self.database_url, **settings)

    def spawn(self, name: str, args: Sequence[str], env: dict[str, str],
              prefix: Sequence[str] = ()) -> BeatProcess:
        log_path = self.workdir / f"{name}-{len(self.started)}.log"
        proc = BeatProcess(name, args, env, log_path, self.workdir, prefix).start()
        self.started.append(proc)
        return proc

    def worker(self, flows: str, database_url: str | None = None, maintenance: bool = True,
               **settings: object) -> BeatProcess:
        args = ["worker", "--flows", flows] + ([] if maintenance else ["--no-maintenance"])
        settings.setdefault("WORKER_SHUTDOWN_GRACE", 5)  # keeps every teardown short
        return self.spawn("worker", args, self.env(database_url, **settings))

    def server(self, port: int, database_url: str | None = None,
               **settings: object) -> BeatProcess:
        args = ["server", "--host", "127.0.0.1", "--port", str(port)]
        return self.spawn("server", args, self.env(database_url, **settings))

    def stop_all(self) -> None:
        for proc in reversed(self.started):
            proc.stop()
        for proc in self.started:
            print(f"--- log of {proc.name} (pid {proc.pid}, exit {proc.returncode}) ---")
            print(tail(proc.log()))


async def wait_worker_ready(proc: BeatProcess, database_url: str, workers: int,
                            timeout: float = 30) -> None:
    """Ready: `workers` worker processes logged their start and as many LISTEN connections are
    open on the database (the listener runs `LISTEN` then `SELECT 1` every second)."""
    await proc.wait_log(r"worker \S+ started: flows", workers, timeout)
    deadline = time.monotonic() + timeout
    database = asyncpg_dsn(database_url).rpartition("/")[2].partition("?")[0]
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        while True:
            listeners = await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> "
                "pg_backend_pid() AND (query ILIKE 'LISTEN%' OR query = 'SELECT 1')", database)
            if listeners >= workers:
                return
            if not proc.alive():
                raise proc.fail(f"exited with {proc.returncode} before it was ready")
            if time.monotonic() > deadline:
                raise proc.fail(f"{listeners}/{workers} LISTEN connections after {timeout}s")
            await asyncio.sleep(0.05)
    finally:
        await conn.close()


async def wait_server_ready(proc: BeatProcess, port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2) as client:
        while True:
            try:
                answer = await client.get(f"http://127.0.0.1:{port}/heartbeat")
                if answer.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if not proc.alive():
                raise proc.fail(f"exited with {proc.returncode} before it answered")
            if time.monotonic() > deadline:
                raise proc.fail(f"GET /heartbeat did not answer 200 in {timeout}s")
            await asyncio.sleep(0.05)
