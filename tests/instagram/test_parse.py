"""`beat parse --platform instagram`: every Instagram fixture with an expected file (Graph API
and web answers, read in place from ../shared/fixtures) parses, through the platform's one
document parser and through the command, to its expected values; other documents are refused."""

import json
import os
from pathlib import Path
from typing import Any

import pytest

from core.parsing import UnknownShape, parse_document
from tests import beat_cli

ROOT = Path(__file__).parents[2]
FIXTURES = ROOT.parent / "shared" / "fixtures" / "instagram"
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


def test_every_expected_file_is_read() -> None:
    assert len(EXPECTED) >= 5


@pytest.mark.parametrize("expected", EXPECTED, ids=lambda path: path.name)
def test_each_fixture_parses_to_its_expected_values(expected: Path) -> None:
    raw = expected.with_name(expected.name.replace(".expected", ""))
    found = parse_document("instagram", json.loads(raw.read_text(encoding="utf-8")))
    matches([n.line() for n in found], as_list(json.loads(expected.read_text("utf-8"))))


@pytest.mark.parametrize("name", [p.name for p in sorted(FIXTURES.glob("*.json"))
                                  if ".expected" not in p.name and "insights" not in p.name])
def test_every_fixture_with_posts_or_profiles_gives_some(name: str) -> None:
    found = parse_document("instagram", json.loads((FIXTURES / name).read_text("utf-8")))
    assert found and all(n.platform == "instagram" for n in found)


@pytest.mark.parametrize("name", [p.name for p in sorted(FIXTURES.glob("*insights*.json"))])
def test_an_insights_answer_is_refused_with_what_it_is(name: str) -> None:
    with pytest.raises(UnknownShape, match="insights answer"):
        parse_document("instagram", json.loads((FIXTURES / name).read_text("utf-8")))


def test_a_document_of_no_instagram_shape_is_refused() -> None:
    with pytest.raises(UnknownShape, match="not an Instagram"):
        parse_document("instagram", {"kind": "youtube#videoListResponse", "items": []})


def test_the_command_prints_the_expected_lines() -> None:
    expected = FIXTURES / "ig_graph_business_discovery_media_page1.expected.json"
    raw = expected.with_name(expected.name.replace(".expected", ""))
    result = beat_cli.run(["parse", "--platform", "INSTAGRAM", str(raw)], dict(os.environ))
    assert result.returncode == 0, result.stderr
    matches([json.loads(line) for line in result.stdout.splitlines()],
            as_list(json.loads(expected.read_text("utf-8"))))
