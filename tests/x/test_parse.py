"""`beat parse --platform x`: every X fixture with an expected file (GraphQL and syndication
answers, read in place from ../shared/fixtures) parses to its expected values, through the
platform's document parser and through the command; a tombstone and foreign documents are
refused in one line."""

import json
import os
from pathlib import Path
from typing import Any

import pytest

from core.parsing import UnknownShape, parse_document
from tests import beat_cli
from x.sources.graphql_parse import parse_tweet, tweet_result_of, unwrap
from x.sources.syndication_parse import parse_syndication

ROOT = Path(__file__).parents[2]
FIXTURES = ROOT.parent / "shared" / "fixtures" / "x"
EXPECTED = sorted(FIXTURES.glob("*.expected.json"))
FIELDS = ("platform", "kind", "id", "likes", "comments", "shares", "views", "followers",
          "published_at", "author")


def as_list(value: Any) -> list[dict[str, Any]]:
    return value if isinstance(value, list) else [value]


def matches(lines: list[dict[str, Any]], expected: list[dict[str, Any]]) -> None:
    assert len(lines) == len(expected)
    for line, want in zip(lines, expected, strict=True):
        assert {f: line[f] for f in FIELDS} == {f: want[f] for f in FIELDS}
        prefix = want["caption_prefix"]
        caption = line["caption"]
        assert (None if caption is None else caption[:len(prefix or "")]) == prefix


def read(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text("utf-8"))


def test_every_expected_file_is_read() -> None:
    assert len(EXPECTED) >= 8


@pytest.mark.parametrize("expected", EXPECTED, ids=lambda path: path.name)
def test_each_fixture_parses_to_its_expected_values(expected: Path) -> None:
    raw = expected.with_name(expected.name.replace(".expected", ""))
    found = parse_document("x", json.loads(raw.read_text(encoding="utf-8")))
    matches([n.line() for n in found], as_list(json.loads(expected.read_text("utf-8"))))


@pytest.mark.parametrize("name", [p.name for p in sorted(FIXTURES.glob("*.json"))
                                  if ".expected" not in p.name and "tombstone" not in p.name])
def test_every_fixture_with_tweets_or_accounts_gives_some(name: str) -> None:
    found = parse_document("x", read(name))
    assert found and all(n.platform == "x" and n.id for n in found)


def test_the_2026_user_shape_reads_its_counts_and_handle() -> None:
    [user] = parse_document("x", read("x_gql_UserByScreenName_2026_no_legacy.json"))
    assert (user.kind, user.id, user.followers, user.author) == \
        ("profile", "2244994945", 695695, "XDevelopers")


def test_a_tweet_detail_gives_the_focal_tweet_first_then_the_thread() -> None:
    found = parse_document("x", read("x_gql_TweetDetail_2026_shape_trimmed.json"))
    assert found[0].id == "1649191520250245121" and found[0].views == 979440
    assert len(found) > 1 and all(n.author == "XDevelopers" for n in found)


def test_the_react_tweet_wrapping_and_zero_likes_are_read() -> None:
    [tweet] = parse_document("x", read("x_reacttweet_api_wrapped_card_zero_likes.json"))
    assert (tweet.id, tweet.likes, tweet.shares, tweet.views) == \
        ("1703436713362870723", 0, None, None)


def test_a_tombstone_is_refused_as_a_deleted_tweet() -> None:
    with pytest.raises(UnknownShape, match="deleted by the Post author"):
        parse_document("x", read("x_syndication_tombstone_deleted.json"))


@pytest.mark.parametrize("document", [
    {"data": {"tweetResult": {}}},
    {"data": {"tweetResult": {"result": {"__typename": "TweetUnavailable",
                                         "reason": "Protected"}}}},
    {"kind": "youtube#videoListResponse", "items": []},
    [1, 2],
])
def test_documents_without_a_tweet_are_refused(document: Any) -> None:
    with pytest.raises(UnknownShape):
        parse_document("x", document)


def test_the_command_prints_the_expected_lines() -> None:
    expected = FIXTURES / "x_gql_TweetResultByRestId_20_no_view_count.expected.json"
    raw = expected.with_name(expected.name.replace(".expected", ""))
    result = beat_cli.run(["parse", "--platform", "X", str(raw)], dict(os.environ))
    assert result.returncode == 0, result.stderr
    matches([json.loads(line) for line in result.stdout.splitlines()],
            as_list(json.loads(expected.read_text("utf-8"))))


def test_a_tweet_s_first_photo_or_poster_is_its_thumbnail() -> None:
    body = read("x_syndication_tweet_with_image.json")
    assert parse_syndication(body).thumbnail_url == body["mediaDetails"][0]["media_url_https"]
    video = read("x_gql_TweetResultByRestId_video.json")
    result = tweet_result_of(video)
    assert result is not None
    media = unwrap(result)["legacy"]["extended_entities"]["media"]
    assert parse_tweet(result).thumbnail_url == media[0]["media_url_https"]
    text_only = read("x_syndication_tweet_text_only_2026.json")
    assert parse_syndication(text_only).thumbnail_url is None
    # A syndication answer with only the video block: its poster.
    poster = {**body, "mediaDetails": [], "video": {"poster": "https://pbs.example/p.jpg"}}
    assert parse_syndication(poster).thumbnail_url == "https://pbs.example/p.jpg"
