"""A keyless YouTube fallback in the shape of the Invidious API v1, under /invidious/api/v1/,
answering from the same world as the Data API routes (same ids, views, likes, dates).

Shapes followed: the Invidious project's API documentation (repository iv-org/documentation,
docs/api.md for GET /api/v1/videos/:id and /api/v1/comments/:id, docs/api/channels_endpoint.md
and docs/api/common_types.md for /api/v1/channels/:id, /channels/:id/videos, /channels/:id/latest
and VideoObject/ChannelObject), checked against the server source (iv-org/invidious:
src/invidious/routes/api/v1/videos.cr and channels.cr, src/invidious/jsonify/api_v1/video_json.cr,
src/invidious/comments/youtube.cr, src/invidious/helpers/errors.cr):
- errors are `{"error": message}` with 404 for a missing video/channel (NotFoundException is an
  InfoException, so no backtrace); other failures 500 `{"error": ..., "errorBacktrace": ...}`.
- /channels/:id/videos pages hold 60 videos with an opaque `continuation` (absent on the last
  page), sort_by newest|oldest|popular; /latest is /videos without parameters.
- /comments/:id pages hold 20 comments, sort_by top|new; `commentCount` is on the first page
  only (it comes from the comments header); a video with comments turned off answers
  200 `{"comments": []}`, as Invidious does.
- Invidious reads a hidden like count as 0 with `allowRatings` false, and a hidden subscriber
  count as `subCount` 0; videos carry no comment count. Streams (adaptiveFormats, formatStreams,
  captions, storyboards) are empty lists: the sandbox serves no media.
"""

from fastapi import APIRouter, Request
from starlette.responses import Response

from sandbox.pages import continuation, read_continuation
from sandbox.responses import CompactJSON
from sandbox.state import state_of
from sandbox.youtube import comments
from sandbox.youtube import invidious_render as render
from sandbox.youtube.world import Channel, World

router = APIRouter(prefix="/invidious/api/v1")
CHANNEL_PAGE = 60
LATEST = 30
COMMENT_PAGE = 20
SORTS = ("newest", "oldest", "popular")


def not_found(message: str) -> Response:
    return CompactJSON({"error": message}, status_code=404)


def server_error(message: str) -> Response:
    trace = f"{message} (Exception)\n  from src/invidious/routes/api/v1 (sandbox)"
    return CompactJSON({"error": message, "errorBacktrace": trace}, status_code=500)


def _base(request: Request) -> str:
    """The instance's own URL (Invidious writes absolute thumbnail URLs on its host)."""
    return str(request.base_url).rstrip("/") + "/invidious"


@router.get("/videos/{video_id}")
async def video(request: Request, video_id: str) -> Response:
    world = state_of(request).world
    found = world.video(video_id)
    if found is None:
        return not_found("This video is unavailable")
    return CompactJSON(render.video(world, found, _base(request)))


@router.get("/channels/videos/{ucid}")
@router.get("/channels/{ucid}/videos")
async def channel_videos(request: Request, ucid: str) -> Response:
    params = request.query_params
    return _videos_page(request, ucid, params.get("sort_by", "newest").lower(),
                        params.get("continuation"))


@router.get("/channels/latest/{ucid}")
@router.get("/channels/{ucid}/latest")
async def channel_latest(request: Request, ucid: str) -> Response:
    return _videos_page(request, ucid, "newest", None)


@router.get("/channels/{ucid}")
async def channel(request: Request, ucid: str) -> Response:
    world = state_of(request).world
    found = _channel(world, ucid)
    if found is None:
        return not_found("This channel does not exist.")
    latest = world.videos(found.video_ids[:LATEST])
    return CompactJSON(render.channel(world, found, latest, _base(request)))


@router.get("/comments/{video_id}")
async def video_comments(request: Request, video_id: str) -> Response:
    world = state_of(request).world
    found = world.video(video_id)
    if found is None:
        return not_found("Comments not found.")
    sort = request.query_params.get("sort_by", "top").lower()
    token = request.query_params.get("continuation")
    start = 0
    if token:
        parts = read_continuation(token, 3)
        if parts is None or parts[0] != video_id or not parts[2].isdigit():
            return server_error("Could not parse continuation")
        sort, start = parts[1], int(parts[2])
    total = comments.thread_count(found)
    if total == 0:
        return CompactJSON({"comments": []})
    order: comments.Order = "time" if sort in ("new", "newest") else "relevance"
    page = comments.threads(world, found, start, COMMENT_PAGE, order)
    body: dict[str, object] = {"commentCount": found.comments} if start == 0 else {}
    body["videoId"] = video_id
    body["comments"] = [render.comment(world, c, continuation("replies", c.comment_id))
                        for c in page]
    if start + COMMENT_PAGE < total:
        body["continuation"] = continuation(video_id, sort, start + COMMENT_PAGE)
    return CompactJSON(body)


def _channel(world: World, ucid: str) -> Channel | None:
    """By channel id, or by handle/username as Invidious also accepts."""
    return (world.channel(ucid) or world.channel_by_handle(ucid)
            or world.channel_by_username(ucid))


def _videos_page(request: Request, ucid: str, sort: str, token: str | None) -> Response:
    world = state_of(request).world
    found = _channel(world, ucid)
    if found is None:
        return not_found("This channel does not exist.")
    start = 0
    if token:
        parts = read_continuation(token, 3)
        if parts is None or parts[0] != found.channel_id or not parts[2].isdigit():
            return server_error("Could not parse continuation")
        sort, start = parts[1], int(parts[2])
    ids = _sorted_ids(world, found, sort if sort in SORTS else "newest")
    page = world.videos(ids[start:start + CHANNEL_PAGE])
    body: dict[str, object] = {"videos": [render.video_object(world, v, _base(request))
                                          for v in page]}
    if start + CHANNEL_PAGE < len(ids):
        body["continuation"] = continuation(found.channel_id, sort, start + CHANNEL_PAGE)
    return CompactJSON(body)


def _sorted_ids(world: World, channel: Channel, sort: str) -> tuple[str, ...]:
    if sort == "oldest":
        return channel.video_ids[::-1]
    if sort == "popular":
        ranked = sorted(world.videos(channel.video_ids), key=lambda v: -v.views)
        return tuple(v.video_id for v in ranked)
    return channel.video_ids
