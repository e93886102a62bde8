"""Every YouTube fixture in ../shared/fixtures/youtube is a parser test case, plus shape edge cases.

Fixtures are read in place (third-party data, never copied); variants are built in memory.
"""

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from core.parsing import UnknownShape, parse_document
from youtube.models import ApiError
from youtube.parse import (
    ApiErrorBody,
    parse_channels,
    parse_comment_threads,
    parse_duration,
    parse_error,
    parse_playlist_items,
    parse_search,
    parse_videos,
)

FIXTURES = Path(__file__).parents[2].parent / "shared" / "fixtures" / "youtube"
EXPECTED = sorted(FIXTURES.glob("*.expected.json"))
FIELDS = (
    "kind",
    "platform",
    "id",
    "likes",
    "comments",
    "shares",
    "views",
    "followers",
    "published_at",
)
ERRORS = {  # fixture -> (HTTP code, errors[0].reason, errors[0].domain)
    "yt_error_400_keyInvalid.json": (400, "keyInvalid", "usageLimits"),
    "yt_error_403_commentsDisabled.json": (403, "commentsDisabled", "youtube.commentThread"),
    "yt_error_403_permission_denied.json": (403, "SERVICE_UNAVAILABLE", "youtube.CoreErrorDomain"),
    "yt_error_403_quotaExceeded.json": (403, "quotaExceeded", "youtube.quota"),
}
HAND_CHECKED = {  # fixtures without an expected file, each tested below
    "yt_channels_list_multi.json",
    "yt_comment_threads_list_by_video_page1.json",
    "yt_videos_items_comments_disabled.json",
    "yt_videos_list_mostpopular_5items_2025.json",
    *ERRORS,
}
ALL_PARSERS = (
    parse_channels,
    parse_videos,
    parse_playlist_items,
    parse_search,
    parse_comment_threads,
)


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def utc(year: int, month: int, day: int, hour: int, minute: int, second: int) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def test_every_fixture_is_a_test_case() -> None:
    fixtures = {p.name for p in FIXTURES.glob("*.json") if not p.name.endswith(".expected.json")}
    with_expected = {p.name.replace(".expected.json", ".json") for p in EXPECTED}
    assert len(fixtures) == 13
    assert fixtures == with_expected | HAND_CHECKED


# --- fixtures with an .expected.json ------------------------------------------------------------


@pytest.mark.parametrize("expected_path", EXPECTED, ids=lambda p: p.name)
def test_parse_document_matches_expected(expected_path: Path) -> None:
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    expected = expected if isinstance(expected, list) else [expected]
    lines = [r.line() for r in parse_document("youtube", load(expected_path.name[:-14] + ".json"))]
    assert len(lines) == len(expected)
    for line, want in zip(lines, expected, strict=True):
        assert {f: line[f] for f in FIELDS} == {f: want[f] for f in FIELDS}
        caption = line["caption"]
        assert (None if caption is None else caption[:30]) == want["caption_prefix"]
        authors = want["author"] if isinstance(want["author"], list) else [want["author"]]
        assert line["author"] in authors
        assert line["source"] == "youtube_data_api"


def test_channel_single_fields() -> None:
    [channel] = parse_channels(load("yt_channels_list_single.json"))
    assert channel.handle == "@googledevelopers"
    assert channel.country == "US"
    assert channel.video_count == 5026
    assert channel.thumbnail_url is not None and "=s800-" in channel.thumbnail_url
    assert channel.uploads_playlist_id is None  # no contentDetails part requested
    assert channel.published_at == utc(2007, 8, 23, 0, 34, 43)


def test_video_single_fields() -> None:
    [video] = parse_videos(load("yt_videos_list_statistics_single.json"))
    assert video.duration_s == 21 * 60 + 7
    assert video.category_id == "28"
    assert video.live_broadcast_content == "none"
    assert len(video.tags) == 20 and video.tags[0] == "Google"
    assert video.thumbnail_url == "https://i.ytimg.com/vi/D-lhorsDlUQ/maxresdefault.jpg"
    assert video.comments_disabled is None


def test_videos_without_statistics_are_unknown_not_zero() -> None:
    videos = parse_videos(load("yt_videos_list_no_statistics_2items.json"))
    assert [(v.views, v.likes, v.comments, v.duration_s) for v in videos] == [(None,) * 4] * 2
    assert videos[1].thumbnail_url == "https://i.ytimg.com/vi/ovdbrdCIP7U/sddefault.jpg"


def test_playlist_items_page() -> None:
    page = parse_playlist_items(load("yt_playlist_items_list_page1.json"))
    assert (page.next_page_token, page.total_results, len(page.items)) == ("CAoQAA", 13, 10)
    first = page.items[0]
    assert (first.video_id, first.channel_id) == ("CvTApw9X8aA", "UC_x5XG1OV2P6uZZ5FSM9Ttw")
    assert first.published_at == utc(2019, 11, 21, 22, 17, 43)
    assert (first.views, first.duration_s, first.tags) == (None, None, [])


def test_search_page() -> None:
    page = parse_search(load("yt_search_list_keywords_page1.json"))
    assert (page.next_page_token, page.total_results, len(page.items)) == ("CBkQAA", 1000000, 25)
    assert page.items[1].title == "SURFING PERFECT PIPE &amp; BACKDOOR || SUNRISE SHACK!"  # raw
    assert page.items[0].channel_id == "UCo_q6aOlvPH7M-j_XGWVgXg"


# --- fixtures without an expected file ---------------------------------------------------------


def test_channels_multi() -> None:
    google, developers = parse_channels(load("yt_channels_list_multi.json"))
    assert (google.channel_id, google.handle, google.title) == (
        "UCK8sQmJBp8GCxrOtXWBpyEA",
        "@google",
        "Google",
    )
    assert google.uploads_playlist_id == "UUK8sQmJBp8GCxrOtXWBpyEA"
    assert developers.uploads_playlist_id == "UU_x5XG1OV2P6uZZ5FSM9Ttw"
    assert (google.subscribers, google.views, google.video_count) == (10700000, 3331930783, 2678)
    assert (developers.subscribers, developers.views) == (2260000, 208790084)
    assert (google.country, developers.country) == (None, "US")
    assert google.published_at == utc(2005, 9, 18, 22, 37, 10)
    lines = [r.line() for r in parse_document("youtube", load("yt_channels_list_multi.json"))]
    assert [(r["kind"], r["id"], r["followers"]) for r in lines] == [
        ("profile", "UCK8sQmJBp8GCxrOtXWBpyEA", 10700000),
        ("profile", "UC_x5XG1OV2P6uZZ5FSM9Ttw", 2260000),
    ]


def test_bare_items_with_hidden_comment_count() -> None:
    videos = parse_videos(load("yt_videos_items_comments_disabled.json"))
    assert [v.video_id for v in videos] == [
        "AwBlRsIHtSQ",
        "W0iQguIT_yE",
        "ggWZoH9PeIU",
        "pv3Ss8o9gGQ",
    ]
    assert [v.comments for v in videos] == [2336, 10691, None, 24936]
    assert [v.duration_s for v in videos] == [456, 209, 1510, 107]
    outdoor = videos[2]
    assert (outdoor.likes, outdoor.views, outdoor.channel_title) == (
        149687,
        2769447,
        "Outdoor Boys",
    )
    assert all(v.comments_disabled is None for v in videos)  # absent count is not proof
    line = parse_document("youtube", load("yt_videos_items_comments_disabled.json"))[2].line()
    assert (line["id"], line["comments"], line["likes"]) == ("ggWZoH9PeIU", None, 149687)


def test_most_popular_2025() -> None:
    body = load("yt_videos_list_mostpopular_5items_2025.json")
    videos = parse_videos(body)
    assert [v.duration_s for v in videos] == [946, 1661, 2106, 2450, 143]
    assert videos[1].channel_title == "The Anazala Family "  # raw, as in the JSON
    first = parse_document("youtube", body)[0].line()
    assert (first["id"], first["likes"], first["comments"], first["views"]) == (
        "-4GmbBoYQjE",
        1108018,
        35086,
        22542530,
    )
    assert (first["published_at"], first["author"]) == ("2025-05-10T16:00:01Z", "MrBeast")
    assert first["caption"].startswith("I Survived 100 Hours")


def test_comment_threads() -> None:
    body = load("yt_comment_threads_list_by_video_page1.json")
    page = parse_comment_threads(body)
    assert (len(page.items), page.total_results) == (5, 5)
    assert page.next_page_token is not None and page.next_page_token.startswith("QURTSl9p")
    first = page.items[0]
    assert (first.comment_id, first.video_id) == ("UgyZ1jqkHKYvi1-ruOZ4AaABAg", "F1UP7wRCPH8")
    assert (first.author, first.author_channel_id) == ("himani agarwal", "UCzj-CjKYmGlZ7vTL-vOe57A")
    assert first.text == "Google.com"  # textOriginal, not the HTML textDisplay
    assert (first.likes, first.reply_count) == (0, 0)  # a real 0 stays 0
    assert first.published_at == first.updated_at == utc(2019, 11, 26, 15, 51, 44)
    assert [c.likes for c in page.items] == [0, 1, 4, 1, 0]
    assert page.items[-1].reply_count == 2
    with pytest.raises(UnknownShape, match="comments"):
        parse_document("youtube", body)


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_error_bodies(name: str) -> None:
    code, reason, domain = ERRORS[name]
    error = parse_error(load(name))
    assert error is not None
    assert (error.code, error.reason, error.domain) == (code, reason, domain)
    assert error.message
    with pytest.raises(UnknownShape, match=reason):
        parse_document("youtube", load(name))
    for parser in ALL_PARSERS:
        with pytest.raises(ApiErrorBody) as caught:
            parser(load(name))
        assert caught.value.error == error


def test_permission_denied_keeps_status() -> None:
    error = parse_error(load("yt_error_403_permission_denied.json"))
    assert error is not None and error.status == "PERMISSION_DENIED"


@pytest.mark.parametrize("name", [p.name[:-14] + ".json" for p in EXPECTED])
def test_data_bodies_are_not_errors(name: str) -> None:
    assert parse_error(load(name)) is None


# --- shapes built in memory ----------------------------------------------------------------------


def test_search_skips_channel_and_playlist_results() -> None:
    body = load("yt_search_list_keywords_page1.json")
    body["items"][0]["id"] = {"kind": "youtube#channel", "channelId": "UCo_q6aOlvPH7M-j_XGWVgXg"}
    body["items"][1]["id"] = {"kind": "youtube#playlist", "playlistId": "PLx"}
    page = parse_search(body)
    assert len(page.items) == 23 and page.items[0].video_id == "_Z56nIAQj7Q"
    assert len(parse_document("youtube", body)) == 23


def test_playlist_item_prefers_video_owner_and_video_publish_time() -> None:
    body = load("yt_playlist_items_list_page1.json")
    item = body["items"][0]
    item["snippet"].update(videoOwnerChannelTitle="Owner", videoOwnerChannelId="UCowner")
    del item["snippet"]["resourceId"]
    item["contentDetails"] = {"videoId": "CvTApw9X8aA", "videoPublishedAt": "2019-11-20T10:00:00Z"}
    video = parse_playlist_items(body).items[0]
    assert (video.video_id, video.channel_title, video.channel_id) == (
        "CvTApw9X8aA",
        "Owner",
        "UCowner",
    )
    assert video.published_at == utc(2019, 11, 20, 10, 0, 0)


def test_hidden_subscriber_count_is_none() -> None:
    body = load("yt_channels_list_single.json")
    body["items"][0]["statistics"]["hiddenSubscriberCount"] = True
    [channel] = parse_channels(body)
    assert channel.subscribers is None and channel.views == 160361638
    assert parse_document("youtube", body)[0].followers is None


def test_missing_subscriber_count_is_none() -> None:
    body = load("yt_channels_list_single.json")
    del body["items"][0]["statistics"]["subscriberCount"]
    assert parse_channels(body)[0].subscribers is None


def test_source_is_passed_through() -> None:
    [video] = parse_videos(load("yt_videos_list_statistics_single.json"), source="sandbox")
    assert video.source == "sandbox" and video.normalized().source == "sandbox"


def test_offset_timestamps_become_utc() -> None:
    body = load("yt_videos_list_statistics_single.json")
    body["items"][0]["snippet"]["publishedAt"] = "2019-03-21T22:37:49+02:00"
    published = parse_videos(body)[0].published_at
    assert published == utc(2019, 3, 21, 20, 37, 49) and published.tzinfo == UTC


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("PT21M7S", 1267),
        ("PT1H2M3S", 3723),
        ("PT45S", 45),
        ("PT2H", 7200),
        ("PT1H5S", 3605),
        ("P1DT2H3M4S", 93784),
        ("P1D", 86400),
        ("P0D", 0),
        ("PT0S", 0),
        ("P1W", 604800),
        (None, None),
    ],
)
def test_parse_duration(value: str | None, seconds: int | None) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", ["", "P", "PT", "P1DT", "PT1.5S", "1H", "P1Y", "P1M", "PT1X"])
def test_parse_duration_rejects_garbage(value: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(value)


def test_bad_duration_in_body_is_unknown_shape() -> None:
    body = load("yt_videos_list_statistics_single.json")
    body["items"][0]["contentDetails"]["duration"] = "21 minutes"
    with pytest.raises(UnknownShape):
        parse_videos(body)


GARBAGE: list[Any] = [
    "a JSON string",
    [1, 2, 3],
    {},
    None,
    42,
    {"kind": "youtube#videoListResponse", "items": {"not": "a list"}},
    {"kind": "youtube#videoListResponse", "items": [1]},
    {"kind": "youtube#videoListResponse", "items": [{"kind": "youtube#channel", "id": "x"}]},
    {"kind": "youtube#videoListResponse", "items": [{"kind": "youtube#video"}]},
    {"kind": "youtube#videoListResponse", "items": [{"id": "x", "statistics": {"viewCount": "?"}}]},
    {"kind": "youtube#videoListResponse", "items": [{"id": "x", "snippet": ["not", "a dict"]}]},
    {"kind": "youtube#videoListResponse", "items": [{"id": {"videoId": "x"}}]},
    {"kind": "youtube#channelListResponse", "items": [{"id": "x", "statistics": "7"}]},
    {"kind": "youtube#searchListResponse", "items": [{"id": "x"}]},
    {"kind": "youtube#playlistItemListResponse", "items": [{"snippet": {}}]},
    {"kind": "youtube#somethingElse", "items": []},
    [{"kind": "youtube#video", "id": "x"}, {"kind": "youtube#channel", "id": "y"}],
    [{"id": "x"}],
    {"error": {"errors": "nope", "code": "four hundred"}},
]


@pytest.mark.parametrize("body", GARBAGE, ids=[repr(g)[:40] for g in GARBAGE])
def test_garbage_is_unknown_shape(body: Any) -> None:
    with pytest.raises(UnknownShape):
        parse_document("youtube", body)


@pytest.mark.parametrize("parser", ALL_PARSERS, ids=lambda p: p.__name__)
@pytest.mark.parametrize("body", ["a JSON string", [1, 2, 3], {}, None, {"items": 5}])
def test_every_parser_rejects_garbage(parser: Any, body: Any) -> None:
    with pytest.raises(UnknownShape):
        parser(copy.deepcopy(body))


def test_wrong_kind_for_parser_is_unknown_shape() -> None:
    with pytest.raises(UnknownShape, match="youtube#channelListResponse"):
        parse_channels(load("yt_videos_list_statistics_single.json"))


def test_empty_responses() -> None:
    assert parse_videos([]) == [] and parse_document("youtube", []) == []
    page = parse_search({"kind": "youtube#searchListResponse", "pageInfo": {"totalResults": 0}})
    assert (page.items, page.total_results, page.next_page_token) == ([], 0, None)


def test_unknown_platform() -> None:
    with pytest.raises(UnknownShape, match="unknown platform"):
        parse_document("myspace", {})


def test_parse_error_on_other_bodies() -> None:
    assert parse_error({"kind": "youtube#videoListResponse", "items": []}) is None
    assert parse_error([1, 2]) is None and parse_error("error") is None
    oauth = {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
    assert parse_error(oauth) == ApiError(
        reason="invalid_grant", message=oauth["error_description"]
    )
    details = {
        "error": {
            "code": 400,
            "message": "bad key",
            "status": "INVALID_ARGUMENT",
            "details": [{"reason": "API_KEY_INVALID"}],
        }
    }
    error = parse_error(details)
    assert error is not None and (error.reason, error.status) == (
        "API_KEY_INVALID",
        "INVALID_ARGUMENT",
    )


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key/index path inside a decoded JSON value."""
    children: list[tuple[Any, Any]] = []
    if isinstance(node, dict):
        children = list(node.items())
    elif isinstance(node, list):
        children = list(enumerate(node))
    return [p for key, child in children for p in [(*prefix, key), *_paths(child, (*prefix, key))]]


@pytest.mark.parametrize("expected_path", EXPECTED, ids=lambda p: p.name)
def test_mutated_fixtures_parse_or_raise_unknown_shape(expected_path: Path) -> None:
    """Replacing any value with a wrong type never leaks a KeyError/TypeError."""
    body = load(expected_path.name[:-14] + ".json")
    for path in _paths(body):
        replacements: list[Any] = [None, 7, "x", [], {}, True]
        for replacement in replacements:
            mutated = copy.deepcopy(body)
            parent = mutated
            for key in path[:-1]:
                parent = parent[key]
            parent[path[-1]] = replacement
            try:
                parse_document("youtube", mutated)
            except UnknownShape:
                pass
