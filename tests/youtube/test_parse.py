"""Every YouTube fixture in ../shared/fixtures/youtube is a parser test case, plus shape edge cases.

Fixtures are read in place (third-party data, never copied); variants are built in memory.
"""

import json
from pathlib import Path

import pytest

from core.parsing import UnknownShape, parse_document
from tests.youtube.fixture_files import (
    ALL_PARSERS,
    ERRORS,
    EXPECTED,
    FIELDS,
    FIXTURES,
    HAND_CHECKED,
    load,
    utc,
)
from youtube.sources.data_api.parse import (
    ApiErrorBody,
    parse_channels,
    parse_comment_threads,
    parse_error,
    parse_playlist_items,
    parse_search,
    parse_videos,
)


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


def test_comment_threads_with_their_replies() -> None:
    """part=replies: the replies a thread shows, each naming the thread's comment as parent
    (the real fixture's last thread, with two replies in the API's comment shape added)."""
    body = load("yt_comment_threads_list_by_video_page1.json")
    thread = body["items"][-1]
    top = thread["snippet"]["topLevelComment"]
    thread["replies"] = {"comments": [
        {"kind": "youtube#comment", "etag": "e", "id": f"{top['id']}.r{n}", "snippet": {
            "channelId": top["snippet"].get("channelId"), "textDisplay": f"reply {n}",
            "textOriginal": f"reply {n}", "parentId": top["id"], "authorDisplayName": "@r",
            "authorChannelId": {"value": "UCreply"}, "canRate": True, "viewerRating": "none",
            "likeCount": n, "publishedAt": f"2020-01-0{n}T00:00:00Z",
            "updatedAt": f"2020-01-0{n}T00:00:00Z"}} for n in (1, 2)]}
    page = parse_comment_threads(body)
    assert [c.replies for c in page.items[:-1]] == [[]] * 4
    parent = page.items[-1]
    assert [(r.comment_id, r.parent_id, r.video_id, r.text, r.likes) for r in parent.replies] == [
        (f"{parent.comment_id}.r{n}", parent.comment_id, parent.video_id, f"reply {n}", n)
        for n in (1, 2)]
    assert all(r.reply_count is None and r.replies == [] for r in parent.replies)
    assert parent.parent_id is None and parent.reply_count == 2


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
