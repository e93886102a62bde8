"""`beat parse --platform facebook`: every Facebook fixture with an expected file (real Graph API
answers, read in place from ../shared/fixtures) parses to its expected values; batches parse to
every node; error bodies are refused with the error's message."""

import json
import os
from pathlib import Path
from typing import Any

import pytest

from core.parsing import UnknownShape, parse_document
from facebook.sources.graph_parse import parse_page, parse_post
from tests import beat_cli

ROOT = Path(__file__).parents[2]
FIXTURES = ROOT.parent / "shared" / "fixtures" / "facebook"
EXPECTED = sorted(FIXTURES.glob("*.expected.json"))
FIELDS = ("platform", "kind", "id", "likes", "comments", "shares", "views", "published_at",
          "author")


def as_list(value: Any) -> list[dict[str, Any]]:
    return value if isinstance(value, list) else [value]


def matches(lines: list[dict[str, Any]], expected: list[dict[str, Any]]) -> None:
    assert len(lines) == len(expected)
    for line, want in zip(lines, expected, strict=True):
        assert {f: line[f] for f in FIELDS} == {f: want[f] for f in FIELDS}
        followers = want["followers"]  # a list: any of these values is right
        assert line["followers"] in (followers if isinstance(followers, list) else [followers])
        prefix = want["caption_prefix"]
        caption = line["caption"]
        assert (None if caption is None else caption[:len(prefix or "")]) == prefix


def test_every_expected_file_is_read() -> None:
    assert len(EXPECTED) >= 5


@pytest.mark.parametrize("expected", EXPECTED, ids=lambda path: path.name)
def test_each_fixture_parses_to_its_expected_values(expected: Path) -> None:
    raw = expected.with_name(expected.name.replace(".expected", ""))
    found = parse_document("facebook", json.loads(raw.read_text(encoding="utf-8")))
    matches([n.line() for n in found], as_list(json.loads(expected.read_text("utf-8"))))


def test_a_pages_batch_gives_every_page_with_its_name() -> None:
    found = parse_document("facebook", json.loads(
        (FIXTURES / "fb_pages_ids_batch.json").read_text("utf-8")))
    assert {(n.kind, n.id, n.author) for n in found} >= {
        ("profile", "19292868552", "FacebookforDevelopers"),
        ("profile", "20531316728", "facebookapp")}


def test_a_posts_batch_gives_every_post_with_its_counts() -> None:
    body = json.loads((FIXTURES / "fb_posts_ids_batch.json").read_text("utf-8"))
    found = {n.id: n for n in parse_document("facebook", body)}
    assert set(found) == set(body)
    post = found["19292868552_10158347294088553"]
    assert (post.likes, post.comments, post.shares) == (82, 12, 5)


def test_a_live_video_is_a_post_with_its_title_and_time() -> None:
    [video] = parse_document("facebook", json.loads(
        (FIXTURES / "fb_live_video_vod.json").read_text("utf-8")))
    assert (video.kind, video.id, video.views) == ("post", "10158276101223553", None)
    assert video.caption and video.caption.startswith("Watch our F8")
    assert video.line()["published_at"] == "2021-06-02T16:56:20Z"


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("fb_error_*.json")))
def test_an_error_body_is_refused_with_its_message(name: str) -> None:
    body = json.loads((FIXTURES / name).read_text("utf-8"))
    with pytest.raises(UnknownShape, match=str(body["error"]["code"])) as caught:
        parse_document("facebook", body)
    assert body["error"]["message"][:40] in str(caught.value)


def test_a_document_of_no_facebook_shape_is_refused() -> None:
    with pytest.raises(UnknownShape, match="not a Facebook"):
        parse_document("facebook", {"kind": "youtube#videoListResponse", "items": []})


def test_the_command_prints_the_expected_lines() -> None:
    expected = FIXTURES / "fb_post_single_reactions_summary.expected.json"
    raw = expected.with_name(expected.name.replace(".expected", ""))
    result = beat_cli.run(["parse", "--platform", "FACEBOOK", str(raw)], dict(os.environ))
    assert result.returncode == 0, result.stderr
    matches([json.loads(line) for line in result.stdout.splitlines()],
            as_list(json.loads(expected.read_text("utf-8"))))


def test_pictures_are_read_for_the_links_report() -> None:
    posts = json.loads((FIXTURES / "fb_posts_ids_batch.json").read_text("utf-8"))
    for post_id, node in posts.items():
        assert parse_post(node).thumbnail_url == node["full_picture"], post_id
    pages = json.loads((FIXTURES / "fb_pages_ids_batch.json").read_text("utf-8"))
    for page_id, node in pages.items():
        assert parse_page(node).picture_url == node["picture"]["data"]["url"], page_id
    # Without full_picture: a video's picture, else the first attachment's image.
    video = {"id": "5", "length": 12.5, "picture": "https://cdn.example/v.jpg"}
    assert parse_post(video).thumbnail_url == "https://cdn.example/v.jpg"
    linked = {"id": "1_2", "message": "m", "attachments": {"data": [
        {"media": {"image": {"src": "https://cdn.example/a.jpg", "height": 9, "width": 9}}}]}}
    assert parse_post(linked).thumbnail_url == "https://cdn.example/a.jpg"
    assert parse_post({"id": "1_3", "message": "text only"}).thumbnail_url is None
