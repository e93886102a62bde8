"""The raw ceiling for `beat bench queue --against bare`: a minimal table and a bare
`FOR UPDATE SKIP LOCKED` claim + complete loop on a few connections, with no queue features
(no leases, retries, timeouts, results or logging). Measured on the same database as Beat."""

import asyncio
import time
from typing import Any

import asyncpg

SCHEMA = "bench_bare"
CONNECTIONS = 4
BATCH = 100

CLAIM = f"""
UPDATE {SCHEMA}.job SET status = 'PROCESSING'
 WHERE id IN (SELECT id FROM {SCHEMA}.job WHERE status = 'PENDING'
               ORDER BY priority DESC, id LIMIT $1 FOR UPDATE SKIP LOCKED)
RETURNING id
"""
COMPLETE = f"UPDATE {SCHEMA}.job SET status = 'COMPLETE' WHERE id = ANY($1::bigint[])"


async def _install(conn: asyncpg.Connection, jobs: int) -> None:
    await conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    await conn.execute(f"CREATE SCHEMA {SCHEMA}")
    await conn.execute(f"CREATE TABLE {SCHEMA}.job (id bigserial PRIMARY KEY, "
                       "status text NOT NULL DEFAULT 'PENDING', priority int NOT NULL DEFAULT 1)")
    await conn.execute(f"CREATE INDEX ON {SCHEMA}.job (priority DESC, id) "
                       "WHERE status = 'PENDING'")
    await conn.execute(f"INSERT INTO {SCHEMA}.job (priority) SELECT 1 FROM generate_series(1, $1)",
                       jobs)
    await conn.execute(f"ANALYZE {SCHEMA}.job")


async def _loop(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    done = 0
    try:
        while rows := await conn.fetch(CLAIM, BATCH):
            await conn.execute(COMPLETE, [r["id"] for r in rows])
            done += len(rows)
    finally:
        await conn.close()
    return done


async def bench_bare(dsn: str, jobs: int) -> dict[str, Any]:
    conn = await asyncpg.connect(dsn)
    try:
        await _install(conn, jobs)
        started = time.perf_counter()
        done = sum(await asyncio.gather(*(_loop(dsn) for _ in range(CONNECTIONS))))
        seconds = time.perf_counter() - started
        await conn.execute(f"DROP SCHEMA {SCHEMA} CASCADE")
    finally:
        await conn.close()
    if done != jobs:
        raise RuntimeError(f"bare: drained {done} of {jobs} jobs")
    return {"system": "bare", "jobs": jobs, "seconds": seconds, "jobs_per_s": jobs / seconds}
