"""Data API routes: lookups, pagination, filters, hidden counts and error cases."""

import httpx
import pytest

from sandbox.youtube.world import World
from tests.sandbox.helpers import data_api


def reason(response: httpx.Response) -> str:
    return str(response.json()["error"]["errors"][0]["reason"])


async def test_uploads_pagination_returns_every_video_once(client: httpx.AsyncClient,
                                                           world: World) -> None:
    channel = next(c for c in world.channels if 1000 <= c.video_count < 5000)
    seen: list[str] = []
    token: str | None = None
    while True:
        params = {"pageToken": token} if token else {}
        body = (await data_api(client, "playlistItems", playlistId=channel.uploads_playlist_id,
                               part="snippet,contentDetails", maxResults=50, **params)).json()
        assert body["pageInfo"] == {"totalResults": channel.video_count, "resultsPerPage": 50}
        seen += [item["contentDetails"]["videoId"] for item in body["items"]]
        token = body.get("nextPageToken")
        if token is None:
            break
    assert seen == list(world.videos_of(channel.channel_id))
    assert len(set(seen)) == channel.video_count
    dates = [world.published(v) for v in seen]
    assert dates == sorted(dates, reverse=True)


async def test_prev_page_token_goes_back(client: httpx.AsyncClient, world: World) -> None:
    uploads = world.big_channel().uploads_playlist_id
    first = (await data_api(client, "playlistItems", playlistId=uploads, part="id")).json()
    assert "prevPageToken" not in first and first["nextPageToken"] == "CAUQAA"
    second = (await data_api(client, "playlistItems", playlistId=uploads, part="id",
                             pageToken=first["nextPageToken"])).json()
    back = (await data_api(client, "playlistItems", playlistId=uploads, part="id",
                           pageToken=second["prevPageToken"])).json()
    assert [i["id"] for i in back["items"]] == [i["id"] for i in first["items"]]


async def test_regular_playlist(client: httpx.AsyncClient, world: World) -> None:
    playlist = world.playlists[0]
    body = (await data_api(client, "playlistItems", playlistId=playlist.playlist_id,
                           part="snippet", maxResults=50)).json()
    assert body["pageInfo"]["totalResults"] == len(playlist.video_ids)
    assert [i["snippet"]["resourceId"]["videoId"] for i in body["items"]] == list(
        playlist.video_ids[:50])
    assert [i["snippet"]["position"] for i in body["items"]] == list(range(len(body["items"])))


async def test_fifty_ids_per_videos_call(client: httpx.AsyncClient, world: World) -> None:
    ids = list(world.videos_of(world.big_channel().channel_id)[:51])
    body = (await data_api(client, "videos", id=",".join(ids[:50]), part="statistics")).json()
    assert [i["id"] for i in body["items"]] == ids[:50]
    assert body["pageInfo"] == {"totalResults": 50, "resultsPerPage": 50}
    too_many = await data_api(client, "videos", id=",".join(ids), part="statistics")
    assert too_many.status_code == 400
    assert reason(too_many) == "invalidFilters"


async def test_unknown_video_ids_are_left_out(client: httpx.AsyncClient, world: World) -> None:
    known = world.find_videos(limit=1)[0].video_id
    body = (await data_api(client, "videos", id=f"AAAAAAAAAAA,{known}", part="id")).json()
    assert [i["id"] for i in body["items"]] == [known]
    assert body["pageInfo"]["totalResults"] == 1


async def test_video_statistics_match_the_world(client: httpx.AsyncClient, world: World) -> None:
    hidden = world.find_videos(hidden_likes=True, limit=1)[0]
    shown = world.find_videos(hidden_likes=False, comments_disabled=False, limit=1)[0]
    body = (await data_api(client, "videos", id=f"{hidden.video_id},{shown.video_id}",
                           part="statistics")).json()
    stats = {i["id"]: i["statistics"] for i in body["items"]}
    assert "likeCount" not in stats[hidden.video_id]
    assert stats[hidden.video_id]["viewCount"] == str(hidden.views)
    assert stats[shown.video_id] == {"viewCount": str(shown.views), "likeCount": str(shown.likes),
                                     "favoriteCount": "0", "commentCount": str(shown.comments)}


async def test_only_requested_parts(client: httpx.AsyncClient, world: World) -> None:
    channel = world.channels[0]
    body = (await data_api(client, "channels", id=channel.channel_id, part="statistics")).json()
    assert set(body["items"][0]) == {"kind", "etag", "id", "statistics"}


@pytest.mark.parametrize("handle", ["{h}", "{h_no_at}", "{h_upper}"])
async def test_channel_for_handle(client: httpx.AsyncClient, world: World, handle: str) -> None:
    channel = world.channels[3]
    value = handle.format(h=channel.handle, h_no_at=channel.handle[1:],
                          h_upper=channel.handle.upper())
    body = (await data_api(client, "channels", forHandle=value, part="snippet")).json()
    assert [i["id"] for i in body["items"]] == [channel.channel_id]
    assert body["items"][0]["snippet"]["customUrl"] == channel.handle


async def test_channel_for_username_and_misses(client: httpx.AsyncClient, world: World) -> None:
    channel = next(c for c in world.channels if c.username)
    assert channel.username is not None
    body = (await data_api(client, "channels", forUsername=channel.username.lower(),
                           part="id")).json()
    assert [i["id"] for i in body["items"]] == [channel.channel_id]
    missing = (await data_api(client, "channels", forHandle="@nobody-here", part="id")).json()
    assert "items" not in missing and missing["pageInfo"]["totalResults"] == 0
    some = (await data_api(client, "channels", part="id",
                           id=f"UCxxxxxxxxxxxxxxxxxxxxxx,{channel.channel_id}")).json()
    assert [i["id"] for i in some["items"]] == [channel.channel_id]
    assert some["pageInfo"] == {"totalResults": 1, "resultsPerPage": 5}


async def test_channel_statistics(client: httpx.AsyncClient, world: World) -> None:
    hidden = next(c for c in world.channels if c.hidden_subscribers)
    body = (await data_api(client, "channels", id=hidden.channel_id,
                           part="statistics,contentDetails")).json()
    item = body["items"][0]
    assert item["statistics"] == {"viewCount": str(world.channel_views(hidden.channel_id)),
                                  "hiddenSubscriberCount": True,
                                  "videoCount": str(hidden.video_count)}
    assert item["contentDetails"]["relatedPlaylists"]["uploads"] == "UU" + hidden.channel_id[2:]


async def test_search_by_channel_newest_first(client: httpx.AsyncClient, world: World) -> None:
    channel = world.big_channel()
    body = (await data_api(client, "search", part="snippet", channelId=channel.channel_id,
                           type="video", order="date", maxResults=50)).json()
    assert body["kind"] == "youtube#searchListResponse"
    ids = [i["id"]["videoId"] for i in body["items"]]
    assert ids == list(channel.video_ids[:50])
    assert body["pageInfo"]["totalResults"] == channel.video_count
    page2 = (await data_api(client, "search", part="snippet", channelId=channel.channel_id,
                            type="video", order="date", maxResults=50,
                            pageToken=body["nextPageToken"])).json()
    assert [i["id"]["videoId"] for i in page2["items"]] == list(channel.video_ids[50:100])


async def test_search_query_matches_titles(client: httpx.AsyncClient, world: World) -> None:
    channel = world.big_channel()
    body = (await data_api(client, "search", part="snippet", q="review",
                           channelId=channel.channel_id, maxResults=10)).json()
    assert body["items"]
    for item in body["items"]:
        video = world.video(item["id"]["videoId"])
        assert video is not None and "review" in (video.title + video.description
                                                  + " ".join(video.tags)).lower()


async def test_comment_threads_pages(client: httpx.AsyncClient, world: World) -> None:
    video = max(world.find_videos(comments_disabled=False, limit=50), key=lambda v: v.comments or 0)
    first = (await data_api(client, "commentThreads", videoId=video.video_id, part="snippet",
                            maxResults=100)).json()
    second = (await data_api(client, "commentThreads", videoId=video.video_id, part="snippet",
                             maxResults=100, pageToken=first["nextPageToken"])).json()
    ids = [i["id"] for i in first["items"] + second["items"]]
    assert len(ids) == len(set(ids)) == 200
    times = [i["snippet"]["topLevelComment"]["snippet"]["publishedAt"]
             for i in first["items"] + second["items"]]
    assert times == sorted(times, reverse=True)
    top = (await data_api(client, "commentThreads", videoId=video.video_id, part="snippet",
                          maxResults=100, order="relevance")).json()
    assert [i["id"] for i in top["items"]] != ids[:100]


async def test_comments_disabled_and_missing_video(client: httpx.AsyncClient,
                                                   world: World) -> None:
    disabled = world.find_videos(comments_disabled=True, limit=1)[0]
    off = await data_api(client, "commentThreads", videoId=disabled.video_id, part="snippet")
    assert off.status_code == 403 and reason(off) == "commentsDisabled"
    gone = await data_api(client, "commentThreads", videoId="AAAAAAAAAAA", part="snippet")
    assert gone.status_code == 404 and reason(gone) == "videoNotFound"


@pytest.mark.parametrize(("method", "params", "status", "why"), [
    ("playlistItems", {"playlistId": "PLnope", "part": "id"}, 404, "playlistNotFound"),
    ("playlistItems", {"playlistId": "UUnope", "part": "id"}, 404, "playlistNotFound"),
    ("videos", {"id": "x"}, 400, "required"),
    ("videos", {"id": "x", "part": "snippet,bogus"}, 400, "unknownPart"),
    ("channels", {"part": "id"}, 400, "invalidFilters"),
    ("channels", {"part": "id", "id": "x", "maxResults": "51"}, 400, "invalidParameter"),
    ("search", {"part": "id", "pageToken": "not-a-token"}, 400, "invalidPageToken"),
])
async def test_bad_requests(client: httpx.AsyncClient, method: str, params: dict[str, str],
                            status: int, why: str) -> None:
    response = await data_api(client, method, **params)
    assert response.status_code == status
    assert reason(response) == why
