"""The RapidAPI-style source against the sandbox's /rapidapi/instagram/: every capability, the
listings' pages (a 1M-follower account's included), and the provider's and Instagram's
refusals classified."""

import time

import asyncpg
import pytest

from core.errors import CredentialInvalid, RateLimited
from credentials import store
from credentials.crypto import Crypto, generate_key
from credentials.manager import CredentialManager
from instagram.models import RAPIDAPI
from instagram.sources.errors import NotFound, Private
from instagram.sources.rapidapi import RapidApiSource
from instagram.sources.rapidapi_keys import KeyPool, StoredKeys
from instagram.sources.rapidapi_parse import rapidapi_document
from sandbox.instagram.rapidapi import USER_NOT_FOUND
from sandbox.instagram.world import (
    MILLION_HANDLE,
    MISSING_HANDLE,
    OWNER_HANDLE,
    PRIVATE_HANDLE,
    Account,
    World,
)
from tests.instagram.conftest import HOST, KEY, RAPIDAPI_URL, Sandbox

FOLLOWERS = "POST /rapidapi/instagram/instagram/user/get_followers"


def source(*keys: str) -> RapidApiSource:
    return RapidApiSource(RAPIDAPI_URL, HOST, KeyPool(list(keys or [KEY])))


def million(world: World) -> Account:
    account = world.account_by_handle(MILLION_HANDLE)
    assert account is not None
    return account


async def test_profiles(sandbox: Sandbox, world: World) -> None:
    account = million(world)
    rapidapi = source()
    found = await rapidapi.call("profile_by_handle", handle=MILLION_HANDLE)
    profile = found.profile
    assert (profile.profile_id, profile.followers, profile.media_count, profile.source) == (
        account.pk, 1_000_000, account.media_count, RAPIDAPI)
    assert (profile.profile_type, profile.is_business_or_creator) == ("business", True)
    assert [p.post_id for p in found.posts] == [m.pk for m in world.media_of(account, 0, 12)]
    assert (await rapidapi.call("profile_by_id", profile_id=account.pk)) == profile
    private = await rapidapi.call("profile_by_handle", handle=PRIVATE_HANDLE)
    assert private.profile.is_private and private.posts == []


async def test_posts_of_profile_and_a_post(sandbox: Sandbox, world: World) -> None:
    account = million(world)
    rapidapi = source()
    ids: list[str] = []
    cursor = None
    for _ in range(3):
        page = await rapidapi.call("posts_of_profile", profile_id=account.pk, cursor=cursor)
        ids += [p.post_id for p in page.items]
        cursor = page.next_cursor
    assert ids == [m.pk for m in world.media_of(account, 0, 36)]
    media = world.media_of(account, 0, 1)[0]
    post = await rapidapi.call("post_by_shortcode", shortcode=media.shortcode)
    assert (post.post_id, post.likes, post.comments, post.published_at, post.handle) == (
        media.pk, media.likes, media.comments, media.taken_at, MILLION_HANDLE)


async def test_followers_of_a_million_page_without_duplicates(sandbox: Sandbox,
                                                               world: World) -> None:
    account = million(world)
    rapidapi = source()
    seen: list[str] = []
    cursors: list[str | None] = [None]
    for _ in range(6):
        page = await rapidapi.call("followers", profile_id=account.pk, cursor=cursors[-1])
        assert len(page.items) == 50 and page.next_cursor
        seen += [a.user_id for a in page.items]
        cursors.append(page.next_cursor)
    assert len(seen) == len(set(seen)) == 300
    assert seen == [a.pk for a in world.followers_of(account, 0, 300)]
    again = await rapidapi.call("followers", profile_id=account.pk, cursor=cursors[3])
    assert [a.user_id for a in again.items] == seen[150:200], "a cursor names the same page"
    assert again.next_cursor == cursors[4]
    pages = (await sandbox.usage())["pages"]
    assert pages[f"{FOLLOWERS} -"] == 1 and pages[f"{FOLLOWERS} {cursors[3]}"] == 2


async def test_the_last_page_of_a_million_is_as_cheap_as_the_first(sandbox: Sandbox,
                                                                    world: World) -> None:
    from sandbox.instagram.fallbacks import cursor

    account = million(world)
    near_end = cursor("followers", account.pk, 999_980)
    page = await source().call("followers", profile_id=account.pk, cursor=near_end)
    assert len(page.items) == 20 and page.next_cursor is None


async def test_following_comments_likers(sandbox: Sandbox, world: World) -> None:
    account = million(world)
    rapidapi = source()
    following = await rapidapi.call("following", handle=MILLION_HANDLE)
    assert [a.user_id for a in following.items] == [
        a.pk for a in world.following_of(account, 0, 50)]
    media = next(m for m in world.media_of(account, 0, 50) if (m.comments or 0) > 30)
    first = await rapidapi.call("comments", post_id=media.pk)
    second = await rapidapi.call("comments", shortcode=media.shortcode, cursor=first.next_cursor)
    expected = world.comments_of(media, 0, 30)
    assert [c.comment_id for c in first.items + second.items] == [
        c.comment_id for c in expected]
    assert first.total == media.comments and first.items[0].text == expected[0].text
    likers = await rapidapi.call("likers", post_id=f"{media.pk}_{account.pk}")
    more = await rapidapi.call("likers", post_id=media.pk, cursor=likers.next_cursor)
    ids = [a.user_id for a in likers.items + more.items]
    assert ids == [a.pk for a in world.likers_of(media, 0, 200)] and len(set(ids)) == 200


async def test_stories_hashtags_tags(sandbox: Sandbox, world: World) -> None:
    owner = world.account_by_handle(OWNER_HANDLE)
    assert owner is not None
    rapidapi = source()
    stories = await rapidapi.call("stories", handle=OWNER_HANDLE)
    assert [s.post_id for s in stories] == [s.pk for s in world.stories_of(owner)]
    assert all(s.post_type == "story" and s.expires_at for s in stories)
    top = await rapidapi.call("hashtag_posts", hashtag="#travel", tab="top")
    assert [p.post_id for p in top.items] == [m.pk for m in world.hashtag_media("travel",
                                                                                top=True)[:9]]
    recent = await rapidapi.call("hashtag_posts", hashtag="travel", tab="recent",
                                 cursor=None)
    nxt = await rapidapi.call("hashtag_posts", hashtag="travel", tab="recent",
                              cursor=recent.next_cursor)
    assert [p.post_id for p in recent.items + nxt.items] == [
        m.pk for m in world.hashtag_media("travel")[:18]]
    tagged = await rapidapi.call("tagged_posts", profile_id=owner.pk)
    assert [p.post_id for p in tagged.items] == [m.pk for m in world.tagged_media(owner)[:12]]


async def test_unknown_and_private(sandbox: Sandbox, world: World) -> None:
    rapidapi = source()
    with pytest.raises(NotFound):
        await rapidapi.call("profile_by_handle", handle=MISSING_HANDLE)
    with pytest.raises(NotFound):
        await rapidapi.call("post_by_shortcode", shortcode="AAAAAAAAAAA")
    for capability in ("followers", "following", "posts_of_profile", "tagged_posts"):
        with pytest.raises(Private) as private:
            await rapidapi.call(capability, handle=PRIVATE_HANDLE)
        assert private.value.kind == "private"


async def test_the_provider_rate_limit_is_a_wait(sandbox: Sandbox, world: World) -> None:
    sandbox.app.state.instagram_rapidapi.clock = lambda: 100.0  # every call in one second
    rapidapi = source()
    for _ in range(2):
        await rapidapi.call("profile_by_id", profile_id=million(world).pk)
    with pytest.raises(RateLimited) as limited:
        await rapidapi.call("profile_by_id", profile_id=million(world).pk)
    assert limited.value.retry_after == 1.0  # x-ratelimit-requests-reset
    # A one-second throttle is waited out once in place; refused again, the key rests.
    assert (await sandbox.usage())["statuses"]["429"] == 2
    with pytest.raises(RateLimited):  # the key rests: no call goes out
        await rapidapi.call("profile_by_id", profile_id=million(world).pk)
    assert (await sandbox.usage())["statuses"]["429"] == 2


async def test_a_throttle_at_the_window_edge_is_waited_out(sandbox: Sandbox,
                                                           world: World) -> None:
    """Calls paced at the provider's own 2/s meet its window a few milliseconds early: the
    source waits the second it is told and the call goes through, the key never resting."""
    sandbox.app.state.instagram_rapidapi.clock = time.monotonic
    rapidapi = source()
    for _ in range(3):
        found = await rapidapi.call("profile_by_id", profile_id=million(world).pk)
        assert found.handle == million(world).handle
    assert (await sandbox.usage())["statuses"]["429"] == 1
    assert (await sandbox.usage())["statuses"]["200"] == 3


async def test_a_key_not_subscribed_is_retired(sandbox: Sandbox, world: World) -> None:
    keys = KeyPool(["not-subscribed"])
    rapidapi = RapidApiSource(RAPIDAPI_URL, HOST, keys)
    for _ in range(2):
        with pytest.raises(CredentialInvalid):
            await rapidapi.call("profile_by_id", profile_id=million(world).pk)
    assert (await sandbox.usage())["statuses"] == {"403": 1}, "a retired key is not tried again"
    keys.keys.append(KEY)
    found = await rapidapi.call("profile_by_id", profile_id=million(world).pk)
    assert found.handle == MILLION_HANDLE


async def test_a_stored_key_not_subscribed_is_marked_invalid(
        sandbox: Sandbox, world: World, pool: asyncpg.Pool) -> None:
    await pool.execute("TRUNCATE credential")
    crypto = Crypto([generate_key()])
    bad, _ = await store.upsert(pool, crypto, RAPIDAPI, {"key": "not-subscribed"})
    manager = CredentialManager(pool, crypto)
    rapidapi = RapidApiSource(RAPIDAPI_URL, HOST, StoredKeys(manager))
    with pytest.raises(CredentialInvalid):
        await rapidapi.call("profile_by_id", profile_id=million(world).pk)
    row = await pool.fetchrow("SELECT data_access_expired, last_error FROM credential "
                              "WHERE id = $1", bad.id)
    assert row["data_access_expired"] and "not subscribed" in row["last_error"]
    await store.upsert(pool, crypto, RAPIDAPI, {"key": KEY})
    manager.invalidate()
    found = await rapidapi.call("profile_by_id", profile_id=million(world).pk)
    assert found.followers == 1_000_000 and rapidapi.calls == 2


async def test_rapidapi_documents_parse_for_beat_parse(sandbox: Sandbox, world: World) -> None:
    account = million(world)
    headers = {"x-rapidapi-key": KEY}
    info = (await sandbox.client.post("/rapidapi/instagram/instagram/user/get_info",
                                      json={"username": MILLION_HANDLE}, headers=headers)).json()
    media = (await sandbox.client.post("/rapidapi/instagram/instagram/user/get_media",
                                       json={"id": account.pk}, headers=headers)).json()
    [profile] = rapidapi_document(info) or []
    assert (profile.kind, profile.id, profile.followers) == ("profile", account.pk, 1_000_000)
    posts = rapidapi_document(media) or []
    newest = world.media_of(account, 0, 12)
    assert [(p.kind, p.id, p.likes) for p in posts] == [("post", m.pk, m.likes) for m in newest]
    assert rapidapi_document({"data": {"user": None}}) is None
    assert rapidapi_document(USER_NOT_FOUND) == []
