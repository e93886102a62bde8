"""The Instagram world: the accounts and media it promises, ids that resolve both ways, listings
that page in O(page) at any depth, and determinism (same seed, same world)."""

import re
import time
from datetime import timedelta

from sandbox.instagram import media as m
from sandbox.instagram.world import (
    MILLION_HANDLE,
    MISSING_HANDLE,
    OWNER_HANDLE,
    PERSONAL_HANDLE,
    PRIVATE_HANDLE,
    WORLD_NOW,
    World,
    build_world,
)

SHORTCODE = re.compile(r"^[A-Za-z0-9_-]{11}$")


def test_special_handles() -> None:
    world = build_world(1)
    owner = world.account_by_handle(OWNER_HANDLE)
    assert owner is not None and owner.graph_id == "17841400000000101" and owner.is_business
    million = world.account_by_handle("@" + MILLION_HANDLE.upper())
    assert million is not None and million.followers == 1_000_000 and million.is_business
    private = world.account_by_handle(PRIVATE_HANDLE)
    assert private is not None and private.is_private and private.graph_id is None
    personal = world.account_by_handle(PERSONAL_HANDLE)
    assert personal is not None and not personal.is_private and personal.kind == "personal"
    assert world.account_by_handle(MISSING_HANDLE) is None
    assert world.account_by_handle("velvetatelier999999999") is None


def test_business_handles_are_many_distinct_and_resolvable() -> None:
    world = build_world(1)
    start = time.perf_counter()
    handles = world.business_handles(5000)
    assert time.perf_counter() - start < 2.0
    assert len(set(handles)) == 5000
    for handle in handles[::500]:
        account = world.account_by_handle(handle)
        assert account is not None and account.is_business and not account.is_private
        assert world.account_by_id(account.graph_id or "") == account
        assert world.account_by_id(account.pk) == account


def test_media_newest_first_with_every_type_and_shortcodes_from_pk() -> None:
    world = build_world(1)
    million = world.million()
    posts = world.media_of(million, 0, 200)
    times = [p.taken_at for p in posts]
    assert times == sorted(times, reverse=True) and times[0] < WORLD_NOW
    assert {p.media_type for p in posts} == {"image", "carousel", "video", "reels"}
    assert any(p.hashtags and p.caption and "#" + p.hashtags[0] in p.caption for p in posts)
    for post in posts[:30]:
        assert SHORTCODE.match(post.shortcode) and m.shortcode_pk(post.shortcode) == int(post.pk)
        assert world.media_by_id(post.pk) == post == world.media_by_id(post.graph_id)
        assert world.media_by_shortcode(post.shortcode) == post
        assert (post.plays is not None) == (post.media_type in ("video", "reels"))
    carousel = next(p for p in posts if p.media_type == "carousel")
    assert 2 <= len(carousel.children) <= 10
    assert world.media_by_id(carousel.children[-1].graph_id) == carousel.children[-1]


def test_stories_live_for_24_hours() -> None:
    world = build_world(1)
    stories = world.stories_of(world.owner())
    assert len(stories) == 3
    for story in stories:
        assert story.media_type == "story" and story.expires_at is not None
        assert story.expires_at - story.taken_at == timedelta(hours=24)
        assert story.taken_at < WORLD_NOW < story.expires_at
        assert world.media_by_id(story.graph_id) == story


def test_million_followers_page_at_any_depth() -> None:
    world = build_world(1)
    million = world.million()
    start = time.perf_counter()
    last = world.followers_of(million, 999_990, 50)
    assert time.perf_counter() - start < 0.5
    assert len(last) == 10
    first = world.followers_of(million, 0, 2000)
    assert len({a.index for a in first}) == 2000 and million.index not in {a.index for a in first}


def test_comments_likers_hashtags_tags_insights() -> None:
    world = build_world(1)
    post = next(p for p in world.media_of(world.million(), 0, 20) if (p.comments or 0) > 60)
    comments = world.comments_of(post, 0, 50) + world.comments_of(post, 50, 50)
    assert len({c.comment_id for c in comments}) == min(100, post.comments or 0)
    assert [c.created for c in comments] == sorted((c.created for c in comments), reverse=True)
    assert len(world.likers_of(post, 0, 25)) == 25
    tagged = world.hashtag_media("travel")
    assert tagged and all("travel" in p.hashtags for p in tagged)
    top = world.hashtag_media("travel", top=True)
    assert [p.likes or 0 for p in top] == sorted((p.likes or 0 for p in top), reverse=True)
    assert world.hashtag("#Travel") == world.hashtag_by_id(world.hashtag("travel").hashtag_id)  # type: ignore[union-attr]
    owner = world.owner()
    assert all(owner.index in p.tagged and p.owner_index != 0 for p in world.tagged_media(owner))
    insights = world.media_insights(post)
    assert insights["total_interactions"] >= insights["likes"] + insights["comments"]
    day = (WORLD_NOW - timedelta(days=1)).date()
    split = world.insight_breakdown(owner, "reach", ("media_product_type", "follow_type"), day)
    assert sum(split.values()) == world.account_insights(owner, day)["reach"]
    ages = world.follower_demographics(world.million(), "age")
    assert sum(ages.values()) == 1_000_000 and "25-34" in ages


def test_same_seed_same_world() -> None:
    one, again, other = World(5), World(5), World(6)
    assert one.business_handles(50) == again.business_handles(50)
    assert one.business_handles(50) != other.business_handles(50)
    post = one.media_of(one.million(), 0, 1)[0]
    assert post == again.media_of(again.million(), 0, 1)[0]
    assert one.comments_of(post, 0, 5) == again.comments_of(post, 0, 5)
    assert one.hashtag_media("love") == again.hashtag_media("love")
