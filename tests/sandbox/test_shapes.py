"""Every sandbox response has the key structure of the real response in ../shared/fixtures."""

from typing import Any

import httpx

from sandbox.app import create_sandbox_app
from sandbox.youtube.world import World
from tests.sandbox.helpers import client_for, data_api, fixture, key_paths, without

VIDEO_OPTIONAL = ("snippet.tags", "snippet.defaultLanguage", "snippet.thumbnails.maxres",
                  "contentDetails.regionRestriction")


def envelope_paths(body: dict[str, Any]) -> set[str]:
    return {p for p in key_paths(body) if not p.startswith("items[]")}


async def test_channel_item_and_envelope(client: httpx.AsyncClient, world: World) -> None:
    real = fixture("yt_channels_list_multi.json")
    channel = next(c for c in world.channels if c.country and not c.hidden_subscribers)
    body = (await data_api(client, "channels", id=channel.channel_id,
                           part="snippet,contentDetails,statistics,brandingSettings")).json()
    assert key_paths(body["items"][0]) == key_paths(real["items"][1])
    assert envelope_paths(body) == envelope_paths(real)


async def test_channel_without_country_or_subscribers(client: httpx.AsyncClient,
                                                      world: World) -> None:
    real = key_paths(fixture("yt_channels_list_multi.json")["items"][1])
    for channel in world.channels:
        body = (await data_api(client, "channels", id=channel.channel_id,
                               part="snippet,contentDetails,statistics,brandingSettings")).json()
        optional = ("snippet.country", "brandingSettings.channel.country",
                    "statistics.subscriberCount")
        assert without(key_paths(body["items"][0]), *optional) == without(real, *optional)
        assert ("subscriberCount" in body["items"][0]["statistics"]) != channel.hidden_subscribers


async def test_video_parts(client: httpx.AsyncClient, world: World) -> None:
    modern = fixture("yt_videos_list_mostpopular_5items_2025.json")["items"]
    ids = [v.video_id for v in world.find_videos(hidden_likes=False, comments_disabled=False,
                                                 limit=40)]
    body = (await data_api(client, "videos", id=",".join(ids),
                           part="snippet,contentDetails,statistics")).json()
    for item in body["items"]:
        for real in modern:
            assert without(key_paths(item), *VIDEO_OPTIONAL) == without(key_paths(real),
                                                                         *VIDEO_OPTIONAL)
    full = [i for i in body["items"] if {"tags", "defaultLanguage"} <= i["snippet"].keys()
            and "maxres" in i["snippet"]["thumbnails"]]
    real_full = [i for i in modern if {"tags", "defaultLanguage"} <= i["snippet"].keys()]
    assert full and real_full
    assert key_paths(full[0]) == key_paths(real_full[0])


async def test_video_status_player_and_envelope(client: httpx.AsyncClient, world: World) -> None:
    single = fixture("yt_videos_list_statistics_single.json")
    two = fixture("yt_videos_list_no_statistics_2items.json")
    video = world.find_videos(limit=1)[0]
    body = (await data_api(client, "videos", id=video.video_id, part="status,player")).json()
    assert key_paths(body["items"][0]["status"]) == key_paths(single["items"][0]["status"])
    assert key_paths(body["items"][0]["player"]) == key_paths(two["items"][0]["player"])
    assert envelope_paths(body) == envelope_paths(two)


async def test_statistics_without_comment_count(client: httpx.AsyncClient, world: World) -> None:
    real = next(i for i in fixture("yt_videos_items_comments_disabled.json")
                if "commentCount" not in i["statistics"])
    video = world.find_videos(hidden_likes=False, comments_disabled=True, limit=1)[0]
    body = (await data_api(client, "videos", id=video.video_id, part="statistics")).json()
    assert key_paths(body["items"][0]["statistics"]) == key_paths(real["statistics"])


async def test_playlist_item(client: httpx.AsyncClient, world: World) -> None:
    real = fixture("yt_playlist_items_list_page1.json")
    for playlist in (world.big_channel().uploads_playlist_id, world.playlists[0].playlist_id):
        body = (await data_api(client, "playlistItems", playlistId=playlist, part="snippet",
                               maxResults=3)).json()
        assert key_paths(body["items"][0]) == key_paths(real["items"][0])
        assert envelope_paths(body) == envelope_paths(real)


async def test_search_result(client: httpx.AsyncClient, world: World) -> None:
    real = fixture("yt_search_list_keywords_page1.json")
    body = (await data_api(client, "search", part="snippet", q="review", type="video",
                           channelId=world.big_channel().channel_id)).json()
    assert body["items"]
    for item in body["items"]:
        assert key_paths(item) == key_paths(real["items"][0])
    assert envelope_paths(body) == envelope_paths(real)


async def test_comment_thread(client: httpx.AsyncClient, world: World) -> None:
    real = fixture("yt_comment_threads_list_by_video_page1.json")
    video = max(world.find_videos(comments_disabled=False, limit=30), key=lambda v: v.comments or 0)
    body = (await data_api(client, "commentThreads", videoId=video.video_id, part="snippet",
                           maxResults=5)).json()
    assert len(body["items"]) == 5
    for item in body["items"]:
        assert key_paths(item) == key_paths(real["items"][0])
    assert envelope_paths(body) == envelope_paths(real)


async def test_error_bodies(world: World) -> None:
    app = create_sandbox_app(seed=1, keys={"tiny": 1})
    disabled = world.find_videos(comments_disabled=True, limit=1)[0]
    async with client_for(app) as client:
        bad_key = await data_api(client, "videos", id="x", part="id", key="nope")
        assert bad_key.status_code == 400
        assert key_paths(bad_key.json()) == key_paths(fixture("yt_error_400_keyInvalid.json"))
        off = await data_api(client, "commentThreads", videoId=disabled.video_id,
                             part="snippet", key="tiny")
        assert off.status_code == 403
        assert key_paths(off.json()) == key_paths(fixture("yt_error_403_commentsDisabled.json"))
        spent = await data_api(client, "videos", id="x", part="id", key="tiny")
        assert spent.status_code == 403
        assert key_paths(spent.json()) == key_paths(fixture("yt_error_403_quotaExceeded.json"))
    assert off.json()["error"]["errors"][0]["reason"] == "commentsDisabled"
    assert spent.json()["error"]["errors"][0]["reason"] == "quotaExceeded"
    assert bad_key.json()["error"]["errors"][0]["reason"] == "keyInvalid"


async def test_html_in_errors_is_escaped_as_google_does(client: httpx.AsyncClient,
                                                        world: World) -> None:
    disabled = world.find_videos(comments_disabled=True, limit=1)[0]
    raw = (await data_api(client, "commentThreads", videoId=disabled.video_id,
                          part="snippet")).text
    assert "\\u003ccode\\u003e" in raw and "<code>" not in raw
