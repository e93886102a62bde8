"""The Graph API source against the in-process sandbox, with its tokens in the real credential
table: every capability, and what happens to a token the platform refuses or throttles."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest

from core import http
from core.config import Settings
from core.credential_rates import RateCheck
from core.errors import CredentialInvalid, NotFound, RateLimited, Unsupported
from core.ratelimit import RateLimiter
from credentials import store
from credentials.crypto import Crypto, generate_key
from credentials.manager import CredentialManager
from instagram.models import GRAPH_API
from instagram.sources.graph_api.source import GraphApiSource
from instagram.sources.graph_api.tokens import StoredTokens, import_tokens
from sandbox.app import create_sandbox_app
from sandbox.instagram.world import (
    MILLION_HANDLE,
    MISSING_HANDLE,
    PERSONAL_HANDLE,
    PRIVATE_HANDLE,
    build_world,
)

SANDBOX = "http://sandbox"
IG_USER_ID = "17841400000000101"
TOKEN = "sandbox-graph-token"
OTHER_TOKEN = "sandbox-graph-token-data-expired"  # its session is valid: the API accepts it
CONTROL = "/_sandbox/instagram/graph"
world = build_world(1)


@pytest.fixture
async def sandbox() -> AsyncIterator[httpx.AsyncClient]:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_sandbox_app(seed=1)),
                               base_url=SANDBOX)
    http.use_client(client)
    yield client
    await http.close_client()


async def stored(pool: asyncpg.Pool, *tokens: str) -> StoredTokens:
    """The tokens as credentials: the first of the owner account, the next of other business
    accounts (one credential per IG user: a new token of the same user replaces the old)."""
    await pool.execute("TRUNCATE credential")
    crypto = Crypto([generate_key()])
    users = [IG_USER_ID, world.million().graph_id]
    await import_tokens(pool, crypto, [{"user_id": str(u), "token": t}
                                       for u, t in zip(users, tokens, strict=False)])
    return StoredTokens(CredentialManager(pool, crypto, cache_ttl_s=0))


@pytest.fixture
async def source(pool: asyncpg.Pool, sandbox: httpx.AsyncClient) -> GraphApiSource:
    return GraphApiSource(f"{SANDBOX}/graph/v19.0", await stored(pool, TOKEN), page_size=10)


async def graph_calls(sandbox: httpx.AsyncClient) -> int:
    calls = (await sandbox.get("/_sandbox/usage")).json()["calls"]
    return sum(n for label, n in calls.items() if label.startswith("GET /graph"))


async def spend(sandbox: httpx.AsyncClient, token: str, calls: int) -> None:
    """Calls made by someone else with the token (another worker)."""
    for _ in range(calls):
        answer = await sandbox.get(f"/graph/{IG_USER_ID}", params={"access_token": token})
        assert answer.status_code == 200


async def test_profile_by_handle_is_one_call(source: GraphApiSource,
                                             sandbox: httpx.AsyncClient) -> None:
    before = await graph_calls(sandbox)
    found = await source.call("profile_by_handle", handle=MILLION_HANDLE, posts=12)
    assert await graph_calls(sandbox) == before + 1
    million = world.million()
    assert found.profile.followers == 1_000_000 and found.profile.handle == MILLION_HANDLE
    # Keyed by Instagram's own id (ig_id), as every source keys it; the Graph id kept beside.
    assert found.profile.profile_id == million.pk and found.profile.graph_id == million.graph_id
    assert found.profile.source == GRAPH_API
    assert [p.post_id for p in found.posts] == [m.pk for m in world.media_of(million, 0, 12)]
    assert [p.graph_id for p in found.posts] == [m.graph_id for m in world.media_of(million, 0, 12)]
    assert all(p.handle == MILLION_HANDLE and p.likes is not None for p in found.posts)
    assert found.next_cursor is not None


async def test_posts_page_on(source: GraphApiSource) -> None:
    first = await source.call("posts_of_profile", handle=MILLION_HANDLE)
    second = await source.call("posts_of_profile", handle=MILLION_HANDLE,
                               cursor=first.next_cursor)
    expected = [m.pk for m in world.media_of(world.million(), 0, 20)]
    assert [p.post_id for p in first.items + second.items] == expected
    by_id = await source.call("posts_of_profile", profile_id=IG_USER_ID)
    assert [p.post_id for p in by_id.items] == [m.pk for m in
                                                world.media_of(world.owner(), 0, 10)]


@pytest.mark.parametrize("handle", [PRIVATE_HANDLE, PERSONAL_HANDLE, MISSING_HANDLE])
async def test_not_a_business_account_is_for_another_source(source: GraphApiSource,
                                                            handle: str) -> None:
    with pytest.raises(Unsupported):
        await source.call("profile_by_handle", handle=handle)


async def test_profile_post_and_insights(source: GraphApiSource) -> None:
    profile = await source.call("profile_by_id", profile_id=IG_USER_ID)
    assert profile.handle == "beat.sandbox" and profile.followers == world.owner().followers
    media = world.media_of(world.million(), 0, 60)
    carousel = next(m for m in media if m.media_type == "carousel")
    post = await source.call("post_by_id", post_id=carousel.graph_id)
    assert post.post_type == "carousel" and post.children == len(carousel.children)
    assert post.shortcode == carousel.shortcode and post.handle == MILLION_HANDLE
    reel = next(m for m in media if m.media_type == "reels")
    insights = {i.name: i.value for i in await source.call(
        "post_insights", post_id=reel.graph_id, post_type="reels")}
    assert insights["plays"] == reel.plays and insights["likes"] == reel.likes
    assert insights["reach"] == world.media_insights(reel)["reach"]
    with pytest.raises(NotFound):
        await source.call("post_by_id", post_id="17900000000000000")


async def test_stories_and_story_insights(source: GraphApiSource) -> None:
    stories = await source.call("stories", profile_id=IG_USER_ID, handle="beat.sandbox")
    assert len(stories) == 3 and all(s.post_type == "story" for s in stories)
    assert all(s.expires_at - s.published_at == timedelta(hours=24) for s in stories)
    insights = {i.name: i for i in await source.call("story_insights",
                                                     story_id=stories[0].graph_id)}
    assert insights["navigation"].value is not None and insights["reach"].value


async def test_account_insights_and_audience(source: GraphApiSource) -> None:
    found = {i.name: i.value for i in await source.call("profile_insights",
                                                        profile_id=IG_USER_ID)}
    day = (world.now - timedelta(days=1)).date()
    assert found["reach"] == world.account_insights(world.owner(), day)["reach"]
    audience = {i.name: i for i in await source.call("audience_insights",
                                                     profile_id=world.million().graph_id)}
    assert set(audience) == {f"follower_demographics_{b}" for b in
                             ("age", "gender", "city", "country")}
    assert sum(audience["follower_demographics_age"].breakdowns.values()) == 1_000_000
    assert "25-34" in audience["follower_demographics_age"].breakdowns


async def test_comments_hashtags_tags(source: GraphApiSource) -> None:
    post = next(m for m in world.media_of(world.million(), 0, 20) if (m.comments or 0) > 25)
    first = await source.call("comments", post_id=post.graph_id)
    second = await source.call("comments", post_id=post.graph_id, cursor=first.next_cursor)
    assert [c.comment_id for c in first.items + second.items] == [
        c.comment_id for c in world.comments_of(post, 0, 20)]
    top = await source.call("hashtag_posts", hashtag="#travel")
    assert top.items and all("#travel" in (p.caption or "") for p in top.items)
    recent = await source.call("hashtag_posts", hashtag="travel", tab="recent",
                               cursor=top.next_cursor)
    assert recent.items
    tagged = await source.call("tagged_posts", profile_id=IG_USER_ID)
    assert [p.post_id for p in tagged.items] == [m.pk for m in
                                                 world.tagged_media(world.owner())[:10]]


async def test_expired_token_is_retired(pool: asyncpg.Pool, source: GraphApiSource,
                                        sandbox: httpx.AsyncClient) -> None:
    await source.call("profile_by_id", profile_id=IG_USER_ID)
    await sandbox.post(f"{CONTROL}/tokens/{TOKEN}/expire")
    with pytest.raises(CredentialInvalid):
        await source.call("profile_by_id", profile_id=IG_USER_ID)
    [info] = await store.list_infos(pool, GRAPH_API)
    assert info.data_access_expired and "190" in (info.last_error or "")


async def test_another_token_takes_over_from_an_expired_one(
        pool: asyncpg.Pool, sandbox: httpx.AsyncClient) -> None:
    tokens = await stored(pool, TOKEN, OTHER_TOKEN)
    source = GraphApiSource(f"{SANDBOX}/graph", tokens)
    await sandbox.post(f"{CONTROL}/tokens/{TOKEN}/expire")
    for _ in range(4):  # whichever is picked first, every call is answered
        assert (await source.call("profile_by_id", profile_id=IG_USER_ID)).handle


@pytest.mark.parametrize(("budget", "code"), [("token_calls", 17), ("business_calls", 32),
                                              ("app_calls", 4), ("insights_calls", 613)])
async def test_throttled_token_rests_for_the_header_wait(
        pool: asyncpg.Pool, source: GraphApiSource, sandbox: httpx.AsyncClient, budget: str,
        code: int) -> None:
    await sandbox.post(f"{CONTROL}/usage", json={budget: 2, "window_s": 600})
    path = f"/graph/{IG_USER_ID}" + ("/insights" if budget == "insights_calls" else "")
    params = {"access_token": TOKEN, "metric": "reach", "period": "day"}
    for _ in range(2):
        assert (await sandbox.get(path, params=params)).status_code == 200
    answer = await sandbox.get(path, params=params)
    assert answer.status_code == 400 and answer.json()["error"]["code"] == code
    started = datetime.now(UTC)
    with pytest.raises(RateLimited) as caught:
        await source.call("profile_insights" if budget == "insights_calls" else
                          "profile_by_id", profile_id=IG_USER_ID)
    assert 540 <= caught.value.retry_after <= 600  # estimated_time_to_regain_access: 10 min
    [info] = await store.list_infos(pool, GRAPH_API)
    assert info.disabled_till is not None
    assert info.disabled_till - started >= timedelta(seconds=539)


async def test_token_rests_at_85_percent_before_the_platform_throttles(
        pool: asyncpg.Pool, sandbox: httpx.AsyncClient) -> None:
    tokens = await stored(pool, TOKEN, OTHER_TOKEN)
    source = GraphApiSource(f"{SANDBOX}/graph", tokens)
    await sandbox.post(f"{CONTROL}/usage", json={"token_calls": 20})
    await spend(sandbox, TOKEN, 16)
    await spend(sandbox, OTHER_TOKEN, 16)
    await source.call("profile_by_id", profile_id=IG_USER_ID)  # answers 85 %: 17 of 20
    infos = await store.list_infos(pool, GRAPH_API)
    rested = [i for i in infos if i.disabled_till is not None]
    assert len(rested) == 1
    for _ in range(5):
        picked = await tokens.pick()
        assert picked is not None and picked.credential is not None
        assert picked.credential.id != rested[0].id


async def test_capabilities_it_lacks() -> None:
    source = GraphApiSource(SANDBOX, tokens=None)  # type: ignore[arg-type]
    for capability in ("post_by_shortcode", "followers", "following", "likers"):
        assert capability not in source.capabilities
        with pytest.raises(Unsupported):
            await source.call(capability)




async def test_tokens_past_their_own_call_limit_are_passed_over_until_a_slot_frees(
        pool: asyncpg.Pool, sandbox: httpx.AsyncClient, settings: Settings) -> None:
    """CREDENTIAL_LIMITS (the Graph API's 200 calls an hour per token by default), taken in the
    limiter before each call: past it no call goes out, and the source says when one may."""
    assert settings.redis_url
    limiter = RateLimiter.from_url(settings.redis_url, prefix=settings.rate_limit_prefix)
    try:
        check = RateCheck(limiter, ["2/min"])
        crypto = (await stored(pool, TOKEN, OTHER_TOKEN)).manager.crypto
        tokens = StoredTokens(CredentialManager(pool, crypto, cache_ttl_s=0, has_budget=check),
                              check)
        source = GraphApiSource(f"{SANDBOX}/graph/v19.0", tokens)
        before = await graph_calls(sandbox)
        for _ in range(4):
            await source.call("profile_by_handle", handle=MILLION_HANDLE, posts=0)
        with pytest.raises(RateLimited) as caught:
            await source.call("profile_by_handle", handle=MILLION_HANDLE, posts=0)
    finally:
        await limiter.aclose()
    assert await graph_calls(sandbox) == before + 4  # two a token, then none
    assert 0 < caught.value.retry_after <= 60


async def test_the_usage_the_graph_api_reports_for_a_token_is_kept_for_the_budgets(
        source: GraphApiSource, sandbox: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    await sandbox.post(f"{CONTROL}/usage", json={"token_calls": 10, "reset": True})
    try:
        await source.call("profile_by_handle", handle=MILLION_HANDLE, posts=0)
    finally:
        await sandbox.post(f"{CONTROL}/reset")
    [info] = await store.list_infos(pool, GRAPH_API)
    assert info.usage is not None
    # one call of the token's 10 an hour; it would rest at 80 %
    assert (info.usage["used_pct"], info.usage["rests_at_pct"]) == (10.0, 80.0)
    assert info.usage["regains_at"] is None and info.usage["at"]
