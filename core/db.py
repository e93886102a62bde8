"""Database URLs, connection pools and schema migrations (Alembic) for Beat."""

import asyncio
import io
import json
import logging
import re
from contextlib import redirect_stdout
from functools import cache
from pathlib import Path
from typing import Any

import asyncpg

import migrations

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(migrations.__file__).parent

# Errors after which a loop talking to the database waits and tries again: the network, a
# timeout, anything the server answers, a closed connection, and a connection left in a state
# it cannot leave (InternalClientError and its subclasses, e.g. "cannot switch to state ..."
# when the server goes away in the middle of an operation).
DB_ERRORS: tuple[type[BaseException], ...] = (
    OSError, asyncio.TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError,
    asyncpg.InternalClientError)
# The narrower set that means the database could not be reached at all (not an error of what
# was asked): a listener requeues its message on these, and counts anything else as a failure.
DB_UNREACHABLE: tuple[type[BaseException], ...] = (
    OSError, asyncio.TimeoutError, asyncpg.InterfaceError, asyncpg.InternalClientError,
    asyncpg.PostgresConnectionError, asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError)


class SchemaOutOfDate(RuntimeError):
    """The database schema is not at the latest migration: run `beat migrate`."""


def asyncpg_dsn(url: str) -> str:
    """A DSN for asyncpg from any spelling of a PostgreSQL URL (postgres://, +asyncpg, ...)."""
    scheme, sep, rest = url.partition("://")
    if not sep or not scheme.startswith("postgres"):
        raise ValueError("DATABASE_URL is not a PostgreSQL URL (postgresql://user:password@host:"
                         "port/database)")  # never echo it: it holds the password
    return "postgresql://" + rest


def sqlalchemy_url(url: str) -> str:
    return "postgresql+asyncpg://" + asyncpg_dsn(url).partition("://")[2]


def alembic_config(url: str) -> Any:
    """Alembic's config for `url` (Alembic is imported here, not at start-up: it costs every
    `beat` command half a second)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(url).replace("%", "%%"))
    return config


_REVISION = re.compile(r'^(down_)?revision\s*=\s*"([^"]*)"', re.MULTILINE)


@cache
def head_revision() -> str:
    """The newest migration: the one no other revises (read from the files, without Alembic;
    a test checks it against Alembic's own answer)."""
    revised: set[str] = set()
    revisions: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        for down, value in _REVISION.findall(path.read_text()):
            (revised if down else revisions).add(value)
    heads = revisions - revised
    assert len(heads) == 1, f"the migrations have {len(heads)} heads: {sorted(heads)}"
    return heads.pop()


def migrate(url: str) -> None:
    """Apply every pending migration (blocking; call from sync code or a thread)."""
    from alembic import command

    command.upgrade(alembic_config(url), "head")


def schema_sql() -> str:
    """The SQL the migrations run, from Alembic's offline mode (what schema.sql holds)."""
    from alembic import command

    buffer = io.StringIO()
    with redirect_stdout(buffer):
        command.upgrade(alembic_config("postgresql://beat@localhost/beat"), "head", sql=True)
    return buffer.getvalue()


async def current_revision(conn: asyncpg.Connection) -> str | None:
    exists = await conn.fetchval("SELECT to_regclass('alembic_version') IS NOT NULL")
    if not exists:
        return None
    version: str | None = await conn.fetchval("SELECT version_num FROM alembic_version")
    return version


async def check_schema(url: str) -> None:
    """Raise SchemaOutOfDate unless the database is at the head migration."""
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        current = await current_revision(conn)
    finally:
        await conn.close()
    head = head_revision()
    if current != head:
        raise SchemaOutOfDate(
            f"database schema is at {current or 'nothing'}, Beat needs {head}: run `beat migrate`")


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _reset_if_in_transaction(conn: asyncpg.Connection) -> None:
    """A released connection is reset only when it is still inside a transaction (a run
    cancelled mid-statement): the full reset is a round trip on every release, and the
    worker's own statements leave no session state behind."""
    if conn.is_in_transaction():
        await conn.reset()


async def create_pool(url: str, min_size: int = 1, max_size: int = 4,
                      light_reset: bool = False) -> asyncpg.Pool:
    """A pool with the jsonb codec. `light_reset` skips asyncpg's reset round trip on release
    unless a transaction is open: for pools whose users change no session state (no SET,
    LISTEN or session advisory locks; SET LOCAL inside a transaction is fine)."""
    # Queue tables swing from empty to millions of rows within seconds; a generic plan made
    # while the table was small (a seq scan + sort for the claim) would stay cached until the
    # next ANALYZE. Custom plans cost a fraction of a millisecond and always fit the data.
    pool = await asyncpg.create_pool(asyncpg_dsn(url), min_size=min_size, max_size=max_size,
                                     init=_init_connection,
                                     reset=_reset_if_in_transaction if light_reset else None,
                                     server_settings={"plan_cache_mode": "force_custom_plan"})
    assert pool is not None
    return pool


async def close_pool(pool: asyncpg.Pool, wait_s: float = 10.0) -> None:
    """Close `pool`, or cut its connections when something still holds one after `wait_s`
    seconds (a run that would not stop): a stopping process must not wait on it."""
    try:
        await asyncio.wait_for(pool.close(), wait_s)
    except TimeoutError:
        log.warning("database connections still in use at exit: closing them")
        pool.terminate()
