"""The asset flows: download one image (or a page's og:image), compress it and store it under
its content address, then log it, put its URL on the item it belongs to and announce it.
`asset_upload_flow` takes post and profile images, `asset_upload_flow_stories` the short-lived
story media on workers of their own (so a backlog of one never delays the other); process x
concurrency defaults are 15 x 5 and 5 x 5. A refused URL or an unusable image fails at once
(kinds `refused`, `bad_image`, `not_found`); network trouble is retried."""

from typing import Any

from pydantic import Field, model_validator

from assets.record import Entity, attach_hook, record_failed, record_stored
from assets.service import AssetService
from core.config import Settings
from core.errors import BeatError
from core.flows import StrictParams, TaskContext, flow

PLATFORM = "ASSETS"
_services: dict[int, tuple[Settings, AssetService]] = {}


class AssetParams(StrictParams):
    """The image (or page) URL, and optionally the item it belongs to: platform, kind and id
    as the URL router gives them (`beat links --resolve-only`)."""

    url: str = Field(min_length=8, max_length=4096, pattern=r"^[hH][tT][tT][pP][sS]?://")
    platform: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,31}$")
    kind: str | None = Field(default=None, pattern=r"^[a-z_]{1,32}$")
    id: str | None = Field(default=None, min_length=1, max_length=512)

    @model_validator(mode="after")
    def _all_or_none(self) -> "AssetParams":
        given = [v is not None for v in (self.platform, self.kind, self.id)]
        if any(given) and not all(given):
            raise ValueError("give platform, kind and id together, or none of them")
        return self

    def entity(self) -> Entity | None:
        if self.platform and self.kind and self.id:
            return Entity(self.platform.lower(), self.kind, self.id)
        return None


def service(settings: Settings) -> AssetService:
    """One per process and settings: its HTTP connections and S3 client are reused."""
    if id(settings) not in _services:
        _services[id(settings)] = (settings, AssetService(settings))
    return _services[id(settings)][1]


async def upload(params: AssetParams, ctx: TaskContext) -> dict[str, Any]:
    entity = params.entity()
    try:
        if entity is not None:
            attach_hook(ctx.settings, entity.platform)  # an unknown platform: before any fetch
        asset = await service(ctx.settings).store_asset(params.url)
        attached = await record_stored(ctx.pool, ctx.settings, asset, entity, ctx.task_id)
    except BeatError as exc:
        await record_failed(ctx.pool, params.url, entity, exc, ctx.task_id)
        raise
    return {**asset.summary(), "url": asset.url, "sha256": asset.sha256,
            "created": asset.created, "source_bytes": asset.source_bytes, "attached": attached}


@flow("asset_upload_flow", AssetParams, platform=PLATFORM, processes=15, concurrency=5,
      max_attempts=3, timeout_s=120)
async def asset_upload_flow(params: AssetParams, ctx: TaskContext) -> dict[str, Any]:
    """One post or profile image: download, compress, store, attach to its item."""
    return await upload(params, ctx)


@flow("asset_upload_flow_stories", AssetParams, platform=PLATFORM, processes=5, concurrency=5,
      max_attempts=3, timeout_s=120)
async def asset_upload_flow_stories(params: AssetParams, ctx: TaskContext) -> dict[str, Any]:
    """One story's media, on workers of its own: download, compress, store, attach."""
    return await upload(params, ctx)
