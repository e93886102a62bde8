"""YouTube models: the mapping to Normalized, missing-is-None, and the generic Page."""

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from youtube.models import Channel, Comment, Page, Video

CREATED = datetime(2007, 8, 23, 0, 34, 43, tzinfo=UTC)


def test_channel_normalized_is_a_profile() -> None:
    channel = Channel(
        channel_id="UC1",
        title="Google Developers",
        published_at=CREATED,
        subscribers=10,
        views=99,
        video_count=5,
        source="youtube_data_api",
    )
    assert channel.normalized().line() == {
        "platform": "youtube",
        "kind": "profile",
        "id": "UC1",
        "likes": None,
        "comments": None,
        "shares": None,
        "views": 99,
        "followers": 10,
        "caption": None,
        "published_at": "2007-08-23T00:34:43Z",
        "author": "Google Developers",
        "source": "youtube_data_api",
    }


def test_video_normalized_is_a_post() -> None:
    video = Video(
        video_id="v1",
        channel_title="NFL Throwback",
        title="How EVERY Team Got Its Name",
        published_at=CREATED,
        views=7920,
        likes=190,
        comments=0,
        source="sandbox",
    )
    line = video.normalized().line()
    assert (line["kind"], line["id"], line["author"], line["caption"]) == (
        "post",
        "v1",
        "NFL Throwback",
        "How EVERY Team Got Its Name",
    )
    assert (line["likes"], line["comments"], line["views"], line["shares"]) == (190, 0, 7920, None)
    assert (line["followers"], line["source"]) == (None, "sandbox")


def test_missing_stays_none() -> None:
    video = Video(video_id="v1", source="s")
    assert (video.views, video.likes, video.comments, video.duration_s) == (None,) * 4
    assert (video.comments_disabled, video.tags) == (None, [])
    channel = Channel(channel_id="c", source="s")
    assert (channel.subscribers, channel.views, channel.video_count) == (None,) * 3
    assert channel.normalized().published_at is None


def test_source_is_required() -> None:
    with pytest.raises(ValidationError):
        Video(video_id="v1")  # type: ignore[call-arg]


def test_page_is_generic() -> None:
    comment = Comment(comment_id="c1", likes=0, source="s")
    page = Page[Comment](items=[comment], next_page_token="tok", total_results=1)
    assert page.items[0].likes == 0 and page.next_page_token == "tok"
    assert Page[Video](items=[]).total_results is None
    with pytest.raises(ValidationError):
        Page[Video](items=[{"video_id": 1}])  # type: ignore[list-item]
