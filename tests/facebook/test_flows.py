"""Facebook flows against the in-process sandbox and the test database: a page, a post with
reactions/comments/shares, a post never shared (shares stays None), a reel's views, each metric
with its source; snapshots and change events written with them; posts asked together go out
in one ?ids= call; private and deleted posts fail permanently; lookups find what flows stored."""

import asyncio

import httpx

from core.errors import NotFound, Permanent
from facebook.flows import (
    PageParams,
    PostParams,
    VideoParams,
    refresh_fb_page,
    refresh_fb_post,
    refresh_fb_video,
)
from facebook.lookups import LOOKUPS
from facebook.models import GRAPH_API
from sandbox.facebook.world import DELETED_POST, PRIVATE_POST, build_world
from tests.facebook.conftest import Beat

world = build_world(1)


async def test_a_page_is_stored_with_its_followers_snapshot_and_event(beat: Beat) -> None:
    result = await refresh_fb_page(PageParams(page="MillionFans"), beat.ctx())
    page = world.page("millionfans")
    assert page is not None
    assert (result["page_id"], result["followers"]) == (page.page_id, page.followers)
    row = await beat.pool.fetchrow("SELECT * FROM facebook_page WHERE page_id = $1",
                                   page.page_id)
    assert row["metric_sources"]["followers"] == GRAPH_API
    logs = await beat.pool.fetch("SELECT * FROM profile_log WHERE platform = 'FACEBOOK'")
    assert len(logs) == 1 and logs[0]["metrics"]["followers"] == page.followers
    events = await beat.pool.fetch("SELECT type FROM event_outbox WHERE platform = 'facebook'")
    assert [e["type"] for e in events] == ["profile.facebook.created"]
    await refresh_fb_page(PageParams(page=page.page_id), beat.ctx())
    events = await beat.pool.fetch("SELECT type FROM event_outbox WHERE platform = 'facebook'")
    assert len(events) == 1  # nothing changed: no second event
    assert LOOKUPS.profile_by_handle is not None
    stored = await LOOKUPS.profile_by_handle("millionfans").fetch(beat.pool)
    assert stored is not None and stored["page_id"] == page.page_id


async def test_pages_asked_together_go_out_in_one_call_and_a_missing_one_fails_alone(
        beat: Beat, sandbox: httpx.AsyncClient) -> None:
    names = ["beatsandbox", "MillionFans", "no.such.page.anywhere"]
    results = await asyncio.gather(*(refresh_fb_page(PageParams(page=name), beat.ctx())
                                     for name in names), return_exceptions=True)
    ids = [page.page_id for page in map(world.page, ("beatsandbox", "millionfans")) if page]
    assert [r["page_id"] for r in results[:2] if isinstance(r, dict)] == ids
    assert isinstance(results[2], NotFound)
    # One ?ids= call for the three, refused for the unknown name; then one call each.
    assert (await sandbox.get("/_sandbox/facebook/graph/usage")).json()["calls"]["app"] == 4
    row = await beat.pool.fetchrow("SELECT picture_url FROM facebook_page WHERE page_id = $1",
                                   ids[0])
    assert row["picture_url"].endswith(f"/p50x50/{ids[0]}.png")


async def test_posts_with_and_without_shares_stored_from_one_batch(
        beat: Beat, sandbox: httpx.AsyncClient) -> None:
    shared = next(p for p in world.post_list() if p.shares is not None)
    unshared = next(p for p in world.post_list() if p.shares is None)
    results = await asyncio.gather(
        refresh_fb_post(PostParams(post_id=shared.pfbid), beat.ctx()),
        refresh_fb_post(PostParams(post_id=unshared.post_id), beat.ctx()))
    assert (await sandbox.get("/_sandbox/facebook/graph/usage")).json()["calls"]["app"] == 1
    assert (results[0]["likes"], results[0]["comments"], results[0]["shares"]) == (
        shared.reactions, shared.comments, shared.shares)
    assert results[1]["shares"] is None
    row = await beat.pool.fetchrow("SELECT * FROM facebook_post WHERE post_id = $1",
                                   unshared.post_id)
    assert row["shares"] is None and "shares" not in row["metric_sources"]
    assert LOOKUPS.post_by_shortcode is not None
    by_alias = await LOOKUPS.post_by_shortcode(shared.pfbid).fetch(beat.pool)
    assert by_alias is not None and by_alias["post_id"] == shared.post_id


async def test_a_reel_is_stored_with_its_views(beat: Beat) -> None:
    reel = next(v for v in world.videos.values() if v.reel)
    result = await refresh_fb_video(VideoParams(video_id=reel.video_id), beat.ctx())
    assert (result["post_type"], result["views"]) == ("reel", reel.views)
    row = await beat.pool.fetchrow("SELECT * FROM post_log WHERE post_id = $1", reel.video_id)
    assert row["metrics"]["views"] == reel.views and row["source"] == GRAPH_API
    again = await refresh_fb_video(VideoParams(video_id=reel.video_id), beat.ctx())
    assert again["views"] == reel.views  # a second refresh of an item with no alias updates it
    assert await beat.pool.fetchval("SELECT aliases FROM facebook_post WHERE post_id = $1",
                                    reel.video_id) == []


async def test_private_and_deleted_posts_fail_permanently(beat: Beat) -> None:
    for ident, kind in ((PRIVATE_POST, "private"), (DELETED_POST, "not_found")):
        try:
            await refresh_fb_post(PostParams(post_id=ident), beat.ctx())
        except Permanent as exc:
            assert exc.kind == kind
            assert isinstance(exc, NotFound) == (kind == "not_found")
        else:
            raise AssertionError(f"{ident} was stored")
    assert await beat.pool.fetchval("SELECT count(*) FROM facebook_post") == 0
