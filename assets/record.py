"""What the flows write after each asset: an asset_log row (stored or failed, why), the stored
URL on the item's own row through its platform's `attach_asset` hook, and an `asset.stored`
event in the outbox, all in one transaction (an event exists exactly when its row does)."""

import json
from dataclasses import dataclass
from typing import Any

import asyncpg

from assets.service import StoredAsset
from core import metrics
from core.config import Settings
from core.errors import BadParams, kind_of
from core.platforms import UnknownPlatform, get, load_attribute

EVENT = "asset.stored"


@dataclass(frozen=True, slots=True)
class Entity:
    """The item an asset belongs to, as the URL router names it."""

    platform: str
    kind: str
    id: str


INSERT_STORED = """
INSERT INTO asset_log (source_url, final_url, platform, entity_kind, entity_id, key, url, bytes,
                       source_bytes, width, height, content_type, sha256, status, created,
                       task_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'STORED', $14, $15)
RETURNING id
"""
INSERT_FAILED = """
INSERT INTO asset_log (source_url, platform, entity_kind, entity_id, status, error, error_kind,
                       task_id)
VALUES ($1, $2, $3, $4, 'FAILED', $5, $6, $7)
"""
INSERT_EVENT = """
INSERT INTO event_outbox (type, platform, entity_key, changes, source)
VALUES ($1, $2, $3, $4::jsonb, 'assets')
"""


def attach_hook(settings: Settings, platform: str) -> Any:
    """The platform's attach_asset function (None when it has none); BadParams for a platform
    Beat does not know."""
    try:
        spec = get(settings, platform).attach_asset
    except UnknownPlatform as exc:
        raise BadParams(str(exc)) from None
    return load_attribute(spec) if spec else None


async def record_stored(pool: asyncpg.Pool, settings: Settings, asset: StoredAsset,
                        entity: Entity | None, task_id: int | None) -> int:
    """Log the stored asset, attach it to its item and write its event; the rows attached."""
    hook = attach_hook(settings, entity.platform) if entity else None
    async with pool.acquire() as conn, conn.transaction():
        log_id = await conn.fetchval(
            INSERT_STORED, asset.source_url, asset.final_url,
            entity and entity.platform, entity and entity.kind, entity and entity.id,
            asset.key, asset.url, asset.bytes, asset.source_bytes, asset.width, asset.height,
            asset.content_type, asset.sha256, asset.created, task_id)
        attached = await hook(conn, entity.kind, entity.id, asset.url) if hook and entity else 0
        changes = {"asset_log_id": log_id, "key": asset.key, "url": asset.url,
                   "bytes": asset.bytes, "width": asset.width, "height": asset.height,
                   "sha256": asset.sha256, "created": asset.created,
                   "source_url": asset.source_url, "attached": attached,
                   "entity": None if entity is None else
                   {"platform": entity.platform, "kind": entity.kind, "id": entity.id}}
        await conn.execute(INSERT_EVENT, EVENT, entity and entity.platform, asset.key,
                           json.dumps(changes))
    if asset.created:  # bytes newly stored (a known hash stores nothing)
        metrics.asset_stored(entity.platform if entity else None, asset.bytes)
    return int(attached)


async def record_failed(pool: asyncpg.Pool, url: str, entity: Entity | None,
                        error: BaseException, task_id: int | None) -> None:
    await pool.execute(INSERT_FAILED, url, entity and entity.platform, entity and entity.kind,
                       entity and entity.id, str(error)[:2000], kind_of(error), task_id)
