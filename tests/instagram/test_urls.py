"""Specification of Instagram URL recognition (instagram/urls.py): what users paste, what is
refused and why, share links left to the router, and the shortcode <-> media id mapping."""

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from core.config import Settings
from core.links import Router
from core.platforms import FollowRedirect, NotALink, Platform
from instagram.urls import (
    HOSTS,
    media_id_to_shortcode,
    resolve,
    share_url,
    shortcode_to_media_id,
)

FIXTURES = Path(__file__).parents[2].parent / "shared" / "fixtures" / "instagram"
CODE = "CvsXrH2JMvL"
# A private post's shortcode: the media id's 11 characters, then a key.
PRIVATE = "CCQQsCXjOaBfS3I2PpqsNkxElV9DXj61vzo5xs0"
STORY_ID = "3165008756566445003"  # shortcode CvsXrH2JMvL, as the fixture pairs them

ACCEPTED = [
    # Posts, reels and IGTV: with or without the trailing slash, queries and fragments.
    (f"https://www.instagram.com/p/{CODE}/", "post", CODE),
    (f"https://www.instagram.com/p/{CODE}", "post", CODE),
    (f"instagram.com/p/{CODE}/", "post", CODE),
    (f"http://instagram.com/p/{CODE}/?igsh=MTc4MmM1YmI2Ng==&utm_source=qr", "post", CODE),
    (f"https://www.instagram.com/p/{CODE}/?img_index=3", "post", CODE),
    (f"https://www.instagram.com/p/{CODE}/#comments", "post", CODE),
    (f"https://www.instagram.com/reel/{CODE}/?utm_source=ig_web_copy_link", "post", CODE),
    (f"https://www.instagram.com/reels/{CODE}/", "post", CODE),
    (f"https://www.instagram.com/tv/{CODE}/", "post", CODE),
    (f"https://m.instagram.com/p/{CODE}/", "post", CODE),
    (f"https://instagr.am/p/{CODE}/", "post", CODE),
    (f"https://www.instagr.am/p/{CODE}", "post", CODE),
    (f"HTTPS://WWW.INSTAGRAM.COM/p/{CODE}/", "post", CODE),
    (f"https://www.instagram.com./p/{CODE}/", "post", CODE),
    (f"  https://www.instagram.com/p/{CODE}/\n", "post", CODE),
    (f"https://www.instagram.com/p/{PRIVATE}/", "post", PRIVATE),
    (f"https://www.instagram.com/p/{CODE}/embed/", "post", CODE),
    (f"https://www.instagram.com/p/{CODE}/embed/captioned/", "post", CODE),
    (f"https://www.instagram.com/p/{CODE}/media/?size=l", "post", CODE),
    (f"https://www.instagram.com/p/{CODE}/c/17985726531402331/", "post", CODE),
    (f"https://www.instagram.com/p/{CODE}/c/17985726531402331/r/18043210987654321/", "post",
     CODE),
    ("https://www.instagram.com/p/B-fKL9qpeab/", "post", "B-fKL9qpeab"),
    ("https://www.instagram.com/p/Csb_zqjJYDv/", "post", "Csb_zqjJYDv"),
    # The user's name before the post, as Instagram now shows post URLs.
    (f"https://www.instagram.com/tresenrayaperu/p/{CODE}/", "post", CODE),
    (f"https://www.instagram.com/natgeo/reel/{CODE}/?igsh=abc", "post", CODE),
    (f"https://www.instagram.com/natgeo/tv/{CODE}", "post", CODE),
    # Stories: their own kind, the user and the story's media id.
    (f"https://www.instagram.com/stories/tresenrayaperu/{STORY_ID}/", "story",
     f"tresenrayaperu/{STORY_ID}"),
    (f"https://www.instagram.com/stories/TresEnRayaPeru/{STORY_ID}?utm_source=ig_story_item_share",
     "story", f"tresenrayaperu/{STORY_ID}"),
    # Profiles: the user name in lower case, tabs included.
    ("https://www.instagram.com/natgeo/", "profile", "natgeo"),
    ("https://www.instagram.com/natgeo", "profile", "natgeo"),
    ("https://www.instagram.com/NatGeo/?hl=en", "profile", "natgeo"),
    ("https://instagram.com/natgeo?igsh=MWQ1ZGUxMzBkMA==", "profile", "natgeo"),
    ("https://www.instagram.com/natgeo/reels/", "profile", "natgeo"),
    ("https://www.instagram.com/natgeo/tagged/", "profile", "natgeo"),
    ("https://www.instagram.com/nat.geo_travel/", "profile", "nat.geo_travel"),
    ("https://www.instagram.com/_nat_/", "profile", "_nat_"),
    ("https://www.instagram.com/a/", "profile", "a"),
    ("https://www.instagram.com/" + "a" * 30 + "/", "profile", "a" * 30),
    ("https://www.instagram.com/_u/natgeo", "profile", "natgeo"),
    ("https://m.instagram.com/natgeo/", "profile", "natgeo"),
    ("https://instagr.am/natgeo", "profile", "natgeo"),
    ("https://ig.me/m/natgeo", "profile", "natgeo"),
    ("https://www.instagram.com/explore/tags/Travel/", "hashtag", "travel"),
    ("instagram.com/explore/tags/café_2024", "hashtag", "café_2024"),
]

REJECTED = [
    ("https://www.instagram.com/", "homepage"),
    ("https://www.instagram.com/explore/", "Explore"),
    ("https://www.instagram.com/explore/tags/", "hashtag page is /explore/tags/"),
    ("https://www.instagram.com/explore/tags/no-dash/", "hashtag page is /explore/tags/"),
    ("https://www.instagram.com/explore/locations/212988663/paris-france/", "Explore"),
    ("https://www.instagram.com/accounts/login/?next=/p/CvsXrH2JMvL/", "/accounts"),
    ("https://www.instagram.com/direct/inbox/", "direct messages"),
    ("https://www.instagram.com/about/", "/about"),
    ("https://www.instagram.com/developer/", "/developer"),
    ("https://www.instagram.com/legal/privacy/", "/legal"),
    ("https://www.instagram.com/reels/", "Reels feed"),
    ("https://www.instagram.com/reels/audio/1234567890/", "audio"),
    ("https://www.instagram.com/stories/natgeo/", "current stories"),
    ("https://www.instagram.com/stories/highlights/17890000000000000/", "highlight"),
    ("https://www.instagram.com/stories/natgeo/notanid/", "not a story id"),
    ("https://www.instagram.com/stories/natgeo/99999999999999999999/", "not a story id"),
    ("https://www.instagram.com/s/aGlnaGxpZ2h0OjE3OTA?story_media_id=1", "highlight"),
    ("https://www.instagram.com/p/", "shortcode"),
    ("https://www.instagram.com/p/Cvs.XrH2/", "not a valid Instagram shortcode"),
    ("https://www.instagram.com/p/" + "A" * 51 + "/", "not a valid Instagram shortcode"),
    (f"https://www.instagram.com/p/{CODE}/likes/extra/", "unrecognised post page"),
    (f"https://www.instagram.com/p/{CODE}/c/notanumber/", "unrecognised post page"),
    ("https://www.instagram.com/" + "a" * 31 + "/", "not a valid Instagram user name"),
    ("https://www.instagram.com/nat-geo/", "not a valid Instagram user name"),
    ("https://www.instagram.com/.natgeo/", "not a valid Instagram user name"),
    ("https://www.instagram.com/natgeo./", "not a valid Instagram user name"),
    ("https://www.instagram.com/nat..geo/", "not a valid Instagram user name"),
    ("https://www.instagram.com/natgeo/saved/all-posts/", "unrecognised profile page"),
    ("https://ig.me/natgeo", "ig.me"),
    ("https://www.instagram.com/share/", "share link is"),
    ("https://www.instagram.com/share/p/bad.code/", "not a valid Instagram share code"),
]

SHARE_LINKS = [
    "https://www.instagram.com/share/BAhwXq2dIY/",
    "https://www.instagram.com/share/p/BAhwXq2dIY/",
    "https://www.instagram.com/share/reel/BAhwXq2dIY/?igsh=abc",
    "instagram.com/share/reel/BAhwXq2dIY",
]


@pytest.fixture(scope="module")
def router() -> Router:
    return Router({"instagram": Platform(name="instagram", hosts=HOSTS, resolve=resolve)})


@pytest.mark.parametrize(("text", "kind", "id_"), ACCEPTED)
def test_every_accepted_form_resolves(router: Router, text: str, kind: str, id_: str) -> None:
    link = router.resolve(text)
    assert (link.platform, link.kind, link.id) == ("instagram", kind, id_)


@pytest.mark.parametrize(("text", "reason"), REJECTED)
def test_every_rejected_form_says_why_in_one_line(router: Router, text: str,
                                                   reason: str) -> None:
    with pytest.raises(NotALink) as refused:
        router.resolve(text)
    assert not isinstance(refused.value, FollowRedirect)
    assert reason in str(refused.value) and "\n" not in str(refused.value)


@pytest.mark.parametrize("text", [
    f"https://instagram.com.evil.example/p/{CODE}/",
    f"https://evilinstagram.com/p/{CODE}/",
    f"https://l.instagram.com/?u=https%3A%2F%2Fexample.com%2F&e={CODE}",
])
def test_look_alike_hosts_are_unsupported(router: Router, text: str) -> None:
    with pytest.raises(NotALink, match="^unsupported platform"):
        router.resolve(text)


@pytest.mark.parametrize("text", SHARE_LINKS)
def test_share_links_ask_for_their_redirect_to_be_followed(router: Router, text: str) -> None:
    with pytest.raises(FollowRedirect) as share:
        router.resolve(text)
    assert share.value.url.startswith("https://")
    assert urlsplit(share.value.url).path.startswith("/share/")
    assert "follow" in str(share.value)  # what a caller that does not follow sees


def test_share_links_are_asked_of_the_sandbox_in_sandbox_mode() -> None:
    link = "https://www.instagram.com/share/p/BAhwXq2dIY/"
    assert share_url(Settings(sandbox_url="http://127.0.0.1:9000/"), link) == \
        "http://127.0.0.1:9000/instagram-web/share/p/BAhwXq2dIY/"
    assert share_url(Settings(sandbox_url="http://sb.test"), link + "?igsh=x") == \
        "http://sb.test/instagram-web/share/p/BAhwXq2dIY/?igsh=x"
    assert share_url(Settings(sandbox_url=None), link) == link


def fixture_pairs() -> list[tuple[int, str]]:
    """(media id, shortcode) of every post in the web timeline fixture, read in place."""
    expected = json.loads((FIXTURES / "ig_web_graphql_user_timeline.expected.json").read_text())
    return [(int(item["id"]), item["id_alt"][0]) for item in expected
            if item["kind"] == "post" and item.get("id_alt")]


def test_the_fixture_pairs_every_media_id_with_its_shortcode() -> None:
    pairs = fixture_pairs()
    assert (3165008756566445003, "CvsXrH2JMvL") in pairs and len(pairs) >= 3
    for media_id, shortcode in pairs:
        assert media_id_to_shortcode(media_id) == shortcode
        assert shortcode_to_media_id(shortcode) == media_id


def test_a_short_shortcode_worked_by_hand() -> None:
    # "BAB" = B(1)·64² + A(0)·64 + B(1) = 4096 + 0 + 1
    assert shortcode_to_media_id("BAB") == 4097
    assert media_id_to_shortcode(4097) == "BAB"
    # "_-" = _(63)·64 + -(62) = 4094
    assert shortcode_to_media_id("_-") == 4094
    assert media_id_to_shortcode("0") == "A"


def test_conversions_of_published_examples() -> None:
    assert shortcode_to_media_id("B1LbfVPlwIA") == 2110901750722920960
    assert media_id_to_shortcode("2278584739065882267") == "B-fKL9qpeab"
    # The web's "{pk}_{user id}" form is the pk's code.
    assert media_id_to_shortcode("2278584739065882267_1903424587") == "B-fKL9qpeab"
    # A private post's code: only its first 11 characters encode the media id.
    assert shortcode_to_media_id(PRIVATE) == 2346448800803776129


def test_the_64_bit_bounds() -> None:
    assert media_id_to_shortcode(2**64 - 1) == "P__________"
    assert shortcode_to_media_id("P__________") == 2**64 - 1
    with pytest.raises(ValueError, match="beyond 64 bits"):
        shortcode_to_media_id("Q__________")
    with pytest.raises(ValueError, match="not an Instagram media id"):
        media_id_to_shortcode(2**64)
    with pytest.raises(ValueError, match="not an Instagram media id"):
        media_id_to_shortcode(-1)
    with pytest.raises(ValueError, match="not an Instagram shortcode"):
        shortcode_to_media_id("abc.def")
