"""The web JSON parser against the real answers in ../shared/fixtures/instagram (read in place,
never copied): the user timeline against its .expected.json, the reel by figures read by hand."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from core.parsing import UnknownShape
from instagram.models import WEB
from instagram.sources.web_parse import (
    media_of,
    parse_media,
    parse_profile,
    user_of,
    web_document,
)

FIXTURES = Path(__file__).parents[2].parent / "shared" / "fixtures" / "instagram"
TIMELINE = "ig_web_graphql_user_timeline.json"
REEL = "ig_web_graphql_shortcode_media_reel.json"
FIELDS = ("kind", "likes", "comments", "shares", "views", "followers", "published_at",
          "author")


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def test_user_timeline_matches_its_expected_file() -> None:
    expected = load(TIMELINE.replace(".json", ".expected.json"))
    lines = [n.line() for n in web_document(load(TIMELINE)) or []]
    assert len(lines) == len(expected) == 13
    for line, want in zip(lines, expected, strict=True):
        assert {f: line[f] for f in FIELDS} == {f: want[f] for f in FIELDS}
        prefix = want["caption_prefix"]
        assert (None if line["caption"] is None else line["caption"][:len(prefix or "")]) \
            == prefix
        assert line["platform"] == "instagram" and line["source"] == WEB
    assert [line["id"] for line in lines] == [want["id"] for want in expected]


def test_the_timeline_profile_has_no_id_and_no_follower_count() -> None:
    """The capture's data.user has neither id nor edge_followed_by: unknown, not zero; the
    normalized line has no id either (its author names it)."""
    found = parse_profile(user_of(load(TIMELINE)) or {})
    assert found.profile.profile_id is None and found.profile.followers is None
    assert found.profile.media_count == 217
    assert found.profile.category == "Artículos para mascotas"
    assert found.profile.normalized().id is None
    assert found.profile.normalized().author == "tresenrayaperu"
    assert found.next_cursor is not None and found.next_cursor.startswith("QVFB")
    types = [post.post_type for post in found.posts]
    assert types.count("reels") == 3 and types.count("carousel") == 2
    assert types.count("image") == 7
    assert found.posts[-1].children is not None and found.posts[-1].children >= 2
    assert found.posts[0].permalink == "https://www.instagram.com/p/CvsXrH2JMvL/"
    assert found.posts[2].permalink == "https://www.instagram.com/reel/Csb-zqjJYDv/"


def test_reel_figures_read_by_hand() -> None:
    reel = parse_media(media_of(load(REEL)) or {})
    assert (reel.post_id, reel.shortcode) == ("3560614185974049156", "DFp17y5MymE")
    assert reel.post_type == "reels"  # GraphVideo with product_type "clips"
    assert reel.likes == 256  # edge_media_preview_like.count
    assert reel.comments == 31  # edge_media_to_parent_comment.count
    assert (reel.views, reel.plays) == (539, 2387)  # video_view_count, video_play_count
    assert reel.published_at == datetime(2025, 2, 4, 14, 15, 49, tzinfo=UTC)  # 1738678549
    assert (reel.handle, reel.profile_id) == ("ones_makau", "62703166462")
    assert reel.caption is not None and reel.caption.startswith("Living a Serene Country Life")
    assert reel.permalink == "https://www.instagram.com/reel/DFp17y5MymE/"
    [line] = web_document(load(REEL)) or []
    assert (line.views, line.likes, line.author) == (539, 256, "ones_makau")


def test_the_graphql_shapes_of_a_shortcode_media_are_one() -> None:
    media = load(REEL)["graphql"]["shortcode_media"]
    for body in ({"data": {"xdt_shortcode_media": media}}, {"data": {"shortcode_media": media}}):
        assert parse_media(media_of(body) or {}).likes == 256
    assert media_of({"data": {"xdt_shortcode_media": None}}) is None


def test_unknown_documents() -> None:
    assert web_document({"kind": "youtube#videoListResponse"}) is None
    assert web_document([1, 2]) is None
    assert web_document({"data": {"user": None}}) == []
    with pytest.raises(UnknownShape):
        web_document({"data": {"user": {"username": "x", "edge_owner_to_timeline_media":
                                        {"edges": [{"node": {"shortcode": "no id"}}]}}}})
