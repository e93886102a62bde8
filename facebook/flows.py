"""Facebook flows: a page by user name or id, a post by id (numeric story, "{page}_{story}" or
pfbid), a video or reel by id. Each stores what it fetched and returns a small JSON result."""

from typing import Any

from pydantic import Field

from core.flows import StrictParams, TaskContext, flow
from facebook.models import PLATFORM as NAME
from facebook.refresh import refresh_object, refresh_page, service

PLATFORM = NAME.upper()  # "FACEBOOK": the spelling of tasks and the API
PAGE = r"^([0-9]{1,25}|[A-Za-z0-9][A-Za-z0-9.\-]{0,79})$"
POST_ID = r"^([0-9]{1,25}(_[0-9]{1,25})?|pfbid0[A-Za-z0-9]{20,80})$"
VIDEO_ID = r"^[0-9]{1,25}$"


class PageParams(StrictParams):
    page: str = Field(pattern=PAGE, description="the page's user name or numeric id")


class PostParams(StrictParams):
    post_id: str = Field(pattern=POST_ID, description="{page_id}_{story_id}, a story id or a "
                                                      "pfbid id")


class VideoParams(StrictParams):
    video_id: str = Field(pattern=VIDEO_ID, description="a video's or reel's numeric id")


@flow("refresh_fb_page", PageParams, platform=PLATFORM, processes=3, concurrency=5)
async def refresh_fb_page(params: PageParams, ctx: TaskContext) -> dict[str, Any]:
    """A page: followers, page likes (fan_count), name, category, verification."""
    row, source = await refresh_page(service(ctx.settings, ctx.pool), ctx.pool, params.page)
    return {"page_id": row["page_id"], "username": row["username"], "source": source,
            "followers": row["followers"], "fan_count": row["fan_count"]}


def _post_summary(row: dict[str, Any], source: str) -> dict[str, Any]:
    return {"post_id": row["post_id"], "post_type": row["post_type"], "source": source,
            **{name: row[name] for name in ("likes", "comments", "shares", "views")}}


@flow("refresh_fb_post", PostParams, platform=PLATFORM, processes=3, concurrency=10)
async def refresh_fb_post(params: PostParams, ctx: TaskContext) -> dict[str, Any]:
    """A post: reactions, comments and shares (None when never shared)."""
    row, source = await refresh_object(service(ctx.settings, ctx.pool), ctx.pool,
                                       params.post_id, video=False)
    return _post_summary(row, source)


@flow("refresh_fb_video", VideoParams, platform=PLATFORM, processes=3, concurrency=10)
async def refresh_fb_video(params: VideoParams, ctx: TaskContext) -> dict[str, Any]:
    """A video or reel: views, reactions, comments, length."""
    row, source = await refresh_object(service(ctx.settings, ctx.pool), ctx.pool,
                                       params.video_id, video=True)
    return _post_summary(row, source)
