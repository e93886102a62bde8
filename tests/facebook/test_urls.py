"""Specification of Facebook URL recognition (facebook/urls.py): every form people paste, what is
refused and why, and share links left to the router to follow."""

from urllib.parse import urlsplit

import pytest

from core.config import Settings
from core.links import Router
from core.platforms import FollowRedirect, NotALink, Platform
from facebook.urls import HOSTS, resolve, share_url

ROUTER = Router({"facebook": Platform(name="facebook", hosts=HOSTS, resolve=resolve)})
PFBID = "pfbid02Zp5tUk7dPCFd5yGr9nRq8vSzN3uXq1C7w8hD9eYbLmfk2Rg6JtW4xVQ1sAoPn3Hl"

ACCEPTED = [
    # Posts: permalink.php and story.php name the story and its owner: the Graph API's id.
    ("https://www.facebook.com/permalink.php?story_fbid=424924701699721&id=175154750010052",
     "post", "175154750010052_424924701699721"),
    ("https://m.facebook.com/story.php?story_fbid=424924701699721&id=175154750010052&mibextid=Nif5oz",
     "post", "175154750010052_424924701699721"),
    (f"https://www.facebook.com/permalink.php?story_fbid={PFBID}&id=100064", "post", PFBID),
    ("https://www.facebook.com/story.php?story_fbid=424924701699721", "post",
     "424924701699721"),
    ("https://www.facebook.com/175154750010052/posts/424924701699721", "post",
     "175154750010052_424924701699721"),
    ("https://www.facebook.com/19292868552/posts/10158349356748553/", "post",
     "19292868552_10158349356748553"),
    ("https://www.facebook.com/FacebookforDevelopers/posts/10158349356748553", "post",
     "10158349356748553"),
    (f"https://www.facebook.com/FacebookforDevelopers/posts/{PFBID}/?__cft__[0]=AZX&__tn__=%2CO%2CP-R",
     "post", PFBID),
    (f"https://mbasic.facebook.com/nasa/posts/{PFBID}", "post", PFBID),
    (f"https://web.facebook.com/nasa/posts/{PFBID}?_rdc=1&_rdr", "post", PFBID),
    ("https://www.facebook.com/photo.php?fbid=10158349355013553&set=a.441861428552", "post",
     "10158349355013553"),
    ("https://www.facebook.com/photo/?fbid=10158349355013553", "post", "10158349355013553"),
    # Videos, reels and watch links.
    ("https://www.facebook.com/watch?v=1192957457884299", "video", "1192957457884299"),
    ("https://www.facebook.com/watch/?v=1192957457884299&ref=sharing", "video",
     "1192957457884299"),
    ("https://www.facebook.com/watch/live/?v=279003613911881", "video", "279003613911881"),
    ("https://www.facebook.com/FacebookforDevelopers/videos/1192957457884299/", "video",
     "1192957457884299"),
    ("https://www.facebook.com/FacebookforDevelopers/videos/icook-success-story/1192957457884299/",
     "video", "1192957457884299"),
    ("https://www.facebook.com/video.php?v=1192957457884299", "video", "1192957457884299"),
    ("https://www.facebook.com/reel/871234567890123", "video", "871234567890123"),
    ("https://m.facebook.com/reel/871234567890123/?mibextid=rS40aB7S9Ucbxw6v", "video",
     "871234567890123"),
    # Pages and profiles.
    ("https://www.facebook.com/FacebookforDevelopers", "profile", "facebookfordevelopers"),
    ("https://www.facebook.com/nasa/", "profile", "nasa"),
    ("facebook.com/nasa/about", "profile", "nasa"),
    ("https://m.facebook.com/nasa/?locale=fr_FR", "profile", "nasa"),
    ("https://www.facebook.com/Ninja-Van-Singapore", "profile", "ninja-van-singapore"),
    ("https://fb.com/nasa", "profile", "nasa"),
    ("https://www.facebook.com/profile.php?id=100064456197083", "profile", "100064456197083"),
    ("https://www.facebook.com/profile.php?id=100064456197083&sk=about", "profile",
     "100064456197083"),
    ("https://www.facebook.com/people/Jane-Doe/100064456197083/", "profile", "100064456197083"),
    ("https://www.facebook.com/pages/Some-Page/175154750010052", "profile", "175154750010052"),
    ("https://www.facebook.com/p/Jane-Doe-100064456197083/", "profile", "100064456197083"),
    ("HTTPS://WWW.FACEBOOK.COM/nasa", "profile", "nasa"),
]

REFUSED = [
    ("https://www.facebook.com/", "homepage"),
    ("https://www.facebook.com/home.php", "news feed"),
    ("https://www.facebook.com/login/", "login"),
    ("https://www.facebook.com/groups/123456/", "groups"),
    ("https://www.facebook.com/groups/123456/posts/789/", "groups"),
    ("https://www.facebook.com/events/123456/", "event"),
    ("https://www.facebook.com/marketplace/item/123/", "Marketplace"),
    ("https://www.facebook.com/watch/", "Watch feed"),
    ("https://www.facebook.com/watch?x=1", "Watch feed"),
    ("https://www.facebook.com/watch/?v=abc", "video id"),
    ("https://www.facebook.com/reel/", "reel link"),
    ("https://www.facebook.com/reels/", "Reels feed"),
    ("https://www.facebook.com/permalink.php?id=175154750010052", "story_fbid"),
    ("https://www.facebook.com/story.php?story_fbid=xyz&id=1", "post id"),
    ("https://www.facebook.com/profile.php", "id="),
    ("https://www.facebook.com/nasa/posts/1/2", "unrecognised"),
    ("https://www.facebook.com/nasa/posts/notanid", "post id"),
    ("https://www.facebook.com/nasa/videos/abc", "video id"),
    ("https://www.facebook.com/sharer/sharer.php?u=x", "share dialog"),
    ("https://www.facebook.com/l.php?u=https%3A%2F%2Fexample.com", "outbound"),
    ("https://www.facebook.com/hashtag/summer", "hashtag"),
    ("https://www.facebook.com/share/", "share link is"),
    ("https://fb.watch/", "fb.watch link is"),
    ("https://www.facebook.com/_bad_name", "page name"),
]


@pytest.mark.parametrize(("url", "kind", "ident"), ACCEPTED)
def test_every_pasted_form_resolves(url: str, kind: str, ident: str) -> None:
    link = ROUTER.resolve(url)
    assert (link.platform, link.kind, link.id) == ("facebook", kind, ident)


@pytest.mark.parametrize(("url", "reason"), REFUSED)
def test_reserved_paths_and_malformed_ids_are_refused_with_a_reason(url: str,
                                                                    reason: str) -> None:
    with pytest.raises(NotALink, match=reason) as caught:
        ROUTER.resolve(url)
    assert "\n" not in str(caught.value)
    assert not isinstance(caught.value, FollowRedirect)


@pytest.mark.parametrize("url", ["https://facebook.com.evil.example/nasa",
                                 "https://facebook.co/nasa", "https://faceboook.com/nasa",
                                 "https://fb.watch.example/abc"])
def test_look_alike_hosts_are_no_facebook_links(url: str) -> None:
    with pytest.raises(NotALink, match="unsupported platform"):
        ROUTER.resolve(url)


@pytest.mark.parametrize("url", [
    "https://www.facebook.com/share/p/1AbCdEfGhI/",
    "https://www.facebook.com/share/r/1AbCdEfGhI/?mibextid=abc",
    "https://www.facebook.com/share/v/1AbCdEfGhI/",
    "https://m.facebook.com/share/1AbCdEfGhI/",
    "https://fb.watch/nGx1r2s3T4/",
])
def test_share_and_fb_watch_links_are_followed_not_guessed(url: str) -> None:
    with pytest.raises(FollowRedirect) as caught:
        resolve(urlsplit(url))
    assert caught.value.url.startswith("https://")


def test_share_links_go_to_the_sandbox_in_sandbox_mode() -> None:
    sandbox = Settings(sandbox_url="http://127.0.0.1:9/")
    assert share_url(sandbox, "https://www.facebook.com/share/p/1AbC/") == \
        "http://127.0.0.1:9/facebook/www/share/p/1AbC/"
    assert share_url(sandbox, "https://fb.watch/nGx1r2s3T4/") == \
        "http://127.0.0.1:9/facebook/fbwatch/nGx1r2s3T4/"
    assert share_url(Settings(), "https://fb.watch/x1/") == "https://fb.watch/x1/"
