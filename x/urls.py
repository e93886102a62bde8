"""Recognise the X (Twitter) URLs people paste for the URL router (core/links.py): tweets on
x.com, twitter.com, their mobile hosts and the embed-fixing mirrors (fxtwitter, vxtwitter,
fixupx, fixvx), and profiles by handle.

A tweet link's id is the tweet's numeric id (the handle before /status/ is not checked by X
either: /anyone/status/20 shows tweet 20); a profile link's id is the handle in lower case.
t.co short links name nothing until X's redirect is followed: `resolve` raises FollowRedirect
and the router follows it (`share_url` says where to ask, the sandbox in sandbox mode).
"""

import re
from urllib.parse import SplitResult, unquote

from core.config import Settings
from core.platforms import FollowRedirect, NotALink

Segments = tuple[str, ...]
Link = tuple[str, str]

# X's handle rule: 1-15 letters, digits and underscores.
HANDLE = re.compile(r"[A-Za-z0-9_]{1,15}")
# Tweet ids are 64-bit snowflakes (the first tweets were small numbers: /jack/status/20).
TWEET_ID = re.compile(r"[0-9]{1,20}")
MAX_TWEET_ID = 2**63 - 1
TCO_CODE = re.compile(r"[A-Za-z0-9]{1,20}")

# What may follow /status/{id} and still show that tweet.
_STATUS_TAILS = frozenset({(), ("photo",), ("video",), ("analytics",), ("quotes",),
                           ("retweets",), ("likes",), ("history",)})
_MEDIA_TAILS = frozenset({"photo", "video"})
# A profile's tabs: the page still shows the profile.
_PROFILE_TABS = frozenset({"with_replies", "media", "likes", "highlights", "articles",
                           "followers", "following", "verified_followers", "superfollows"})
# First path segments that are X's own pages, not handles (why each is no link).
_RESERVED = {
    "home": "the home timeline is not one post or profile",
    "explore": "the Explore page is not one post or profile",
    "search": "a search page lists posts, it is not one post or profile",
    "hashtag": "a hashtag page lists posts, it is not one post or profile",
    "notifications": "/notifications is private to its account, not a post or profile",
    "messages": "direct messages are private, not a post or profile",
    "compose": "/compose is the posting page, not a post or profile",
    "settings": "/settings is private to its account, not a post or profile",
    "login": "/login is the sign-in page, not a post or profile",
    "logout": "/logout is not a post or profile",
    "signup": "/signup is the sign-up page, not a post or profile",
    "tos": "/tos is X's terms of service, not a post or profile",
    "privacy": "/privacy is X's privacy policy, not a post or profile",
    "about": "/about is X's own page, not a post or profile",
    "jobs": "/jobs is X's own page, not a post or profile",
    "download": "/download is X's own page, not a post or profile",
    "share": "/share is the sharing dialog, not a post or profile",
    "intent": "an /intent link opens a dialog (post, like, follow), not a post or profile",
    "bookmarks": "/bookmarks is private to its account, not a post or profile",
    "lists": "/lists is private to its account, not a post or profile",
    "communities": "a community lists posts, it is not one post or profile",
    "account": "/account pages (login, settings) are not a post or profile",
    "oauth": "/oauth pages are login pages, not a post or profile",
    "tweet": "/tweet is not a post or profile",
    "search-advanced": "a search page lists posts, it is not one post or profile",
    "trends": "/trends lists topics, it is not one post or profile",
    "premium": "/premium is X's own page, not a post or profile",
}


class NotXUrl(NotALink):
    """The text is not a URL of one X post or profile; str() gives the reason."""


def resolve(url: SplitResult) -> Link:
    """The URL router's view (core/links.py) of a URL on an X host: ("post", tweet id) or
    ("profile", handle in lower case); FollowRedirect for a t.co short link."""
    segments = tuple(unquote(part) for part in url.path.split("/") if part)
    if _host(url) == "t.co":
        return _tco(url, segments)
    if not segments:
        raise NotXUrl("the X homepage is not a post or profile")
    head, rest = segments[0].lower(), segments[1:]
    if head == "i":
        return _i_page(rest)
    if head in _RESERVED:
        raise NotXUrl(_RESERVED[head])
    return _user_page(segments[0], rest)


def share_url(settings: Settings, url: str) -> str:
    """Where to ask for a t.co link's redirect: the link itself, or under SANDBOX_URL
    ({SANDBOX_URL}/x/tco/{code} for https://t.co/{code}) in sandbox mode."""
    if not settings.sandbox_url:
        return url
    code = url.split("://", 1)[-1].partition("/")[2].partition("?")[0].strip("/")
    return f"{settings.sandbox_url.rstrip('/')}/x/tco/{code}"


def _host(url: SplitResult) -> str:
    return (url.hostname or "").rstrip(".").lower()


def _tco(url: SplitResult, segments: Segments) -> Link:
    if len(segments) != 1 or not TCO_CODE.fullmatch(segments[0]):
        raise NotXUrl("a t.co link is https://t.co/{code} (letters and digits)")
    raise FollowRedirect(url._replace(query="", fragment="").geturl())


def _i_page(rest: Segments) -> Link:
    """/i/web/status/{id} and /i/status/{id}: tweets without their author's handle."""
    if rest[:2] == ("web", "status") and len(rest) >= 3:
        return _status(rest[2], rest[3:])
    if rest[:1] == ("status",) and len(rest) >= 2:
        return _status(rest[1], rest[2:])
    raise NotXUrl("/i/ pages are X's own (lists, spaces, settings), not a post or profile; "
                  "only /i/web/status/{id} and /i/status/{id} name a post")


def _user_page(name: str, rest: Segments) -> Link:
    handle = _handle(name)
    if not rest or (len(rest) == 1 and rest[0].lower() in _PROFILE_TABS):
        return "profile", handle
    if rest[0].lower() in ("status", "statuses") and len(rest) >= 2:
        return _status(rest[1], rest[2:])
    raise NotXUrl(f"unrecognised profile page /{name}/{'/'.join(rest)}")


def _status(tweet_id: str, tail: Segments) -> Link:
    if not TWEET_ID.fullmatch(tweet_id) or int(tweet_id) > MAX_TWEET_ID:
        raise NotXUrl(f"{tweet_id!r} is not a tweet id (digits)")
    if not _is_status_tail(tail):
        raise NotXUrl(f"unrecognised post page /status/{tweet_id}/{'/'.join(tail)}")
    return "post", str(int(tweet_id))


def _is_status_tail(tail: Segments) -> bool:
    """/photo/{n} and /video/{n} (a tweet's media), /analytics and the tweet's listings."""
    if len(tail) == 2 and tail[0] in _MEDIA_TAILS:
        return tail[1].isdigit()
    return tail in _STATUS_TAILS


def _handle(name: str) -> str:
    name = name.removeprefix("@")
    if not HANDLE.fullmatch(name):
        raise NotXUrl(f"{name!r} is not a valid X handle (1-15 letters, digits and _)")
    return name.lower()


# x.com and twitter.com with their mobile hosts, the mirrors that fix embeds (they serve the
# same paths as x.com; d. serves the media directly), and the t.co link shortener.
HOSTS = frozenset({
    "x.com", "www.x.com", "mobile.x.com",
    "twitter.com", "www.twitter.com", "mobile.twitter.com", "m.twitter.com",
    "fxtwitter.com", "www.fxtwitter.com", "d.fxtwitter.com",
    "fixupx.com", "www.fixupx.com", "d.fixupx.com",
    "vxtwitter.com", "www.vxtwitter.com", "d.vxtwitter.com",
    "fixvx.com", "www.fixvx.com", "d.fixvx.com",
    "t.co",
})
