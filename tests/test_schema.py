"""schema.sql is generated from the Alembic migrations; the two must never disagree."""

import asyncio
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from core import db
from tests.conftest import admin, url_for

SCHEMA_FILE = Path(__file__).parent.parent / "schema.sql"

CATALOG = """
SELECT 'column' AS kind, table_name || '.' || column_name || ' ' || data_type || ' '
       || is_nullable || ' ' || coalesce(column_default, '') AS item
  FROM information_schema.columns WHERE table_schema = 'public'
UNION ALL
SELECT 'index', indexdef FROM pg_indexes WHERE schemaname = 'public'
UNION ALL
SELECT 'view', viewname || ' ' || definition FROM pg_views WHERE schemaname = 'public'
UNION ALL
SELECT 'constraint', conrelid::regclass || ' ' || pg_get_constraintdef(oid)
  FROM pg_constraint WHERE connamespace = 'public'::regnamespace
UNION ALL
SELECT 'option', relname || ' ' || array_to_string(reloptions, ',')
  FROM pg_class WHERE relnamespace = 'public'::regnamespace AND reloptions IS NOT NULL
UNION ALL
SELECT 'function', pg_get_functiondef(oid) FROM pg_proc WHERE pronamespace = 'public'::regnamespace
ORDER BY 1, 2
"""


def test_schema_sql_is_what_the_migrations_generate() -> None:
    assert SCHEMA_FILE.read_text() == db.schema_sql(), \
        "schema.sql is stale: regenerate it with `beat migrate --sql > schema.sql`"


@pytest.fixture
def empty_database() -> Iterator[str]:
    name = f"beat_schema_check_{uuid.uuid4().hex[:8]}"
    admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin(f"CREATE DATABASE {name}")
    yield url_for(name)
    admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


async def catalog(url: str) -> list[tuple[str, str]]:
    conn = await asyncpg.connect(url)
    try:
        return [(r["kind"], r["item"]) for r in await conn.fetch(CATALOG)]
    finally:
        await conn.close()


async def test_schema_sql_builds_the_same_database_as_the_migrations(
        empty_database: str, database_url: str) -> None:
    # As an operator applies it: psql sends one statement at a time, so the indexes built
    # CONCURRENTLY (outside the file's transaction) are built as the migration builds them.
    await asyncio.to_thread(
        subprocess.run, ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", empty_database,
                         "-f", str(SCHEMA_FILE)], check=True, capture_output=True, timeout=120)
    from_file, migrated = await catalog(empty_database), await catalog(database_url)
    assert ("column", "scrape_request_log.lease_until timestamp with time zone YES ") in migrated
    assert any(kind == "function" and "beat_changed_fields" in item for kind, item in migrated)
    assert from_file == migrated


async def test_out_of_date_schema_is_refused_with_one_line(empty_database: str) -> None:
    with pytest.raises(db.SchemaOutOfDate, match="run `beat migrate`"):
        await db.check_schema(empty_database)


def test_the_head_read_from_the_files_is_alembics() -> None:
    """Commands read the newest migration without importing Alembic (half a second each)."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(db.alembic_config("postgresql://x/x"))
    assert db.head_revision() == script.get_current_head()
