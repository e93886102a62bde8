"""YouTube Data API v3 routes under /youtube/v3/: channels, videos, playlistItems, search and
commentThreads, answered from the sandbox world in the real shapes (see data_render).

Every call needs `key=` (missing/unknown: 400 keyInvalid) and costs quota units as the real API
(search.list 100, the others 1), also when the request turns out invalid; a key without units
left gets 403 quotaExceeded until midnight Pacific (see quota.py).
"""

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import QueryParams
from starlette.responses import Response

from sandbox.pages import page_start, page_token
from sandbox.responses import GoogleJSON
from sandbox.state import state_of
from sandbox.youtube import comments, errors
from sandbox.youtube import data_render as render
from sandbox.youtube.world import Video, World

Handler = Callable[[World, QueryParams], dict[str, Any]]
router = APIRouter(prefix="/youtube/v3")

CHANNEL_PARTS = {"id", "snippet", "contentDetails", "statistics", "brandingSettings",
                 "status", "topicDetails", "localizations", "contentOwnerDetails"}
VIDEO_PARTS = {"id", "snippet", "contentDetails", "statistics", "status", "player",
               "topicDetails", "recordingDetails", "liveStreamingDetails", "localizations"}
PLAYLIST_ITEM_PARTS = {"id", "snippet", "contentDetails", "status"}
SEARCH_PARTS = {"id", "snippet"}
THREAD_PARTS = {"id", "snippet", "replies"}
SEARCH_ORDERS = {"date", "relevance", "viewCount", "rating", "title", "videoCount"}
MAX_IDS = 50
COSTS = {"search": 100}


def answer(request: Request, method: str, handler: Handler) -> Response:
    """Charge the key, then run the handler; any ApiError becomes its error body."""
    state = state_of(request)
    try:
        state.quota.charge(request.query_params.get("key"), COSTS.get(method, 1))
        return GoogleJSON(handler(state.world, request.query_params))
    except errors.ApiError as exc:
        return exc.response()


@router.get("/channels")
async def channels(request: Request) -> Response:
    return answer(request, "channels", list_channels)


@router.get("/videos")
async def videos(request: Request) -> Response:
    return answer(request, "videos", list_videos)


@router.get("/playlistItems")
async def playlist_items(request: Request) -> Response:
    return answer(request, "playlistItems", list_playlist_items)


@router.get("/search")
async def search(request: Request) -> Response:
    return answer(request, "search", list_search)


@router.get("/commentThreads")
async def comment_threads(request: Request) -> Response:
    return answer(request, "commentThreads", list_comment_threads)


def list_channels(world: World, params: QueryParams) -> dict[str, Any]:
    parts = _parts(params, CHANNEL_PARTS)
    per_page = _int(params, "maxResults", 5, 0, 50)
    given = [name for name in ("id", "forHandle", "forUsername") if params.get(name)]
    if len(given) != 1:
        raise errors.invalid_filters("No filter selected. Expected one of: forHandle, "
                                     "forUsername, id" if not given else
                                     "Incompatible parameters specified in the request: "
                                     + ", ".join(given))
    if given[0] == "id":
        found = [world.channel(i) for i in _ids(params)]
    elif given[0] == "forHandle":
        found = [world.channel_by_handle(params["forHandle"])]
    else:
        found = [world.channel_by_username(params["forUsername"])]
    items = [render.channel_item(world, c, parts) for c in found if c is not None]
    body = render.envelope("youtube#channelListResponse", items, len(items), per_page)
    if not items:
        del body["items"]  # the real API leaves `items` out when nothing matched
    return body


def list_videos(world: World, params: QueryParams) -> dict[str, Any]:
    parts = _parts(params, VIDEO_PARTS)
    if not params.get("id"):
        raise errors.invalid_filters("No filter selected. Expected one of: id, chart, myRating")
    items = [render.video_item(world, v, parts) for v in world.videos(_ids(params))]
    return render.envelope("youtube#videoListResponse", items, len(items), len(items))


def list_playlist_items(world: World, params: QueryParams) -> dict[str, Any]:
    parts = _parts(params, PLAYLIST_ITEM_PARTS)
    if not params.get("playlistId"):
        raise errors.invalid_filters("No filter selected. Expected one of: id, playlistId")
    per_page = _int(params, "maxResults", 5, 0, 50)
    start = _start(params, per_page)
    playlist = world.playlist(params["playlistId"])
    if playlist is None:
        raise errors.playlist_not_found()
    page = playlist.video_ids[start:start + per_page]
    items = [render.playlist_item(world, playlist, start + i, video, parts)
             for i, video in enumerate(world.videos(page))]
    return _paged("youtube#playlistItemListResponse", items, start, per_page,
                  len(playlist.video_ids), prev=True)


def list_search(world: World, params: QueryParams) -> dict[str, Any]:
    parts = _parts(params, SEARCH_PARTS)
    per_page = _int(params, "maxResults", 5, 0, 50)
    start = _start(params, per_page)
    order = params.get("order", "relevance")
    if order not in SEARCH_ORDERS:
        raise errors.error(400, f"Invalid value '{order}' for order.", "invalidParameter",
                           "global", "order")
    types = set(params.get("type", "video").split(","))
    found = (search_ids(world, params.get("q", ""), params.get("channelId"), order)
             if "video" in types else ())
    items = [render.search_item(world, v) for v in world.videos(found[start:start + per_page])]
    if "snippet" not in parts:
        items = [{k: v for k, v in item.items() if k != "snippet"} for item in items]
    return _paged("youtube#searchListResponse", items, start, per_page, len(found), prev=True,
                  regionCode=params.get("regionCode", "US"))


def list_comment_threads(world: World, params: QueryParams) -> dict[str, Any]:
    parts = _parts(params, THREAD_PARTS)
    if not params.get("videoId"):
        raise errors.invalid_filters("No filter selected. Expected one of: videoId, id, "
                                     "allThreadsRelatedToChannelId")
    per_page = _int(params, "maxResults", 20, 1, 100)
    start = _start(params, per_page)
    order = params.get("order", "time")
    if order not in ("time", "relevance"):
        raise errors.error(400, f"Invalid value '{order}' for order.", "invalidParameter",
                           "global", "order")
    video = world.video(params["videoId"])
    if video is None:
        raise errors.video_not_found()
    if video.comments_disabled:
        raise errors.comments_disabled()
    plain = params.get("textFormat") == "plainText"
    page = comments.threads(world, video, start, per_page, "time" if order == "time" else
                            "relevance")
    items = [_thread(world, video, c, parts, plain) for c in page]
    more = start + per_page < comments.thread_count(video)
    return render.envelope("youtube#commentThreadListResponse", items, len(items), per_page,
                           page_token(start + per_page) if more else None)


def _thread(world: World, video: Video, comment: comments.Comment, parts: set[str],
            plain: bool) -> dict[str, Any]:
    shown = comments.replies(world, video, comment) if "replies" in parts else None
    thread = render.comment_thread(world, comment, shown, plain)
    return thread if "snippet" in parts else {k: v for k, v in thread.items() if k != "snippet"}


@lru_cache(maxsize=128)
def search_ids(world: World, q: str, channel_id: str | None, order: str) -> tuple[str, ...]:
    """Ids of the videos whose title, description or tags hold every word of `q`."""
    words = q.lower().split()
    scope = world.videos_of(channel_id) if channel_id else tuple(world.all_video_ids())
    found = []
    for video in world.videos(scope):
        text = " ".join((video.title, video.description, *video.tags)).lower()
        if all(word in text for word in words):
            found.append(video)
    keys: dict[str, Callable[[Any], Any]] = {
        "date": lambda v: -v.published_at.timestamp(), "viewCount": lambda v: -v.views,
        "rating": lambda v: -(v.likes or 0), "title": lambda v: v.title,
        "relevance": lambda v: (-sum(w in v.title.lower() for w in words), -v.views),
    }
    found.sort(key=keys.get(order, keys["relevance"]))
    return tuple(v.video_id for v in found)


def _paged(kind: str, items: list[dict[str, Any]], start: int, per_page: int, total: int,
           prev: bool, **extra: Any) -> dict[str, Any]:
    next_token = page_token(start + per_page) if start + per_page < total else None
    prev_token = page_token(start, backward=True) if prev and start > 0 else None
    return render.envelope(kind, items, total, per_page, next_token, prev_token, **extra)


def _parts(params: QueryParams, valid: set[str]) -> set[str]:
    raw = params.get("part")
    if not raw:
        raise errors.required("part")
    parts = {p.strip() for p in raw.split(",") if p.strip()}
    for part in sorted(parts):
        if part not in valid:
            raise errors.unknown_part(part)
    return parts


def _int(params: QueryParams, name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    if not raw.strip().lstrip("-").isdigit() or not low <= int(raw) <= high:
        raise errors.out_of_range(name, raw, low, high)
    return int(raw)


def _ids(params: QueryParams) -> list[str]:
    ids = list(dict.fromkeys(i.strip() for i in params.get("id", "").split(",") if i.strip()))
    if len(ids) > MAX_IDS:
        raise errors.invalid_filters("The request specifies an invalid filter parameter.")
    return ids


def _start(params: QueryParams, per_page: int) -> int:
    start = page_start(params.get("pageToken"), per_page)
    if start is None:
        raise errors.invalid_page_token()
    return start
