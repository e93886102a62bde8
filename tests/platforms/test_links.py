"""The URL router (core/links.py) and `beat links --resolve-only`: every YouTube URL form the
URL specification knows, one JSON line each; refusals are reasons, never guesses."""

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from core.config import Settings
from core.links import Router
from core.platforms import NotALink, registry
from tests import beat_cli
from tests.youtube.test_urls import ACCEPTED, REJECTED

ROOT = Path(__file__).resolve().parents[2]
PROFILE_FORMS = {"channel": "{}", "handle": "@{}", "custom": "c/{}", "user": "user/{}"}


@pytest.fixture(scope="module")
def router() -> Router:
    return Router(registry(Settings()))


def expected(kind: str, id_: str) -> tuple[str, str]:
    if kind in PROFILE_FORMS:
        return "profile", PROFILE_FORMS[kind].format(id_)
    return kind, id_


@pytest.mark.parametrize(("text", "kind", "id_"), ACCEPTED)
def test_every_accepted_youtube_form_resolves(router: Router, text: str, kind: str,
                                              id_: str) -> None:
    link = router.resolve(text)
    assert (link.platform, link.kind, link.id) == ("youtube", *expected(kind, id_))


@pytest.mark.parametrize(("text", "reason"), REJECTED)
def test_every_rejected_youtube_form_is_an_error(router: Router, text: str,
                                                 reason: str) -> None:
    with pytest.raises(NotALink) as refused:
        router.resolve(text)
    message = str(refused.value)
    assert "\n" not in message
    assert reason in message or message.startswith("unsupported platform")


@pytest.mark.parametrize("text", [
    "https://youtube.com.evil.example/watch?v=dQw4w9WgXcQ",
    "https://www.facebook.com.evil.example/watch/?v=10153231379946729",
    "https://www.tiktok.com/@scout2015/video/6718335390845095173",
    "https://evil-youtube.com/watch?v=dQw4w9WgXcQ",
])
def test_hosts_no_platform_serves_are_unsupported(router: Router, text: str) -> None:
    with pytest.raises(NotALink, match="^unsupported platform"):
        router.resolve(text)


def test_two_platforms_claiming_one_host_is_refused() -> None:
    youtube = registry(Settings())["youtube"]
    with pytest.raises(ValueError, match="claimed by"):
        Router({"youtube": youtube, "copy": replace(youtube, name="copy")})


def test_beat_links_answers_every_form_with_one_json_line(router: Router, tmp_path: Path) -> None:
    texts = [t for t, *_ in ACCEPTED] + [t for t, _ in REJECTED
                                         if t.strip() and "\n" not in t and "\r" not in t]
    listing = tmp_path / "links.txt"
    listing.write_text("\n".join(texts) + "\n", encoding="utf-8")
    result = beat_cli.run(["links", "--resolve-only", str(listing)], dict(os.environ))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == len(texts)
    for text, line in zip(texts, lines):
        assert line == next(router.lines([text]))
        assert set(line) in ({"url", "platform", "kind", "id"}, {"url", "error"})
    assert sum("error" not in line for line in lines) == len(ACCEPTED)


def test_beat_links_without_an_output_says_what_to_give() -> None:
    result = beat_cli.run(["links", "-"], dict(os.environ), input="")
    assert result.returncode == 2 and "-o REPORT.xlsx" in result.stderr
    assert "--resolve-only" in result.stderr
    missing = beat_cli.run(["links", "--resolve-only", "/no/such/list.txt"], dict(os.environ))
    assert missing.returncode == 2 and missing.stderr.startswith("beat: cannot read")
