"""YouTube read endpoints: stored profiles and videos, refreshed on demand when stale."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from core.api.deps import QueueDep
from core.api.errors import invalid
from core.api.freshness import (
    LiveLimits,
    fresh_or_refresh,
    is_fresh,
    live_limits,
    not_found,
    refresh_task,
    wait_for,
)
from core.queue import Queue
from core.validation import INT64_MAX, RowId, SafeStr, check_timestamp
from youtube.store import fetch_one, sql

router = APIRouter(tags=["youtube"])
PLATFORM = "YOUTUBE"

MaxAge = Annotated[float, Query(ge=0, le=30 * 86400,
                                description="Seconds stored data counts as fresh")]
Wait = Annotated[float, Query(ge=0, le=60, description="Seconds to wait for a refresh")]
ChannelId = Annotated[str, Path(pattern=r"^UC[0-9A-Za-z_-]{22}$")]
VideoId = Annotated[str, Path(pattern=r"^[0-9A-Za-z_-]{11}$")]
Handle = Annotated[str, Path(pattern=r"^@?[\w.·-]{3,30}$")]


def _pool(request: Request) -> Any:
    return request.app.state.queue.pool


def _live(request: Request, target: str) -> LiveLimits:
    return live_limits(request.app.state.settings, request.app.state.limiter, target)


async def _channel(request: Request, queue: Queue, channel_id: str, max_age: float,
                   wait: float) -> JSONResponse:
    return await fresh_or_refresh(
        queue, lambda: fetch_one(_pool(request), "channel_by_channel_id", channel_id),
        refresh_task("refresh_yt_profiles", PLATFORM, {"channel_ids": [channel_id]},
                     f"yt:profile:{channel_id}"), max_age, wait, _live(request, channel_id))


@router.get("/profiles/YOUTUBE/byhandle/{handle}")
async def profile_by_handle(handle: Handle, request: Request, queue: QueueDep,
                            max_age: MaxAge = 86400, wait: Wait = 10) -> JSONResponse:
    """A channel by its handle (with or without @)."""
    handle = "@" + handle.lstrip("@")
    return await fresh_or_refresh(
        queue, lambda: fetch_one(_pool(request), "channel_by_handle", handle),
        refresh_task("refresh_yt_profiles", PLATFORM, {"handles": [handle]},
                     f"yt:profile:{handle.lower()}"), max_age, wait,
        _live(request, handle.lower()))


@router.get("/profiles/YOUTUBE/byprofileid/{channel_id}")
async def profile_by_channel_id(channel_id: ChannelId, request: Request, queue: QueueDep,
                                max_age: MaxAge = 86400, wait: Wait = 10) -> JSONResponse:
    """A channel by its YouTube id (UC…)."""
    return await _channel(request, queue, channel_id, max_age, wait)


@router.get("/profiles/YOUTUBE/byid/{profile_id}")
async def profile_by_id(profile_id: RowId, request: Request, queue: QueueDep,
                        max_age: MaxAge = 86400, wait: Wait = 10) -> JSONResponse:
    """A stored channel by Beat's own id."""
    row = await fetch_one(_pool(request), "channel_by_id", profile_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no stored profile {profile_id}")
    return await _channel(request, queue, row["channel_id"], max_age, wait)


@router.get("/posts/YOUTUBE/byshortcode/{video_id}")
async def post_by_video_id(video_id: VideoId, request: Request, queue: QueueDep,
                           max_age: MaxAge = 3600, wait: Wait = 10) -> JSONResponse:
    """A video by its id."""
    return await fresh_or_refresh(
        queue, lambda: fetch_one(_pool(request), "video_by_video_id", video_id),
        refresh_task("refresh_yt_posts", PLATFORM, {"video_ids": [video_id]},
                     f"yt:post:{video_id}"), max_age, wait)


@router.get("/recent/posts/YOUTUBE/byprofileid/{channel_id}")
async def recent_posts(channel_id: ChannelId, request: Request, queue: QueueDep,
                       limit: Annotated[int, Query(ge=1, le=200)] = 50,
                       cursor: Annotated[SafeStr | None, Query(description="next_cursor")] = None,
                       max_age: MaxAge = 86400, wait: Wait = 10) -> JSONResponse:
    """A channel's videos, newest first, one page at a time (refreshed first when stale)."""
    pool = _pool(request)
    videos = await fetch_one(pool, "videos_refreshed_at", channel_id)
    if cursor is None and not is_fresh(videos, max_age):
        task, _ = await queue.enqueue(refresh_task(
            "refresh_yt_posts_by_channel_id", PLATFORM,
            {"channel_id": channel_id, "max_videos": limit}, f"yt:recent:{channel_id}"))
        task = await wait_for(queue, task, wait)
        if not_found(task):
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=task.last_error)
        if task.status != "COMPLETE":
            return JSONResponse(jsonable_encoder({"task_id": task.id, "status": task.status}),
                                status_code=status.HTTP_202_ACCEPTED)
    after_time, after_id = _decode_cursor(cursor)
    rows = await pool.fetch(sql("recent_videos"), channel_id, after_time, after_id, limit + 1)
    items = [dict(r) for r in rows[:limit]]
    next_cursor = None
    if len(rows) > limit and items[-1]["published_at"] is not None:
        next_cursor = f"{items[-1]['published_at'].isoformat()}|{items[-1]['id']}"
    return JSONResponse(jsonable_encoder({"items": items, "next_cursor": next_cursor}))


def _decode_cursor(cursor: str | None) -> tuple[datetime | None, int | None]:
    if cursor is None:
        return None, None
    moment, _, row_id = cursor.rpartition("|")
    try:
        after_time, after_id = check_timestamp(datetime.fromisoformat(moment)), int(row_id)
    except ValueError:
        raise _bad_cursor() from None
    if not 1 <= after_id <= INT64_MAX:
        raise _bad_cursor()
    return after_time, after_id


def _bad_cursor() -> HTTPException:
    return invalid(["query", "cursor"], "cursor is not a next_cursor this API gave")
