"""Shared plumbing of the embedded servers: pid handles, locking, process and socket helpers."""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import hashlib
import importlib.util
import json
import logging
import os
import shlex
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import psutil

logger = logging.getLogger(__name__)

PG_OS_USER = "pgserver"  # the OS user PostgreSQL runs as when we are root (pgserver's own choice)
_SOCKET_PATH_MAX = 100  # sun_path holds 108 bytes on Linux, 104 on macOS
_START_TIMEOUT_S = 60.0
_STOP_TIMEOUT_S = 30.0




# --- shared plumbing ------------------------------------------------------------------------


@contextlib.contextmanager
def _locked(lock_file: Path) -> Iterator[None]:
    """Hold an exclusive flock on lock_file (serialises start/stop across processes and threads)."""
    with open(lock_file, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _live_pids(handles_file: Path) -> list[int]:
    """Pids recorded in handles_file whose process still exists (one entry per open handle)."""
    try:
        pids: list[int] = json.loads(handles_file.read_text())
    except (FileNotFoundError, ValueError):
        return []
    return [pid for pid in pids if psutil.pid_exists(pid)]


def _write_pids(handles_file: Path, pids: list[int]) -> None:
    tmp = handles_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(pids))
    tmp.replace(handles_file)


def _process(pid: int, name: str, cwd: Path) -> psutil.Process | None:
    """The live process pid if it is executable name running in cwd, else None (guards pid reuse:
    PostgreSQL chdirs to its data dir and redis-server to its ``dir``)."""
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE or process.name() != name:
            return None
        return process if Path(process.cwd()) == cwd.resolve() else None
    except psutil.Error:
        return None


def _wait_gone(process: psutil.Process, timeout: float) -> bool:
    """Wait until process has exited; a zombie counts as gone (a daemon's reaper may be slow)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if process.status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.02)
    return False


def _socket_dir(preferred: Path, socket_name: str, owner: tuple[int, int] | None) -> Path:
    """preferred if a socket path in it fits in sun_path, else a private dir under the tempdir."""
    if len(str(preferred / socket_name)) <= _SOCKET_PATH_MAX:
        return preferred
    digest = hashlib.sha256(str(preferred).encode()).hexdigest()[:16]
    fallback = Path(tempfile.gettempdir()) / f"beat-{digest}"
    fallback.mkdir(mode=0o700, exist_ok=True)
    if owner is not None:
        os.chown(fallback, *owner)
    info = fallback.stat()
    if info.st_uid != (owner[0] if owner else os.geteuid()) or info.st_mode & 0o077:
        raise RuntimeError(f"socket directory {fallback} is not private to its owner; remove it")
    return fallback


def _run(command: list[str], **kwargs: Any) -> None:
    """Run command, raising with its output on failure. Output goes to a temp file, not a pipe:
    a server it spawns would inherit the pipe and block the read (pg_ctl start)."""
    with tempfile.TemporaryFile() as output:
        result = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=output,
                                stderr=subprocess.STDOUT, cwd="/", timeout=_START_TIMEOUT_S + 30,
                                check=False, **kwargs)
        if result.returncode:
            output.seek(0)
            text = output.read().decode(errors="replace")[-4000:]
            raise RuntimeError(f"{shlex.join(command)} failed ({result.returncode}):\n{text}")


def _package_dir(name: str) -> Path:
    """Where package name is installed, found without importing it (import has side effects)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the {name!r} package is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


class _EmbeddedServer:
    """Start-or-attach / detach-or-stop lifecycle: the last live process using a server stops it.

    Users are recorded in ``<dir>/handles.json`` under ``<dir>/.lock``; pids of dead processes are
    ignored, so a crashed user never keeps a server alive, and an orphaned server is adopted.
    """

    kind = "server"

    def __init__(self, directory: Path) -> None:
        self.directory = directory.expanduser().resolve()
        self.url: str | None = None
        self._pid: int | None = None

    def start(self) -> str:
        """Start the server (or attach to the one already running for this directory); its URL."""
        if self.url is not None:
            return self.url
        self.directory.mkdir(parents=True, exist_ok=True)
        began = time.monotonic()
        with _locked(self.directory / ".lock"):
            url = self._running_url()
            if url is None:
                url = self._launch()
                logger.info("started embedded %s in %s (%.1fs): %s",
                            self.kind, self.directory, time.monotonic() - began, url)
            else:
                logger.info("attached to running embedded %s in %s: %s",
                            self.kind, self.directory, url)
            handles = self.directory / "handles.json"
            _write_pids(handles, _live_pids(handles) + [os.getpid()])
        self.url, self._pid = url, os.getpid()
        atexit.register(self.stop)
        return url

    def stop(self) -> None:
        """Release this handle; shut the server down if no other live process still uses it."""
        if self.url is None or self._pid != os.getpid():  # not started, or a forked child
            return
        atexit.unregister(self.stop)
        self.url = None
        with _locked(self.directory / ".lock"):
            handles = self.directory / "handles.json"
            pids = _live_pids(handles)
            if os.getpid() in pids:
                pids.remove(os.getpid())
            _write_pids(handles, pids)
            if pids:
                logger.info("embedded %s in %s left running for pids %s",
                            self.kind, self.directory, pids)
            else:
                self._shutdown()
                logger.info("stopped embedded %s in %s", self.kind, self.directory)

    def _running_url(self) -> str | None:
        raise NotImplementedError

    def _launch(self) -> str:
        raise NotImplementedError

    def _shutdown(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

def _terminate(pid: int, name: str, cwd: Path) -> None:
    """SIGTERM, then SIGKILL after _STOP_TIMEOUT_S, the process pid if it is still ours."""
    process = _process(pid, name, cwd)
    if process is None:
        return
    process.send_signal(signal.SIGTERM)
    if not _wait_gone(process, _STOP_TIMEOUT_S):
        process.kill()
        _wait_gone(process, 5)
