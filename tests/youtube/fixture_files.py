"""The YouTube fixture files (read in place from ../shared/fixtures, never copied) and what the
parser tests know about them."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from youtube.sources.data_api.parse import (
    parse_channels,
    parse_comment_threads,
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
