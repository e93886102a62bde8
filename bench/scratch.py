"""What every benchmark shares: a scratch database `<db>_bench` next to the configured one,
migrated, dropped after the run; real Beat processes started and stopped around a measurement."""

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import asyncpg
from cryptography.fernet import Fernet

from core import db


def _scratch_name(url: str) -> tuple[str, str]:
    base, _, name = db.asyncpg_dsn(url).partition("?")[0].rpartition("/")
    return base, f"{name}_bench"


async def _admin(url: str, *statements: str) -> None:
    conn = await asyncpg.connect(db.asyncpg_dsn(url))
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()

# The scratch database holds no real credential: without a secret key of the user's, one key
# made for this run lets its processes start (they require one with a database server).
THROWAWAY_KEY = {"BEAT_SECRET_KEY": Fernet.generate_key().decode()}


@contextmanager
def scratch_database(url: str) -> Iterator[str]:
    """A fresh, migrated database on the same server (same query string), dropped afterwards."""
    base, bench = _scratch_name(url)
    drop = f'DROP DATABASE IF EXISTS "{bench}" WITH (FORCE)'
    asyncio.run(_admin(url, drop, f'CREATE DATABASE "{bench}"'))
    query = db.asyncpg_dsn(url).partition("?")[2]
    scratch = f"{base}/{bench}" + (f"?{query}" if query else "")
    try:
        db.migrate(scratch)
        yield scratch
    finally:
        asyncio.run(_admin(url, drop))


RUN_PREFIX = f"beat-bench:{uuid.uuid4().hex[:8]}"


@contextmanager
def beat_process(*args: str, prefix: Sequence[str] = (),
                 **env: str) -> Iterator[subprocess.Popen[bytes]]:
    """`beat ARGS` with extra environment, quiet unless it fails; SIGTERM on the way out. The
    processes of one benchmark run share rate-limit counts of their own (a scratch database's
    credential ids restart at 1: counts under the default prefix would carry over). `prefix`
    runs it through another command that execs it (`ip netns exec NS`: bench/netns.py)."""
    process = subprocess.Popen([*prefix, sys.executable, "-m", "core.cli", *args],
                               env={**THROWAWAY_KEY, **os.environ, "LOG_LEVEL": "WARNING",
                                    "RATE_LIMIT_PREFIX": RUN_PREFIX, **env})
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def rounded(line: dict[str, Any]) -> dict[str, Any]:
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in line.items()}
