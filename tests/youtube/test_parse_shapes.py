"""YouTube parsers on shapes built in memory: edge cases, durations, garbage, mutated fixtures.

Nothing but UnknownShape may escape a parser, whatever the body.
"""

import copy
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest

from core.parsing import UnknownShape, parse_document
from tests.youtube.fixture_files import (
    ALL_PARSERS,
    EXPECTED,
    load,
    utc,
)
from youtube.models import ApiError
from youtube.sources.data_api.parse import (
    parse_channels,
    parse_duration,
    parse_error,
    parse_playlist_items,
    parse_search,
    parse_videos,
)

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
