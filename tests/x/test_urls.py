"""X URL recognition through the router (core/links.py): every form people paste resolves to
("post", tweet id) or ("profile", handle); reserved pages, malformed ids and look-alike hosts
are refused with one line; t.co links are share links to follow."""

from urllib.parse import urlsplit

import pytest

from core.config import Settings
from core.links import Router
from core.platforms import FollowRedirect, NotALink, registry
from x.urls import share_url

ROUTER = Router(registry(Settings()))

POSTS = [
    ("https://x.com/jack/status/20", "20"),
    ("https://twitter.com/jack/status/20", "20"),
    ("https://www.twitter.com/jack/status/20/", "20"),
    ("https://www.x.com/jack/statuses/20", "20"),
    ("https://mobile.twitter.com/jack/status/20", "20"),
    ("https://mobile.x.com/jack/status/20", "20"),
    ("https://m.twitter.com/jack/status/20", "20"),
    ("https://x.com/i/web/status/1848831595014459513", "1848831595014459513"),
    ("https://x.com/i/status/1848831595014459513", "1848831595014459513"),
    ("https://x.com/SpaceX/status/1848831595014459513/photo/1", "1848831595014459513"),
    ("https://x.com/SpaceX/status/1848831595014459513/video/1", "1848831595014459513"),
    ("https://x.com/SpaceX/status/1848831595014459513/analytics", "1848831595014459513"),
    ("https://x.com/SpaceX/status/1848831595014459513?s=20&t=abcDEF123", "1848831595014459513"),
    ("https://twitter.com/SpaceX/status/1848831595014459513#m", "1848831595014459513"),
    ("https://fxtwitter.com/SpaceX/status/1848831595014459513", "1848831595014459513"),
    ("https://d.fxtwitter.com/SpaceX/status/1848831595014459513", "1848831595014459513"),
    ("https://vxtwitter.com/SpaceX/status/1848831595014459513", "1848831595014459513"),
    ("https://fixupx.com/SpaceX/status/1848831595014459513", "1848831595014459513"),
    ("https://fixvx.com/SpaceX/status/1848831595014459513", "1848831595014459513"),
    ("x.com/jack/status/20", "20"),
    ("HTTPS://X.COM/jack/status/20", "20"),
]

PROFILES = [
    ("https://x.com/SpaceX", "spacex"),
    ("https://twitter.com/jack/", "jack"),
    ("https://x.com/jack?lang=en", "jack"),
    ("https://mobile.twitter.com/XDevelopers/media", "xdevelopers"),
    ("https://x.com/XDevelopers/with_replies", "xdevelopers"),
    ("https://x.com/a_b_c_d_e_f_g_h", "a_b_c_d_e_f_g_h"),
    ("https://x.com/@jack", "jack"),
]

REFUSED = [
    ("https://x.com/", "homepage"),
    ("https://x.com/home", "home timeline"),
    ("https://x.com/explore", "Explore"),
    ("https://x.com/search?q=beat", "search"),
    ("https://x.com/settings/account", "/settings"),
    ("https://x.com/notifications", "/notifications"),
    ("https://x.com/messages", "direct messages"),
    ("https://x.com/compose/post", "/compose"),
    ("https://x.com/login", "/login"),
    ("https://x.com/tos", "terms"),
    ("https://x.com/privacy", "privacy"),
    ("https://x.com/i/bookmarks", "/i/ pages"),
    ("https://x.com/i/lists/123", "/i/ pages"),
    ("https://x.com/hashtag/beat", "hashtag"),
    ("https://x.com/jack/status/abc", "not a tweet id"),
    ("https://x.com/jack/status/99999999999999999999", "not a tweet id"),
    ("https://x.com/jack/status/20/retweets/with_comments/x", "unrecognised post page"),
    ("https://x.com/this_handle_is_too_long", "not a valid X handle"),
    ("https://x.com/bad-handle", "not a valid X handle"),
    ("https://x.com/jack/lists", "unrecognised profile page"),
    ("https://t.co/", "t.co link"),
    ("https://t.co/abc/def", "t.co link"),
]

LOOK_ALIKES = ["https://x.com.evil.example/jack/status/20", "https://twitter.co/jack/status/20",
               "https://xcom.example/jack", "https://nottwitter.com/jack/status/20",
               "https://x.co/jack/status/20"]


@pytest.mark.parametrize(("url", "tweet_id"), POSTS)
def test_every_tweet_form_resolves_to_its_id(url: str, tweet_id: str) -> None:
    link = ROUTER.resolve(url)
    assert (link.platform, link.kind, link.id) == ("x", "post", tweet_id)


@pytest.mark.parametrize(("url", "handle"), PROFILES)
def test_profiles_resolve_to_their_handle(url: str, handle: str) -> None:
    link = ROUTER.resolve(url)
    assert (link.platform, link.kind, link.id) == ("x", "profile", handle)


@pytest.mark.parametrize(("url", "reason"), REFUSED)
def test_reserved_pages_and_malformed_ids_are_refused_with_a_reason(url: str,
                                                                    reason: str) -> None:
    with pytest.raises(NotALink, match=reason) as caught:
        ROUTER.resolve(url)
    assert not isinstance(caught.value, FollowRedirect)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("url", LOOK_ALIKES)
def test_look_alike_hosts_are_not_x(url: str) -> None:
    with pytest.raises(NotALink, match="unsupported platform"):
        ROUTER.resolve(url)


def test_a_tco_link_is_a_share_link_to_follow() -> None:
    with pytest.raises(FollowRedirect) as caught:
        ROUTER.resolve("https://t.co/AbC123xyz?amp=1")
    assert caught.value.url == "https://t.co/AbC123xyz"
    assert caught.value.platform == "x"


def test_offline_lines_say_a_tco_link_needs_resolution() -> None:
    [line] = list(ROUTER.lines(["https://t.co/AbC123xyz"]))
    assert line["platform"] == "x" and "needs resolution" in line["error"]


def test_share_url_asks_the_sandbox_in_sandbox_mode() -> None:
    url = "https://t.co/AbC123xyz"
    assert share_url(Settings(), url) == url
    sandboxed = Settings(sandbox_url="http://127.0.0.1:9/")
    assert share_url(sandboxed, url) == "http://127.0.0.1:9/x/tco/AbC123xyz"


def test_hosts_are_exact() -> None:
    from x.urls import HOSTS

    assert "t.co" in HOSTS and "x.com" in HOSTS
    assert all(urlsplit(f"https://{h}/").hostname == h for h in HOSTS)
