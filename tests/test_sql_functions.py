"""The SQL functions every store shares (migration 0007): the task.finished payload, which every
way a task finishes builds with it, and the [old, new] diff of change events, which the planner
inlines into each store statement (no function call per entity)."""

import json
from typing import Any

import asyncpg
import pytest

from core import db, sqlfile
from core.events import finished_tasks
from core.queue import sql
from youtube.store import SQL as YOUTUBE_SQL

PLATFORM_CASES = ["YOUTUBE", None, "NULL", "Insta,Gram", 'X "quoted"', "Ünïcode\\Back"]


@pytest.fixture
async def conn(database_url: str) -> Any:
    conn = await asyncpg.connect(db.asyncpg_dsn(database_url))
    yield conn
    await conn.close()


@pytest.mark.parametrize("old, new, changes", [
    (None, {"title": "a", "views": 5, "likes": None}, {"title": [None, "a"], "views": [None, 5]}),
    ({"title": "a", "views": 5}, {"title": "a", "views": 5}, {}),
    ({"title": "a", "views": 4}, {"title": "a", "views": 5}, {"views": [4, 5]}),
    ({"title": None, "views": 4}, {"title": "b", "views": 4}, {"title": [None, "b"]}),
    ({"title": "a", "views": 4}, {"title": None, "views": None},
     {"title": ["a", None], "views": [4, None]}),
    ({"title": "a", "flag": False}, {"title": "a", "flag": True, "untracked": 1},
     {"flag": [False, True]}),
    ({"tags": ["x"], "n": 1.5}, {"tags": ["x", "y"], "n": 1.5}, {"tags": [["x"], ["x", "y"]]}),
])
async def test_changed_fields_are_old_and_new_of_each_tracked_field_that_differs(
        conn: asyncpg.Connection, old: Any, new: Any, changes: dict[str, Any]) -> None:
    found = await conn.fetchval(
        "SELECT beat_changed_fields('{title,views,likes,flag,tags,n}', $1::jsonb, $2::jsonb)",
        None if old is None else json.dumps(old), json.dumps(new))
    assert json.loads(found) == changes


async def test_the_task_finished_payload_lowers_each_platform_and_carries_every_field(
        conn: asyncpg.Connection) -> None:
    count = len(PLATFORM_CASES)
    found = await conn.fetchval(
        "SELECT beat_task_finished_changes($1::bigint[], $2::text[], $3::text[], $4::text[], "
        "$5::int[], $6::text[], $7::text[], $8::text[])",
        list(range(count)), ["noop"] * count, PLATFORM_CASES, ["FAILED"] * count,
        [1] * count, ["acct"] * count, ["NotFound: gone"] * count, ["not_found"] * count)
    tasks = finished_tasks(json.loads(found))
    assert [t["platform"] for t in tasks] == [p.lower() if p else None for p in PLATFORM_CASES]
    assert tasks[0] == {"id": 0, "flow": "noop", "platform": "youtube", "status": "FAILED",
                        "attempt": 1, "account_id": "acct", "last_error": "NotFound: gone",
                        "error_kind": "not_found"}


async def plan(conn: asyncpg.Connection, query: str, types: list[str]) -> str:
    """The plan of `query` with NULL for each parameter (of `types`), as text."""
    params = f"({', '.join(types)})" if types else ""
    await conn.execute(f"PREPARE probe {params} AS {query}")
    try:
        nulls = f"({', '.join(['NULL'] * len(types))})" if types else ""
        rows = await conn.fetch(f"EXPLAIN (VERBOSE, COSTS OFF) EXECUTE probe {nulls}")
        return "\n".join(row[0] for row in rows)
    finally:
        await conn.execute("DEALLOCATE probe")


ACK_TYPES = ["bigint[]", "bigint[]", "text[]", "text[]", "text[]", "text[]", "float8[]", "int[]",
             "text"]


@pytest.mark.parametrize("query, types", [
    (sql("ack_batch"), ACK_TYPES),
    (sql("reap_expired_leases"), []),
    (sql("expire_pending"), []),
    (sql("cancel"), ["bigint"]),
])
async def test_every_way_a_task_finishes_builds_its_event_with_the_one_function(
        conn: asyncpg.Connection, query: str, types: list[str]) -> None:
    found = await plan(conn, query, types)
    assert "beat_task_finished_changes(" in found and "jsonb_build_object" not in found


STORE_TYPES = {
    "upsert_channels": ["text[]"] * 4 + ["timestamptz[]"] + ["text[]"] * 2 + ["bigint[]"] * 3
    + ["text[]"] * 3,
    "upsert_videos": ["text[]"] * 5 + ["timestamptz[]", "int[]"] + ["bigint[]"] * 3
    + ["bool[]"] + ["text[]"] * 6,
    "upsert_comments": ["text[]"] * 5 + ["bigint[]"] * 2 + ["timestamptz[]"] * 2 + ["text[]"] * 2,
}


@pytest.mark.parametrize("name", STORE_TYPES)
async def test_change_events_inline_the_diff_function(conn: asyncpg.Connection,
                                                      name: str) -> None:
    found = await plan(conn, sqlfile.load(YOUTUBE_SQL)[name], STORE_TYPES[name])
    assert "jsonb_object_agg" in found
    assert "beat_changed_fields" not in found, "the planner did not inline the function"
