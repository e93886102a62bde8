"""The Facebook Graph API source against the sandbox (in-process): pages, posts and videos in one
?ids= call, shares absent -> None, private and deleted posts as permanent errors of their own
ids, an expired token marked invalid in the credential table while another carries on, and
throttling as RateLimited with the usage headers' wait."""

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from core.config import Settings
from core.credential_rates import RateCheck
from core.errors import CredentialInvalid, NotFound, RateLimited
from core.ratelimit import RateLimiter
from credentials import store
from credentials.crypto import Crypto, generate_key
from credentials.manager import CredentialManager
from facebook.models import GRAPH_API, Post
from facebook.sources.errors import Private
from facebook.sources.graph_api import POST_FIELDS, VIDEO_FIELDS, GraphApiSource
from facebook.sources.tokens import StoredTokens, import_tokens
from sandbox.facebook.world import DELETED_POST, PRIVATE_POST, build_world

SANDBOX = "http://sandbox"
GRAPH = f"{SANDBOX}/facebook/graph/v19.0"
TOKEN = "sandbox-graph-token"
OTHER = "sandbox-graph-token-no-insights"  # a valid session too
world = build_world(1)


async def source_with(pool: asyncpg.Pool, *tokens: str) -> GraphApiSource:
    await pool.execute("TRUNCATE credential")
    crypto = Crypto([generate_key()])
    await import_tokens(pool, crypto, list(tokens))
    return GraphApiSource(GRAPH, StoredTokens(CredentialManager(pool, crypto, cache_ttl_s=0)))


@pytest.fixture
async def source(pool: asyncpg.Pool, sandbox: httpx.AsyncClient
                 ) -> AsyncIterator[GraphApiSource]:
    yield await source_with(pool, TOKEN)


async def test_a_page_by_name_with_its_followers(source: GraphApiSource) -> None:
    page = await source.call("page", page="millionfans")
    expected = world.page("millionfans")
    assert expected is not None
    assert (page.page_id, page.username, page.followers, page.fan_count) == (
        expected.page_id, "millionfans", expected.followers, expected.fan_count)


async def test_a_page_name_no_page_has_is_not_found(source: GraphApiSource) -> None:
    """The Graph API says "(#100) Some of the aliases you requested do not exist": a page
    that does not exist, for good (not a bad request to retry or report as a failure)."""
    with pytest.raises(NotFound):
        await source.call("page", page="no.such.page.anywhere")


async def test_posts_in_one_batch_with_shares_none_when_never_shared(
        source: GraphApiSource, sandbox: httpx.AsyncClient) -> None:
    posts = world.post_list()[:4]
    found = await source.call("posts", ids=[p.post_id for p in posts])
    assert (await sandbox.get("/_sandbox/facebook/graph/usage")).json()["calls"]["app"] == 1
    for post in posts:
        got = found[post.post_id]
        assert isinstance(got, Post)
        assert (got.likes, got.comments, got.shares) == (post.reactions, post.comments,
                                                          post.shares)
    assert any(p.shares is None for p in posts)


async def test_a_reel_has_its_views_and_type(source: GraphApiSource) -> None:
    reel = next(v for v in world.videos.values() if v.reel)
    got = (await source.call("videos", ids=[reel.video_id]))[reel.video_id]
    assert isinstance(got, Post)
    assert (got.post_type, got.views, got.length_s) == ("reel", reel.views, reel.length)


async def test_private_and_deleted_posts_fail_alone(source: GraphApiSource) -> None:
    good = world.post_list()[0].post_id
    found = await source.call("posts", ids=[good, PRIVATE_POST, DELETED_POST])
    assert isinstance(found[good], Post)
    assert isinstance(found[PRIVATE_POST], Private)
    assert isinstance(found[DELETED_POST], NotFound)


async def test_an_expired_token_is_marked_and_another_carries_on(
        pool: asyncpg.Pool, sandbox: httpx.AsyncClient) -> None:
    source = await source_with(pool, TOKEN, OTHER)
    await sandbox.post(f"/_sandbox/facebook/graph/tokens/{TOKEN}/expire")
    for _ in range(30):  # tokens are picked at random: each call is answered all the same
        assert (await source.call("page", page="beatsandbox")).username == "beatsandbox"
        infos = {i.id: i for i in await store.list_infos(pool, GRAPH_API)}
        if any(i.data_access_expired for i in infos.values()):
            break
    assert sorted(i.data_access_expired for i in infos.values()) == [False, True]


async def test_no_usable_token_is_a_credential_error(pool: asyncpg.Pool,
                                                     sandbox: httpx.AsyncClient) -> None:
    source = await source_with(pool, "sandbox-graph-token-expired")
    with pytest.raises(CredentialInvalid):
        await source.call("page", page="beatsandbox")


async def test_a_spent_token_budget_is_rate_limited_with_the_headers_wait(
        source: GraphApiSource, sandbox: httpx.AsyncClient) -> None:
    await sandbox.post("/_sandbox/facebook/graph/usage", json={"token_calls": 1, "reset": True})
    await source.call("page", page="beatsandbox")
    with pytest.raises(RateLimited) as caught:
        await source.call("page", page="beatsandbox")
    assert caught.value.retry_after >= 60


def test_fields_of_posts_and_videos_differ_where_the_node_types_do() -> None:
    assert "views" in VIDEO_FIELDS and "views" not in POST_FIELDS
    assert "shares" in POST_FIELDS


async def test_tokens_past_their_own_call_limit_wait_for_a_slot(
        pool: asyncpg.Pool, sandbox: httpx.AsyncClient, settings: Settings) -> None:
    """CREDENTIAL_LIMITS (200 calls an hour per token by default) are taken in the limiter
    before each call: past them nothing goes out, and the task waits (RateLimited) rather
    than failing."""
    assert settings.redis_url
    limiter = RateLimiter.from_url(settings.redis_url, prefix=settings.rate_limit_prefix)
    try:
        await pool.execute("TRUNCATE credential")
        crypto = Crypto([generate_key()])
        await import_tokens(pool, crypto, [TOKEN])
        check = RateCheck(limiter, ["2/min"])
        source = GraphApiSource(GRAPH, StoredTokens(
            CredentialManager(pool, crypto, cache_ttl_s=0, has_budget=check), check))
        for _ in range(2):
            await source.call("page", page="millionfans")
        with pytest.raises(RateLimited) as caught:
            await source.call("page", page="millionfans")
    finally:
        await limiter.aclose()
    assert 0 < caught.value.retry_after <= 60
