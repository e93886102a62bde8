"""The stored state of a batch's entities, read from PostgreSQL through each platform's
`entity_tables` in one query per platform and kind the batch holds.

The state is the row as it is when the sink reads it (just before writing the batch). Its
write time (`stored_at`) is the event's `occurred_at` when nothing wrote the entity since: both
are now() of the transaction that stored the change and wrote the event. When the entity was
written again in between, the row is that later state, with that later time: a row never
pairs a state with a time it did not hold at."""

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg

from core.clickhouse.rows import EntityEvent, StoredState, split_values
from core.entities import EntityTable
from core.platforms import Platform

Key = tuple[str, str, str]  # platform, kind, entity key


async def stored_states(pool: asyncpg.Pool, platforms: Mapping[str, Platform],
                        events: Sequence[EntityEvent]) -> dict[Key, StoredState]:
    """The stored state of each event's entity, by (platform, kind, key); entities of a kind
    their platform declares no table for, and entities no longer stored, are missing."""
    wanted: dict[tuple[str, str], set[str]] = defaultdict(set)
    for event in events:
        wanted[(event.platform, event.kind)].add(event.entity_key)
    found: dict[Key, StoredState] = {}
    for (name, kind), keys in wanted.items():
        platform = platforms.get(name)
        table = platform.entity_tables.get(kind) if platform else None
        if platform is None or table is None:
            continue
        for record in await pool.fetch(table.rows_sql(), sorted(keys)):
            found[(name, kind, record[0])] = _state(platform, kind, table, list(record))
    return found


def _state(platform: Platform, kind: str, table: EntityTable, record: list[Any]) -> StoredState:
    width = len(table.metrics)
    metrics, _ = split_values(dict(zip(table.metrics, record[3:3 + width])))
    _, texts = split_values(dict(zip(table.texts, record[3 + width:])))
    if kind == "profile" and platform.followers_metric in metrics:
        # The audience count under its cross-platform name too (YouTube's subscribers).
        metrics.setdefault("followers", metrics[platform.followers_metric])
    return StoredState(record[1], record[2] or "", metrics, texts)
