"""The sandbox's own control API under /_sandbox/ (never faulted, never counted):

    GET    /_sandbox/faults              faults in force, by path prefix
    POST   /_sandbox/faults              set the faults of one prefix (JSON: Faults)
    DELETE /_sandbox/faults[?prefix=P]   clear all faults (or one prefix's)
    GET    /_sandbox/usage               calls per route, statuses, faults injected, quota per key
    POST   /_sandbox/quota               {"key"?, "limit"?, "used"?, "reset"?, "throttle_s"?}:
                                         change key quotas; throttle_s > 0 makes the key get 429
    POST   /_sandbox/reset               counts, quotas and faults back to how the app started
    GET    /_sandbox/world               seed, channels, playlists and example ids
"""

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from sandbox.faults import Faults
from sandbox.state import state_of

router = APIRouter(prefix="/_sandbox")


class QuotaChange(BaseModel):
    """Without `key`: applies to every key. `reset` zeroes used units before the rest."""

    key: str | None = None
    limit: int | None = Field(default=None, ge=0)
    used: int | None = Field(default=None, ge=0)
    reset: bool = False
    throttle_s: float | None = Field(default=None, ge=0, description="> 0: answer 429")


@router.get("/faults")
async def get_faults(request: Request) -> dict[str, Any]:
    scopes = state_of(request).faults.scopes
    return {"scopes": [faults.model_dump() for faults in scopes.values()]}


@router.post("/faults")
async def set_faults(request: Request, faults: Faults) -> dict[str, Any]:
    state_of(request).faults.set(faults)
    return await get_faults(request)


@router.delete("/faults")
async def clear_faults(request: Request, prefix: str | None = None) -> dict[str, Any]:
    state_of(request).faults.clear(prefix)
    return await get_faults(request)


@router.get("/usage")
async def usage(request: Request) -> dict[str, Any]:
    state = state_of(request)
    return {**state.usage.snapshot(), "quota": state.quota.snapshot()}


@router.post("/quota")
async def change_quota(request: Request, change: QuotaChange) -> dict[str, Any]:
    quota = state_of(request).quota
    keys = [change.key] if change.key else list(quota.keys)
    for key in keys:
        if change.reset:
            quota.reset(key)
        quota.set(key, change.limit, change.used, change.throttle_s)  # adds an unknown key
    return quota.snapshot()


@router.post("/reset")
async def reset(request: Request) -> dict[str, Any]:
    state_of(request).reset()
    return await usage(request)


@router.get("/world")
async def world(request: Request) -> dict[str, Any]:
    world = state_of(request).world
    examples = {
        "hidden_likes_video": world.find_videos(hidden_likes=True, limit=1)[0].video_id,
        "comments_disabled_video": world.find_videos(comments_disabled=True,
                                                     limit=1)[0].video_id,
    }
    return {
        "seed": world.seed, "now": world.now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "big_channel": world.big_channel().channel_id, "examples": examples,
        "channels": [{"channel_id": c.channel_id, "handle": c.handle, "title": c.title,
                      "video_count": c.video_count, "uploads": c.uploads_playlist_id,
                      "hidden_subscribers": c.hidden_subscribers} for c in world.channels],
        "playlists": [{"playlist_id": p.playlist_id, "channel_id": p.channel_id,
                       "video_count": len(p.video_ids)} for p in world.playlists],
    }
