"""Instagram's paginated flows against the in-process sandbox (real PostgreSQL and Redis):
comments, likers, hashtag and tagged posts land in their tables; a followers listing saves its
cursor after every page, resumes from it without asking the pages before it again, and starts
over when the next page comes from another source than the cursor's."""

import logging
from typing import Any

import pytest

from instagram import flows
from instagram.models import GRAPH_API, RAPIDAPI
from sandbox.instagram.world import MILLION_HANDLE, OWNER_HANDLE, World
from tests.instagram.conftest import Beat, Sandbox

FOLLOWERS_ROUTE = "POST /rapidapi/instagram/instagram/user/get_followers"


async def pages_asked(sandbox: Sandbox) -> dict[str, int]:
    """Pages of the provider's followers listing asked so far, by cursor ("-": the first)."""
    pages = (await sandbox.usage())["pages"]
    return {key.removeprefix(FOLLOWERS_ROUTE + " "): n for key, n in pages.items()
            if key.startswith(FOLLOWERS_ROUTE)}


async def test_comments_of_a_post_known_by_its_shortcode_only(beat: Beat, world: World) -> None:
    """A post stored from the provider has no Graph id: the provider lists its comments."""
    media = next(m for m in world.media_of(world.million(), 0, 20) if (m.comments or 0) > 40)
    result = await flows.fetch_post_comments(
        flows.PostListingParams(shortcode=media.shortcode, max_items=40), beat.ctx())
    assert result["post_id"] == media.pk and result["comments"] == 40
    assert result["source"] == RAPIDAPI and not result["complete"]
    rows = await beat.pool.fetch("SELECT comment_id, post_id, author_handle "
                                 "FROM instagram_comment")
    expected = world.comments_of(media, 0, 40)
    assert {r["comment_id"] for r in rows} == {c.comment_id for c in expected}
    assert {r["post_id"] for r in rows} == {media.pk}
    assert {r["author_handle"] for r in rows} == {c.author_handle for c in expected}


async def test_comments_of_a_post_the_graph_api_listed(beat: Beat, world: World) -> None:
    media = next(m for m in world.media_of(world.owner(), 0, 12) if (m.comments or 0) > 0)
    await flows.refresh_profile_by_handle(flows.HandleParams(handle=OWNER_HANDLE), beat.ctx())
    result = await flows.fetch_post_comments(flows.PostListingParams(post_id=media.pk),
                                             beat.ctx())
    assert result["source"] == GRAPH_API and result["complete"]
    assert result["comments"] == media.comments
    assert await beat.pool.fetchval("SELECT count(*) FROM instagram_comment "
                                    "WHERE post_id = $1", media.pk) == media.comments
    events = await beat.pool.fetchval("SELECT count(*) FROM event_outbox "
                                      "WHERE type = 'comment.instagram.created'")
    assert events == media.comments


async def test_likers_of_a_post(beat: Beat, world: World) -> None:
    media = next(m for m in world.media_of(world.million(), 0, 20) if (m.likes or 0) > 150)
    result = await flows.fetch_post_likes(
        flows.PostListingParams(shortcode=media.shortcode, max_items=150), beat.ctx())
    assert result == {"post_id": media.pk, "likers": 150, "pages": 2, "source": RAPIDAPI,
                      "complete": False}
    rows = await beat.pool.fetch("SELECT user_id, handle FROM instagram_post_liker "
                                 "WHERE post_id = $1", media.pk)
    assert {(r["user_id"], r["handle"]) for r in rows} == \
        {(a.pk, a.handle) for a in world.likers_of(media, 0, 150)}


async def test_recent_posts_under_a_hashtag(beat: Beat, world: World) -> None:
    result = await flows.fetch_hashtag_posts(
        flows.HashtagParams(hashtag="#Coffee", tab="recent", max_items=30), beat.ctx())
    assert result["hashtag"] == "coffee" and result["posts"] == 30
    assert result["source"] == GRAPH_API
    linked = await beat.pool.fetch("SELECT post_id FROM instagram_post_link "
                                   "WHERE kind = 'hashtag' AND key = 'coffee'")
    newest = [m.pk for m in world.hashtag_media("coffee")[:30]]
    assert {r["post_id"] for r in linked} == set(newest)
    stored = await beat.pool.fetch("SELECT caption FROM instagram_post WHERE post_id = ANY($1)",
                                   newest)
    assert len(stored) == 30 and all("#coffee" in r["caption"].lower() for r in stored)


async def test_posts_tagging_an_account(beat: Beat, world: World) -> None:
    owner = world.owner()
    tagging = world.tagged_media(owner)
    result = await flows.fetch_tagged_posts(flows.ListingParams(handle=OWNER_HANDLE),
                                            beat.ctx())
    assert result["profile_id"] == owner.pk and result["posts"] == len(tagging) > 0
    assert result["complete"]
    linked = await beat.pool.fetch("SELECT post_id FROM instagram_post_link "
                                   "WHERE kind = 'tagged' AND key = $1", owner.pk)
    assert {r["post_id"] for r in linked} == {m.pk for m in tagging}
    owners = await beat.pool.fetch("SELECT DISTINCT profile_id FROM instagram_post "
                                   "WHERE post_id = ANY($1)", [m.pk for m in tagging])
    assert owner.pk not in {r["profile_id"] for r in owners}


async def test_followers_are_stored_page_by_page_with_a_checkpoint_after_each(
        beat: Beat, sandbox: Sandbox, world: World) -> None:
    million = world.million()
    result = await flows.fetch_profile_followers(
        flows.ListingParams(handle=MILLION_HANDLE, max_items=150), beat.ctx())
    assert result == {"profile_id": million.pk, "accounts": 150, "pages": 3,
                      "source": RAPIDAPI, "complete": False}
    rows = await beat.pool.fetch("SELECT user_id FROM instagram_relationship "
                                 "WHERE profile_id = $1 AND kind = 'follower'", million.pk)
    assert {r["user_id"] for r in rows} == {a.pk for a in world.followers_of(million, 0, 150)}
    assert [s["done"] for s in beat.saved] == [50, 100, 150]
    assert all(s["source"] == RAPIDAPI and s["cursor"] for s in beat.saved)
    assert len({s["cursor"] for s in beat.saved}) == 3
    listed = [(p.done, p.total, p.unit) for p in beat.progress]
    assert listed == [(50, 150, "accounts"), (100, 150, "accounts"), (150, 150, "accounts")]
    assert sum((await pages_asked(sandbox)).values()) == 3


async def test_followers_resume_after_the_last_page_stored(
        beat: Beat, sandbox: Sandbox, world: World) -> None:
    million = world.million()
    first = beat.ctx()
    await flows.fetch_profile_followers(
        flows.ListingParams(handle=MILLION_HANDLE, max_items=100), first)
    stopped: dict[str, Any] = dict(first.checkpoint.state or {})
    assert stopped["done"] == 100 and stopped["source"] == RAPIDAPI
    before = await pages_asked(sandbox)
    assert sum(before.values()) == 2
    result = await flows.fetch_profile_followers(
        flows.ListingParams(handle=MILLION_HANDLE, max_items=150), beat.ctx(stopped))
    assert result["accounts"] == 150 and result["pages"] == 1
    after = await pages_asked(sandbox)
    assert {k: n - before.get(k, 0) for k, n in after.items() if n != before.get(k, 0)} == \
        {stopped["cursor"]: 1}, "only the page after the checkpoint's cursor is asked"
    assert await beat.pool.fetchval("SELECT count(*) FROM instagram_relationship "
                                    "WHERE profile_id = $1", million.pk) == 150


async def test_a_cursor_of_another_source_starts_the_listing_over(
        beat: Beat, sandbox: Sandbox, world: World, caplog: pytest.LogCaptureFixture) -> None:
    million = world.million()
    stale = {"cursor": "QVFIUmJvZ3VzY3Vyc29y", "source": GRAPH_API, "done": 100}
    with caplog.at_level(logging.INFO):
        result = await flows.fetch_profile_followers(
            flows.ListingParams(handle=MILLION_HANDLE, max_items=150), beat.ctx(stale))
    assert "listing again from the start" in caplog.text
    assert result["accounts"] == 150 and result["source"] == RAPIDAPI
    assert (await pages_asked(sandbox)).get("-") == 1, "the first page is asked"
    rows = await beat.pool.fetch("SELECT user_id FROM instagram_relationship "
                                 "WHERE profile_id = $1", million.pk)
    assert {r["user_id"] for r in rows} == {a.pk for a in world.followers_of(million, 0, 150)}


async def test_a_listing_whose_source_fails_mid_way_starts_over_with_the_next(
        beat: Beat, sandbox: Sandbox, caplog: pytest.LogCaptureFixture) -> None:
    """A Graph API cursor is never handed to the provider: the hashtag is listed again."""
    params = flows.HashtagParams(hashtag="coffee", tab="recent", max_items=25)
    first = beat.ctx()
    await flows.fetch_hashtag_posts(params, first)
    stopped = dict(first.checkpoint.state or {})
    assert stopped["source"] == GRAPH_API and stopped["cursor"]
    await sandbox.client.post("/_sandbox/instagram/graph/tokens/sandbox-graph-token/expire")
    with caplog.at_level(logging.INFO):
        result = await flows.fetch_hashtag_posts(params.model_copy(update={"max_items": 40}),
                                                 beat.ctx(stopped))
    assert "listing again from the start" in caplog.text
    assert result["source"] == RAPIDAPI and result["posts"] == 40
    pages = (await sandbox.usage())["pages"]
    assert all(stopped["cursor"] not in key for key in pages)
