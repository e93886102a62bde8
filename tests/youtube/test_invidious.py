"""youtube.sources.invidious parses the sandbox's Invidious-shaped bodies into Beat's models."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from core.parsing import UnknownShape
from sandbox.app import create_sandbox_app
from sandbox.youtube.world import World, build_world
from youtube.sources.invidious import (
    INVIDIOUS,
    InvidiousErrorBody,
    parse_channel,
    parse_channel_videos,
    parse_comments,
    parse_video,
)


@pytest.fixture
def world() -> World:
    return build_world(1)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_sandbox_app(seed=1))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


async def get(client: httpx.AsyncClient, path: str, **params: str) -> object:
    return (await client.get(f"/invidious/api/v1/{path}", params=params)).json()


async def test_video(client: httpx.AsyncClient, world: World) -> None:
    expected = world.find_videos(hidden_likes=False, limit=1)[0]
    video = parse_video(await get(client, f"videos/{expected.video_id}"))
    assert video.video_id == expected.video_id and video.source == INVIDIOUS
    assert (video.title, video.description) == (expected.title, expected.description)
    assert (video.channel_id, video.channel_title) == (expected.channel_id,
                                                       expected.channel_title)
    assert video.published_at == expected.published_at
    assert video.duration_s == expected.duration_s
    assert (video.views, video.likes) == (expected.views, expected.likes)
    assert video.tags == list(expected.tags)
    assert video.comments is None and video.comments_disabled is None  # Invidious has neither
    assert video.category_id is None and video.live_broadcast_content == "none"
    assert video.thumbnail_url == f"http://test/invidious/vi/{expected.video_id}/maxres.jpg"
    assert video.normalized().likes == expected.likes


async def test_hidden_likes_are_none_not_zero(client: httpx.AsyncClient, world: World) -> None:
    hidden = world.find_videos(hidden_likes=True, limit=1)[0]
    video = parse_video(await get(client, f"videos/{hidden.video_id}"))
    assert video.likes is None and video.views == hidden.views


async def test_channel(client: httpx.AsyncClient, world: World) -> None:
    shown = next(c for c in world.channels if not c.hidden_subscribers)
    channel = parse_channel(await get(client, f"channels/{shown.channel_id}"))
    assert channel.channel_id == shown.channel_id and channel.title == shown.title
    assert channel.subscribers == shown.subscribers
    assert channel.views == world.channel_views(shown.channel_id)
    assert channel.published_at == shown.published_at
    assert channel.uploads_playlist_id == shown.uploads_playlist_id
    assert channel.thumbnail_url == shown.thumbnail(512)
    assert (channel.handle, channel.country, channel.video_count) == (None, None, None)
    assert channel.source == INVIDIOUS
    hidden = next(c for c in world.channels if c.hidden_subscribers)
    assert parse_channel(await get(client, f"channels/{hidden.channel_id}")).subscribers is None


async def test_channel_videos_page(client: httpx.AsyncClient, world: World) -> None:
    big = world.big_channel()
    page = parse_channel_videos(await get(client, f"channels/{big.channel_id}/videos"))
    assert [v.video_id for v in page.items] == list(big.video_ids[:60])
    assert page.next_page_token and page.total_results is None
    following = parse_channel_videos(await get(client, f"channels/{big.channel_id}/videos",
                                               continuation=page.next_page_token))
    assert [v.video_id for v in following.items] == list(big.video_ids[60:120])
    first = world.video(big.video_ids[0])
    assert first is not None
    assert (page.items[0].views, page.items[0].likes) == (first.views, None)
    assert page.items[0].published_at == first.published_at


async def test_comments(client: httpx.AsyncClient, world: World) -> None:
    video = max(world.find_videos(comments_disabled=False, limit=30), key=lambda v: v.comments or 0)
    page = parse_comments(await get(client, f"comments/{video.video_id}", sort_by="new"))
    assert page.total_results == video.comments and len(page.items) == 20
    assert page.next_page_token
    first = page.items[0]
    assert first.video_id == video.video_id and first.source == INVIDIOUS
    assert first.comment_id.startswith("Ug") and first.author and first.author.startswith("@")
    assert first.likes is not None and first.reply_count is not None
    assert first.published_at is not None and first.published_at <= datetime(2025, 6, 1,
                                                                              tzinfo=UTC)
    assert first.updated_at is None
    later = parse_comments(await get(client, f"comments/{video.video_id}",
                                     continuation=page.next_page_token))
    assert later.total_results is None
    assert not {c.comment_id for c in later.items} & {c.comment_id for c in page.items}


async def test_comments_turned_off(client: httpx.AsyncClient, world: World) -> None:
    disabled = world.find_videos(comments_disabled=True, limit=1)[0]
    page = parse_comments(await get(client, f"comments/{disabled.video_id}"))
    assert page.items == [] and page.total_results is None and page.next_page_token is None


async def test_error_bodies_and_unknown_shapes(client: httpx.AsyncClient) -> None:
    with pytest.raises(InvidiousErrorBody, match="unavailable"):
        parse_video(await get(client, "videos/AAAAAAAAAAA"))
    with pytest.raises(InvidiousErrorBody):
        parse_channel(await get(client, "channels/UCnope"))
    for parse in (parse_video, parse_channel, parse_channel_videos, parse_comments):
        with pytest.raises(UnknownShape):
            parse([1, 2, 3])
    with pytest.raises(UnknownShape):
        parse_video({"videoId": "x", "viewCount": "many"})
