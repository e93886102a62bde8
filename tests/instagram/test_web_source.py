"""The web JSON source against the sandbox's /instagram-web/ (and, for answers the sandbox does
not give, httpx.MockTransport): profiles, posts, timeline pages, and how refusals are read."""

import httpx
import pytest

from core import http
from core.errors import RateLimited, SourceUnavailable
from instagram.models import WEB
from instagram.sources.errors import NotFound, Private
from instagram.sources.web import LOGIN_WALL_WAIT_S, WebSource
from sandbox.instagram.world import (
    MILLION_HANDLE,
    MISSING_HANDLE,
    PRIVATE_HANDLE,
    World,
)
from tests.instagram.conftest import WEB_URL, Sandbox


async def test_profile_by_handle(sandbox: Sandbox, world: World) -> None:
    account = world.account_by_handle(MILLION_HANDLE)
    assert account is not None
    found = await WebSource(WEB_URL).call("profile_by_handle", handle="@" + MILLION_HANDLE)
    profile = found.profile
    assert (profile.profile_id, profile.handle, profile.source) == (account.pk, MILLION_HANDLE,
                                                                    WEB)
    assert (profile.followers, profile.following, profile.media_count) == (
        1_000_000, account.following, account.media_count)
    assert profile.profile_type == "business" and profile.is_business_or_creator
    newest = world.media_of(account, 0, 12)
    assert [p.post_id for p in found.posts] == [m.pk for m in newest]
    first, expected = found.posts[0], newest[0]
    assert (first.shortcode, first.likes, first.comments, first.caption) == (
        expected.shortcode, expected.likes, expected.comments, expected.caption)
    assert first.published_at == expected.taken_at
    assert found.next_cursor is not None


async def test_post_by_shortcode(sandbox: Sandbox, world: World) -> None:
    account = world.account_by_handle(MILLION_HANDLE)
    assert account is not None
    media = world.media_of(account, 0, 40)
    reel = next(m for m in media if m.media_type == "reels")
    carousel = next(m for m in media if m.media_type == "carousel")
    source = WebSource(WEB_URL)
    post = await source.call("post_by_shortcode", shortcode=reel.shortcode)
    assert (post.post_id, post.post_type, post.plays, post.likes) == (
        reel.pk, "reels", reel.plays, reel.likes)
    assert post.permalink == f"https://www.instagram.com/reel/{reel.shortcode}/"
    post = await source.call("post_by_shortcode", shortcode=carousel.shortcode)
    assert (post.post_type, post.children) == ("carousel", len(carousel.children))


async def test_posts_of_profile_pages_without_duplicates(sandbox: Sandbox, world: World) -> None:
    account = world.account_by_handle(MILLION_HANDLE)
    assert account is not None
    source = WebSource(WEB_URL)
    seen: list[str] = []
    cursor = None
    for _ in range(4):
        page = await source.call("posts_of_profile", handle=MILLION_HANDLE, cursor=cursor)
        seen += [p.post_id for p in page.items]
        cursor = page.next_cursor
    assert seen == [m.pk for m in world.media_of(account, 0, 48)]
    calls = source.calls
    again = await source.call("posts_of_profile", profile_id=account.pk, cursor=cursor)
    assert source.calls == calls + 1, "with an id, a later page is one call"
    assert [p.post_id for p in again.items] == [m.pk for m in world.media_of(account, 48, 12)]


async def test_private_and_unknown(sandbox: Sandbox, world: World) -> None:
    source = WebSource(WEB_URL)
    with pytest.raises(Private) as private:
        await source.call("profile_by_handle", handle=PRIVATE_HANDLE)
    assert private.value.kind == "private"
    hidden = world.account_by_handle(PRIVATE_HANDLE)
    assert hidden is not None
    with pytest.raises(Private):
        await source.call("posts_of_profile", profile_id=hidden.pk)
    with pytest.raises(NotFound):
        await source.call("profile_by_handle", handle=MISSING_HANDLE)
    with pytest.raises(NotFound):
        await source.call("post_by_shortcode", shortcode="AAAAAAAAAAA")


async def test_the_login_wall_is_a_rate_limit(sandbox: Sandbox) -> None:
    sandbox.app.state.instagram_web.limit = 2
    source = WebSource(WEB_URL)
    for _ in range(2):
        await source.call("profile_by_handle", handle=MILLION_HANDLE)
    with pytest.raises(RateLimited) as limited:
        await source.call("profile_by_handle", handle=MILLION_HANDLE)
    assert limited.value.retry_after == LOGIN_WALL_WAIT_S
    assert "/accounts/login/" in str(limited.value)


def answering(response: httpx.Response) -> None:
    http.use_client(httpx.AsyncClient(transport=httpx.MockTransport(lambda _: response)))


@pytest.mark.parametrize("response, wait", [
    (httpx.Response(429, headers={"retry-after": "90"}), 90.0),
    (httpx.Response(401, json={"message": "Please wait a few minutes before you try again.",
                               "require_login": True, "status": "fail"}), LOGIN_WALL_WAIT_S),
    (httpx.Response(301, headers={"location": "https://www.instagram.com/accounts/login/"}),
     LOGIN_WALL_WAIT_S),
])
async def test_throttling_answers(response: httpx.Response, wait: float) -> None:
    answering(response)
    try:
        with pytest.raises(RateLimited) as limited:
            await WebSource("http://web.test").call("profile_by_handle", handle="nasa")
        assert limited.value.retry_after == wait
    finally:
        await http.close_client()


async def test_a_404_is_not_found_and_a_5xx_unavailable() -> None:
    answering(httpx.Response(404, text="<html>Page Not Found</html>"))
    try:
        with pytest.raises(NotFound):
            await WebSource("http://web.test").call("post_by_shortcode", shortcode="x")
        answering(httpx.Response(503))
        with pytest.raises(SourceUnavailable):
            await WebSource("http://web.test").call("post_by_shortcode", shortcode="x")
    finally:
        await http.close_client()
