"""Embedded PostgreSQL from pgserver's bundled binaries, run as a non-root user when needed."""

from __future__ import annotations

import logging
import os
import pwd
import shlex
import stat
import subprocess
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from core.embedded.base import (
    _START_TIMEOUT_S,
    _STOP_TIMEOUT_S,
    PG_OS_USER,
    _EmbeddedServer,
    _package_dir,
    _process,
    _run,
    _socket_dir,
    _terminate,
)

logger = logging.getLogger(__name__)




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

