"""Instagram profile, post and story flows against the in-process sandbox (real PostgreSQL and
Redis): what a refresh costs and stores, how the chain falls back when the Graph API cannot
answer, and what each flow answers. Expected figures come from the sandbox's world itself."""

from datetime import timedelta

import pytest
from pydantic import ValidationError

from core.errors import NotFound, Permanent, RateLimited
from instagram import flows, metrics
from instagram.models import GRAPH_API, RAPIDAPI, Post
from instagram.sources.errors import Private
from sandbox.instagram.world import (
    MISSING_HANDLE,
    OWNER_HANDLE,
    PERSONAL_HANDLE,
    PRIVATE_HANDLE,
    WORLD_NOW,
    World,
)
from tests.instagram.conftest import Beat, Sandbox

GRAPH_ROUTE = "GET /graph/{path:path}"
GRAPH_TOKEN = "sandbox-graph-token"


def world_averages(world: World, handle: str, posts: int) -> metrics.Averages:
    """The averages Beat should store, over the world's own figures for the recent posts."""
    account = world.account_by_handle(handle)
    assert account is not None
    recent = [Post(post_id=m.pk, post_type=m.media_type, likes=m.likes, comments=m.comments,
                   plays=m.plays, source="world") for m in world.media_of(account, 0, posts)]
    return metrics.averages(recent, account.followers)


async def test_a_profile_by_handle_costs_one_graph_call_and_stores_posts_and_averages(
        beat: Beat, sandbox: Sandbox, world: World) -> None:
    owner = world.owner()
    result = await flows.refresh_profile_by_handle(flows.HandleParams(handle=OWNER_HANDLE),
                                                   beat.ctx())
    assert (await sandbox.usage())["calls"] == {GRAPH_ROUTE: 1}
    assert result["profile_id"] == owner.pk and result["source"] == GRAPH_API
    assert result["posts"] == 12
    row = await beat.pool.fetchrow("SELECT * FROM instagram_account WHERE profile_id = $1",
                                   owner.pk)
    assert row["graph_id"] == owner.graph_id and row["followers"] == owner.followers
    assert set(row["metric_sources"].values()) == {GRAPH_API}
    expected = world_averages(world, OWNER_HANDLE, 12)
    assert row["avg_likes"] == pytest.approx(expected.avg_likes)
    assert row["avg_comments"] == pytest.approx(expected.avg_comments)
    assert row["averages_posts"] == 12 and row["averages_source"] == GRAPH_API
    stored = await beat.pool.fetch("SELECT post_id, likes, metric_sources FROM instagram_post "
                                   "WHERE profile_id = $1", owner.pk)
    assert {r["post_id"] for r in stored} == {m.pk for m in world.media_of(owner, 0, 12)}
    assert all(set(r["metric_sources"].values()) == {GRAPH_API} for r in stored)
    assert await beat.pool.fetchval("SELECT count(*) FROM profile_log WHERE profile_id = $1",
                                    owner.pk) == 1
    assert await beat.pool.fetchval("SELECT count(DISTINCT post_id) FROM post_log "
                                    "WHERE profile_id = $1", owner.pk) == 12
    events = await beat.pool.fetch("SELECT type, count(*) FROM event_outbox GROUP BY type")
    assert dict(events) == {"profile.instagram.created": 1, "post.instagram.created": 12}


async def test_an_expired_graph_token_is_retired_and_the_provider_answers(
        beat: Beat, sandbox: Sandbox, world: World) -> None:
    handle = world.business_handles(1)[0]
    expired = await sandbox.client.post(
        f"/_sandbox/instagram/graph/tokens/{GRAPH_TOKEN}/expire")
    assert expired.status_code == 200
    result = await flows.refresh_profile_by_handle(flows.HandleParams(handle=handle),
                                                   beat.ctx())
    assert result["source"] == RAPIDAPI and result["posts"] == 12
    token = await beat.pool.fetchrow("SELECT * FROM credential WHERE source = $1", GRAPH_API)
    assert token["data_access_expired"] is True
    row = await beat.pool.fetchrow("SELECT * FROM instagram_account WHERE lower(handle) = $1",
                                   handle)
    assert row["source"] == RAPIDAPI and row["averages_source"] == RAPIDAPI
    assert set(row["metric_sources"].values()) == {RAPIDAPI}
    posts = await beat.pool.fetch("SELECT DISTINCT source FROM instagram_post")
    assert [p["source"] for p in posts] == [RAPIDAPI]
    # The retired token is not tried again: the next refresh goes straight to the provider.
    graph_calls = (await sandbox.usage())["calls"][GRAPH_ROUTE]
    await flows.refresh_profile_basic(flows.BasicParams(handle=OWNER_HANDLE), beat.ctx())
    assert (await sandbox.usage())["calls"][GRAPH_ROUTE] == graph_calls


async def test_a_private_account_is_stored_then_refused(beat: Beat, world: World) -> None:
    with pytest.raises(Private) as refused:
        await flows.refresh_profile_by_handle(flows.HandleParams(handle=PRIVATE_HANDLE),
                                              beat.ctx())
    assert refused.value.kind == "private"
    account = world.account_by_handle(PRIVATE_HANDLE)
    assert account is not None
    row = await beat.pool.fetchrow("SELECT * FROM instagram_account WHERE profile_id = $1",
                                   account.pk)
    assert row["is_private"] is True and row["followers"] == account.followers
    assert row["avg_likes"] is None
    assert await beat.pool.fetchval("SELECT count(*) FROM instagram_post") == 0


async def test_a_missing_account_is_not_found(beat: Beat) -> None:
    with pytest.raises(NotFound):
        await flows.refresh_profile_by_handle(flows.HandleParams(handle=MISSING_HANDLE),
                                              beat.ctx())
    assert await beat.pool.fetchval("SELECT count(*) FROM instagram_account") == 0


async def test_a_personal_account_is_answered_by_a_fallback(beat: Beat, world: World) -> None:
    """The Graph API sees business and creator accounts only."""
    account = world.account_by_handle(PERSONAL_HANDLE)
    assert account is not None
    result = await flows.refresh_profile_by_handle(flows.HandleParams(handle=PERSONAL_HANDLE),
                                                   beat.ctx())
    assert result["source"] != GRAPH_API and result["profile_id"] == account.pk
    row = await beat.pool.fetchrow("SELECT * FROM instagram_account WHERE profile_id = $1",
                                   account.pk)
    assert row["graph_id"] is None and row["profile_type"] == "personal"
    expected = world_averages(world, PERSONAL_HANDLE, result["posts"])
    assert row["avg_likes"] == pytest.approx(expected.avg_likes)


async def test_a_custom_refresh_answers_only_the_named_fields(beat: Beat, world: World) -> None:
    owner = world.owner()
    answer = await flows.refresh_profile_custom(
        flows.CustomParams(handle=OWNER_HANDLE, fields=["followers", "avg_likes"]), beat.ctx())
    expected = world_averages(world, OWNER_HANDLE, 12)
    assert answer == {"source": GRAPH_API, "followers": owner.followers,
                      "avg_likes": pytest.approx(expected.avg_likes)}
    answer = await flows.refresh_profile_custom(
        flows.CustomParams(handle=OWNER_HANDLE, fields=["recent_posts"]), beat.ctx())
    assert set(answer) == {"source", "recent_posts"}
    assert [p["post_id"] for p in answer["recent_posts"]] == \
        [m.pk for m in world.media_of(owner, 0, 12)]


def test_a_custom_refresh_of_an_unknown_field_is_refused_at_the_params() -> None:
    with pytest.raises(ValidationError, match="unknown fields"):
        flows.CustomParams(handle=OWNER_HANDLE, fields=["followers", "password"])


async def test_a_profile_by_its_instagram_id_with_recent_posts(beat: Beat, world: World) -> None:
    account = world.account_by_handle(world.business_handles(2)[1])
    assert account is not None
    result = await flows.refresh_profile_by_profile_id(
        flows.ProfileIdParams(profile_id=account.pk, posts=5), beat.ctx())
    assert result["profile_id"] == account.pk and result["posts"] == 5
    stored = await beat.pool.fetch("SELECT post_id FROM instagram_post WHERE profile_id = $1",
                                   account.pk)
    assert {r["post_id"] for r in stored} == {m.pk for m in world.media_of(account, 0, 5)}
    row = await beat.pool.fetchrow("SELECT * FROM instagram_account WHERE profile_id = $1",
                                   account.pk)
    assert row["averages_posts"] == 5
    expected = world_averages(world, account.handle, 5)
    assert row["avg_comments"] == pytest.approx(expected.avg_comments)


async def test_a_stored_business_account_by_id_is_asked_of_the_graph_api(beat: Beat,
                                                                        world: World) -> None:
    handle = world.business_handles(3)[2]
    await flows.refresh_profile_basic(flows.BasicParams(handle=handle), beat.ctx())
    account = world.account_by_handle(handle)
    assert account is not None
    result = await flows.refresh_profile_by_profile_id(
        flows.ProfileIdParams(profile_id=account.pk), beat.ctx())
    assert result["profile_id"] == account.pk and result["source"] == GRAPH_API


async def test_profile_insights_and_audience_are_stored(beat: Beat, world: World) -> None:
    owner = world.owner()
    result = await flows.refresh_profile_insights(flows.AccountParams(handle=OWNER_HANDLE),
                                                  beat.ctx())
    assert result["profile_id"] == owner.pk and result["source"] == GRAPH_API
    row = await beat.pool.fetchrow("SELECT * FROM instagram_account WHERE profile_id = $1",
                                   owner.pk)
    yesterday = world.account_insights(owner, WORLD_NOW.date() - timedelta(days=1))
    assert row["insights"]["reach"]["value"] == yesterday["reach"]
    assert row["insights"]["profile_views"]["value"] == yesterday["profile_views"]
    ages = world.follower_demographics(owner, "age")
    assert row["audience"]["follower_demographics_age"]["breakdowns"] == ages
    assert row["insights_source"] == row["audience_source"] == GRAPH_API


async def test_a_post_by_shortcode(beat: Beat, world: World) -> None:
    media = world.media_of(world.million(), 3, 1)[0]
    result = await flows.refresh_post_by_shortcode(
        flows.ShortcodeParams(shortcode=media.shortcode), beat.ctx())
    assert result["post_id"] == media.pk and result["shortcode"] == media.shortcode
    row = await beat.pool.fetchrow("SELECT * FROM instagram_post WHERE post_id = $1", media.pk)
    assert (row["likes"], row["comments"]) == (media.likes, media.comments)
    assert row["post_type"] == media.media_type and row["profile_id"] == world.million().pk
    assert row["source"] == result["source"]
    assert await beat.pool.fetchval("SELECT count(*) FROM post_log WHERE post_id = $1",
                                    media.pk) == 1


async def test_a_private_post_waits_for_the_provider_rather_than_pass_for_deleted(
        beat: Beat, world: World, sandbox: Sandbox) -> None:
    """The web answers null media for a deleted post and a private account's post alike: only
    the provider tells them apart, so while it rests the task waits for it."""
    private = world.account_by_handle(PRIVATE_HANDLE)
    assert private is not None
    post = flows.ShortcodeParams(shortcode=world.media_of(private, count=1)[0].shortcode)
    limits = await sandbox.client.post("/_sandbox/instagram/limits", json={
        "provider_windows": [[1, 1e9]], "reset": True})  # one call, then 429 for good
    limits.raise_for_status()
    with pytest.raises(Private):
        await flows.refresh_post_by_shortcode(post, beat.ctx())
    with pytest.raises(RateLimited, match="not public") as waiting:
        await flows.refresh_post_by_shortcode(post, beat.ctx())
    assert waiting.value.retry_after > 0


async def test_post_insights_of_a_post_only_a_fallback_knows_fail_for_good(
        beat: Beat, world: World) -> None:
    personal = world.account_by_handle(PERSONAL_HANDLE)  # no Graph id: a fallback answers
    assert personal is not None
    media = world.media_of(personal, 0, 1)[0]
    await flows.refresh_post_by_shortcode(flows.ShortcodeParams(shortcode=media.shortcode),
                                          beat.ctx())
    with pytest.raises(Permanent, match="no Graph API id"):
        await flows.refresh_post_insights(flows.PostParams(shortcode=media.shortcode),
                                          beat.ctx())


async def test_post_insights_of_a_post_the_graph_api_listed(beat: Beat, world: World) -> None:
    """The Graph API addresses media by its own id: the post is known from the profile's."""
    media = world.media_of(world.owner(), 0, 1)[0]
    await flows.refresh_profile_by_handle(flows.HandleParams(handle=OWNER_HANDLE), beat.ctx())
    result = await flows.refresh_post_insights(flows.PostParams(shortcode=media.shortcode),
                                               beat.ctx())
    figures = world.media_insights(media)
    assert result["post_id"] == media.pk and result["source"] == GRAPH_API
    assert result["insights"]["reach"] == figures["reach"]
    row = await beat.pool.fetchrow("SELECT * FROM instagram_post WHERE post_id = $1", media.pk)
    assert (row["reach"], row["impressions"]) == (figures["reach"], figures["impressions"])
    assert row["insights"]["saved"]["value"] == figures["saved"]
    assert row["metric_sources"]["reach"] == GRAPH_API


async def test_live_stories_are_stored_with_their_expiry(beat: Beat, world: World) -> None:
    owner = world.owner()
    live = world.stories_of(owner)
    result = await flows.refresh_stories_posts(flows.StoriesParams(handle=OWNER_HANDLE),
                                               beat.ctx())
    assert len(live) == 3 and result["stories"] == [s.pk for s in live]
    one = flows.StoriesParams(handle=OWNER_HANDLE, story_id=live[1].pk)
    assert (await flows.refresh_stories_posts(one, beat.ctx()))["stories"] == result["stories"]
    rows = await beat.pool.fetch("SELECT * FROM instagram_post WHERE post_type = 'story' "
                                 "ORDER BY publish_time DESC")
    assert [r["post_id"] for r in rows] == [s.pk for s in live]
    assert all(r["profile_id"] == owner.pk for r in rows)
    assert all(r["expires_at"] - r["publish_time"] == timedelta(hours=24) for r in rows)
    assert [r["publish_time"] for r in rows] == [s.taken_at for s in live]


async def test_a_story_no_longer_live_is_not_found(beat: Beat, world: World) -> None:
    gone = str(int(world.stories_of(world.owner())[-1].pk) + 1)
    with pytest.raises(NotFound, match=f"story {gone} of @{OWNER_HANDLE} is not live"):
        await flows.refresh_stories_posts(
            flows.StoriesParams(handle=OWNER_HANDLE, story_id=gone), beat.ctx())
    stored = await beat.pool.fetchval("SELECT count(*) FROM instagram_post WHERE post_type = "
                                      "'story'")
    assert stored == 3  # the live ones are stored all the same


async def test_story_insights(beat: Beat, world: World) -> None:
    story = world.stories_of(world.owner())[0]
    await flows.refresh_stories_posts(flows.StoriesParams(handle=OWNER_HANDLE), beat.ctx())
    result = await flows.refresh_story_insights(flows.StoryParams(story_id=story.pk),
                                                beat.ctx())
    figures = world.media_insights(story)
    assert result["post_id"] == story.pk and result["source"] == GRAPH_API
    assert result["insights"]["replies"] == figures["replies"]
    row = await beat.pool.fetchrow("SELECT reach, shares FROM instagram_post WHERE post_id = $1",
                                   story.pk)
    assert (row["reach"], row["shares"]) == (figures["reach"], figures["shares"])
