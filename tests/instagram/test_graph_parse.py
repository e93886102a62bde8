"""Every real Graph API fixture parses to its expected values; both insights shapes parse."""

import json
from pathlib import Path
from typing import Any

import pytest

from core.normalized import Normalized
from instagram.sources.graph_api.parse import (
    graph_document,
    parse_business_discovery,
    parse_insights,
    parse_media,
    parse_media_page,
)

FIXTURES = Path(__file__).parents[2].parent / "shared" / "fixtures" / "instagram"
WITH_EXPECTED = sorted(p.name.removesuffix(".expected.json")
                       for p in FIXTURES.glob("ig_graph_*.expected.json"))


def fixture(name: str) -> Any:
    """A real Graph API response (read in place, never copied)."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def as_expected(entity: Normalized) -> dict[str, Any]:
    line = entity.line()
    return {k: line[k] for k in ("kind", "platform", "id", "likes", "comments", "shares",
                                 "views", "followers", "published_at", "author")}


@pytest.mark.parametrize("name", WITH_EXPECTED)
def test_fixture_parses_to_expected(name: str) -> None:
    expected = fixture(f"{name}.expected.json")
    expected = expected if isinstance(expected, list) else [expected]
    found = graph_document(fixture(f"{name}.json"))
    assert found is not None
    assert len(found) == len(expected)
    for entity, wanted in zip(found, expected, strict=True):
        assert as_expected(entity) == {k: v for k, v in wanted.items()
                                       if k not in ("_note", "caption_prefix")}
        prefix = wanted["caption_prefix"]
        assert (entity.caption[:len(prefix)] if prefix is not None and entity.caption
                else entity.caption) == prefix


def test_expected_files_are_there() -> None:
    assert len(WITH_EXPECTED) >= 4


def test_business_discovery_with_videos_and_the_batch() -> None:
    videos = graph_document(fixture("ig_graph_business_discovery_media_videos.json"))
    assert videos is not None and len(videos) == 5
    assert videos[0].id == "17984016661384418" and videos[0].likes == 958
    batch = graph_document(fixture("ig_graph_media_ids_batch.json"))
    assert batch is not None and {n.id for n in batch} == {"17893085207160254",
                                                            "17896129349106152"}
    page = fixture("ig_graph_business_discovery_media_page1.json")["business_discovery"]["media"]
    found = parse_media_page(page)
    assert found.next_cursor == "after" and found.items[0].shortcode == "CSr71Gzlqo4"
    user = parse_business_discovery(fixture("ig_graph_business_discovery_user.json"))
    assert user.profile.handle == "facebookfordevelopers" and user.profile.media_count == 436


def test_carousel_counts_its_children() -> None:
    post = parse_media(fixture("ig_graph_media_carousel.json"))
    assert post.post_type == "carousel" and post.children == 3
    assert post.shortcode == "CRyZpmrjYC4"


def test_values_shape() -> None:
    body = fixture("ig_graph_media_insights_values_shape.json")
    found = {i.name: i for i in parse_insights(body)}
    assert {n: i.value for n, i in found.items()} == {"impressions": 8, "reach": 5, "saved": 0}
    assert found["reach"].period == "lifetime" and not found["reach"].breakdowns


def test_total_value_shapes() -> None:
    media = parse_insights(fixture("ig_graph_media_insights_total_value_shape.json"))
    assert media[0].name == "profile_activity" and media[0].value == 11
    assert media[0].breakdowns == {"bio_link_clicked": 11}
    user = parse_insights(fixture("ig_graph_user_insights_total_value_shape.json"))
    assert user[0].name == "reach" and user[0].value == 14516883 and user[0].period == "day"
    assert user[0].breakdowns["REEL,FOLLOWER"] == 58345
    assert user[0].breakdowns["AD,NON_FOLLOWER"] == 14357147


def test_counts_as_strings_and_missing_fields() -> None:
    post = parse_media({"id": "1", "like_count": "7920", "media_type": "VIDEO",
                        "media_product_type": "REELS"})
    assert post.likes == 7920 and post.comments is None and post.post_type == "reels"


def test_not_a_graph_document() -> None:
    assert graph_document({"kind": "youtube#videoListResponse", "items": []}) is None
    assert graph_document([1, 2]) is None
    assert graph_document({"error": {"code": 190}}) is None
