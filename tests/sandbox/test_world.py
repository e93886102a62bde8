"""The world: its promised shape, and determinism (same seed, same bytes)."""

import re
import time

import httpx

from sandbox.app import create_sandbox_app
from sandbox.youtube.world import World, build_world
from tests.sandbox.helpers import KEY, client_for

CHANNEL_ID = re.compile(r"^UC[A-Za-z0-9_-]{22}$")
VIDEO_ID = re.compile(r"^[A-Za-z0-9_-]{10}[AEIMQUYcgkosw048]$")


def test_world_shape(world: World) -> None:
    counts = sorted(c.video_count for c in world.channels)
    assert len(world.channels) == 20
    assert counts[-1] >= 5000 and counts[-2] >= 1000 and counts[-3] >= 1000
    assert counts[0] >= 3
    assert world.big_channel().video_count == counts[-1]
    assert sum(c.hidden_subscribers for c in world.channels) >= 2
    assert len({c.handle.lower() for c in world.channels}) == 20
    for channel in world.channels:
        assert CHANNEL_ID.match(channel.channel_id)
        assert channel.uploads_playlist_id == "UU" + channel.channel_id[2:]
        assert all(VIDEO_ID.match(v) for v in channel.video_ids[:100])
    assert world.playlists and all(p.playlist_id.startswith("PL") for p in world.playlists)


def test_videos_spread_over_years_with_hidden_counts(world: World) -> None:
    videos = world.videos(world.videos_of(world.big_channel().channel_id))
    years = {v.published_at.year for v in videos}
    assert len(years) >= 5
    assert any(v.hidden_likes for v in videos) and any(v.comments_disabled for v in videos)
    assert any(not v.tags for v in videos) and any(v.duration_s <= 60 for v in videos)
    assert all(v.views >= 0 for v in videos)


def test_generation_is_fast_and_deterministic() -> None:
    start = time.perf_counter()
    fresh = World(7)
    assert time.perf_counter() - start < 1.0
    again = World(7)
    assert [c.channel_id for c in fresh.channels] == [c.channel_id for c in again.channels]
    video_id = fresh.channels[0].video_ids[0]
    assert fresh.video(video_id) == again.video(video_id)
    assert build_world(7) is build_world(7)
    assert {c.channel_id for c in World(8).channels} != {c.channel_id for c in fresh.channels}


async def bodies(seed: int) -> list[bytes]:
    build_world.cache_clear()  # a world built afresh, not the cached one
    world = build_world(seed)
    big = world.big_channel()
    video = world.find_videos(comments_disabled=False, limit=5)[-1]
    requests = [
        ("/youtube/v3/channels", {"part": "snippet,statistics,contentDetails,brandingSettings",
                                  "id": ",".join(c.channel_id for c in world.channels)}),
        ("/youtube/v3/videos", {"part": "snippet,statistics,contentDetails,status",
                                "id": ",".join(big.video_ids[:50])}),
        ("/youtube/v3/playlistItems", {"part": "snippet,contentDetails", "maxResults": "50",
                                       "playlistId": big.uploads_playlist_id}),
        ("/youtube/v3/search", {"part": "snippet", "q": "review", "maxResults": "50"}),
        ("/youtube/v3/commentThreads", {"part": "snippet,replies", "videoId": video.video_id}),
        (f"/invidious/api/v1/videos/{video.video_id}", {}),
        (f"/invidious/api/v1/channels/{big.channel_id}", {}),
        (f"/invidious/api/v1/comments/{video.video_id}", {}),
    ]
    async with client_for(create_sandbox_app(seed=seed)) as client:
        out = []
        for path, params in requests:
            response = await client.get(path, params={**params, "key": KEY})
            assert response.status_code == 200
            out.append(response.content)
        return out


async def test_same_seed_same_bytes_other_seed_differs() -> None:
    first, second, other = await bodies(3), await bodies(3), await bodies(4)
    assert first == second
    assert all(a != b for a, b in zip(first, other, strict=True))


async def test_world_endpoint(client: httpx.AsyncClient, world: World) -> None:
    body = (await client.get("/_sandbox/world")).json()
    assert body["seed"] == 1 and body["big_channel"] == world.big_channel().channel_id
    assert len(body["channels"]) == 20
    hidden = world.video(body["examples"]["hidden_likes_video"])
    assert hidden is not None and hidden.likes is None


async def test_quiet_channels_come_after_the_same_twenty_and_are_served() -> None:
    plain, wide = build_world(1), build_world(1, 500)
    assert wide.channels[:20] == plain.channels
    quiet = wide.channels[20:]
    assert len(quiet) == 500 and all(c.video_count == 0 for c in quiet)
    assert len({c.handle.lower() for c in wide.channels}) == 520
    assert len({c.channel_id for c in wide.channels}) == 520
    app = create_sandbox_app(1, quiet_channels=500)
    async with client_for(app) as client:
        answer = await client.get("/youtube/v3/channels", params={
            "part": "snippet,statistics", "id": ",".join(c.channel_id for c in quiet[-50:]),
            "key": KEY, "maxResults": 50})
    assert [item["id"] for item in answer.json()["items"]] == [
        c.channel_id for c in quiet[-50:]]
