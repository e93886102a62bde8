"""`beat parse --platform youtube` reads YouTube Analytics reports.query answers too: a report
by video gives one post per row, any other one profile record with the rows' summed counts;
cells are typed by their column's dataType; error bodies and broken tables are refused."""

import json
import os
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from starlette.datastructures import QueryParams

from core.parsing import UnknownShape, parse_document
from sandbox.youtube import analytics as figures
from sandbox.youtube.analytics_api import query
from sandbox.youtube.world import build_world
from tests import beat_cli
from youtube.sources.analytics import parse_report
from youtube.sources.data_api.parse import ApiErrorBody

ROOT = Path(__file__).parents[2]
WORLD = build_world(1)
CHANNEL = next(c for c in WORLD.channels if c.published_at.year < 2020)
TODAY = date(2025, 6, 1)
DAY_METRICS = "views,estimatedMinutesWatched,averageViewDuration,likes,comments,shares"


def answer(**params: str) -> dict[str, Any]:
    """A reports.query answer as the sandbox gives it to the channel's owner."""
    given = {"ids": "channel==MINE", "startDate": "2025-05-01", "endDate": "2025-05-10", **params}
    return query(WORLD, CHANNEL.channel_id, QueryParams(given), TODAY)


def test_a_daily_report_is_the_channels_counts_over_the_period() -> None:
    days = figures.days_with_data(CHANNEL, date(2025, 5, 1), date(2025, 5, 10), TODAY)
    total = figures.totals(WORLD, CHANNEL, days)
    [record] = parse_document("youtube", answer(metrics=DAY_METRICS, dimensions="day"))
    assert record.line() == {"platform": "youtube", "kind": "profile", "id": None,
                             "views": total.views, "likes": total.likes,
                             "comments": total.comments, "shares": total.shares,
                             "followers": None, "caption": None, "published_at": None,
                             "author": None, "source": "youtube_analytics"}


def test_cells_are_typed_by_their_columns() -> None:
    report = parse_report(answer(metrics="viewerPercentage", dimensions="ageGroup,gender"))
    assert report.dimensions == ("ageGroup", "gender")
    assert all(isinstance(row["viewerPercentage"], float) for row in report.rows)
    [record] = parse_document("youtube", answer(metrics="viewerPercentage",
                                                dimensions="ageGroup,gender"))
    assert (record.views, record.likes) == (None, None), "shares of viewers are not counts"


def test_a_report_by_video_gives_one_post_per_row() -> None:
    body = {"kind": "youtubeAnalytics#resultTable", "columnHeaders": [
        {"name": "video", "columnType": "DIMENSION", "dataType": "STRING"},
        {"name": "views", "columnType": "METRIC", "dataType": "INTEGER"},
        {"name": "likes", "columnType": "METRIC", "dataType": "INTEGER"}],
        "rows": [["dQw4w9WgXcQ", 1200, 34], ["9bZkp7q19f0", "77", None]]}
    lines = [r.line() for r in parse_document("youtube", body)]
    assert [(x["kind"], x["id"], x["views"], x["likes"], x["comments"]) for x in lines] == \
        [("post", "dQw4w9WgXcQ", 1200, 34, None), ("post", "9bZkp7q19f0", 77, None, None)]


def test_an_answer_without_rows_has_zero_counts_summed_over_nothing() -> None:
    body = answer(metrics="views", dimensions="day", startDate="2025-05-31",
                  endDate="2025-05-31")
    assert "rows" not in body
    assert parse_document("youtube", body)[0].views == 0


@pytest.mark.parametrize("body, error", [
    ({"error": {"code": 403, "message": "Forbidden", "errors": [
        {"message": "Forbidden", "domain": "global", "reason": "forbidden"}]}}, ApiErrorBody),
    ({"kind": "youtubeAnalytics#resultTable", "columnHeaders": [
        {"name": "day", "columnType": "DIMENSION", "dataType": "STRING"}],
      "rows": [["2025-05-01", 3]]}, UnknownShape),
    ({"kind": "youtubeAnalytics#resultTable", "columnHeaders": [
        {"name": "views", "columnType": "METRIC", "dataType": "DURATION"}], "rows": []},
     UnknownShape),
    ({"kind": "youtubeAnalytics#resultTable"}, UnknownShape),
])
def test_broken_answers_are_refused(body: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_report(body)


def test_beat_parse_prints_the_report(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    body = answer(metrics="views,estimatedMinutesWatched", dimensions="country")
    path.write_text(json.dumps(body))
    result = beat_cli.run(["parse", "--platform", "youtube", str(path)], dict(os.environ))
    assert result.returncode == 0, result.stderr
    [line] = [json.loads(x) for x in result.stdout.splitlines()]
    assert line["kind"] == "profile" and line["source"] == "youtube_analytics"
    assert line["views"] == sum(row[1] for row in answer(metrics="views",
                                                         dimensions="country")["rows"])
