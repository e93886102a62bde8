"""Recognise the Instagram URLs people paste (posts, reels, stories, profiles, hashtag pages, share
links) for the URL router (core/links.py), and convert between a post's shortcode and its media id.

A post link's id is always a shortcode. A story link is its own kind, "story", with the id
"{user}/{media id}": a story is found only among its account's live stories, so both are needed.
Share links (/share/…) name no post until Instagram's redirect is followed: `resolve` raises
FollowRedirect and the router follows it (`share_url` says where to ask, the sandbox in sandbox
mode).
"""

import re
from collections.abc import Callable
from urllib.parse import SplitResult, unquote

from core.config import Settings
from core.platforms import FollowRedirect, NotALink

Segments = tuple[str, ...]
Link = tuple[str, str]
Route = Callable[[str, Segments], Link]

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_DIGIT = {c: i for i, c in enumerate(ALPHABET)}
# 11 base64 digits hold a 64-bit media id; a private post's shortcode appends a key (≈40 long).
MEDIA_CODE_LENGTH = 11
SHORTCODE = re.compile(r"[A-Za-z0-9_-]{1,50}")
USERNAME = re.compile(r"(?!\.)(?!.*\.\.)[A-Za-z0-9._]{1,30}(?<!\.)")
MEDIA_ID = re.compile(r"[0-9]{1,20}")
HASHTAG = re.compile(r"\w{1,100}")
MAX_MEDIA_ID = 2**64 - 1

_POST_PAGES = frozenset({"p", "reel", "reels", "tv"})
# What may follow a post's shortcode and still show that post.
_POST_TAILS = frozenset({(), ("embed",), ("embed", "captioned"), ("media",), ("liked_by",)})
# A profile's tabs: the page still shows the profile.
_PROFILE_TABS = frozenset({"reels", "tagged", "guides", "feed", "channel", "followers",
                           "following"})
# First path segments that are Instagram's pages, not user names (why each is no link).
_RESERVED = {
    "explore": "the Explore page is not one post or profile",
    "accounts": "/accounts pages (login, settings) are not a post or profile",
    "direct": "direct messages are private, not a post or profile",
    "about": "/about is Instagram's own page, not a post or profile",
    "developer": "/developer is Instagram's own page, not a post or profile",
    "legal": "/legal is Instagram's own page, not a post or profile",
    "privacy": "/privacy is Instagram's own page, not a post or profile",
    "terms": "/terms is Instagram's own page, not a post or profile",
    "help": "/help is Instagram's own page, not a post or profile",
    "web": "/web is Instagram's own page, not a post or profile",
    "emails": "/emails pages are not a post or profile",
    "challenge": "/challenge pages are login checks, not a post or profile",
    "session": "/session pages are login pages, not a post or profile",
    "oauth": "/oauth pages are login pages, not a post or profile",
    "api": "/api is Instagram's API, not a post or profile",
    "graphql": "/graphql is Instagram's API, not a post or profile",
    "ajax": "/ajax is Instagram's API, not a post or profile",
    "static": "/static holds Instagram's files, not a post or profile",
    "create": "/create is the upload page, not a post or profile",
    "directory": "/directory lists accounts, it is not one post or profile",
    "locations": "a location page lists posts, it is not one post or profile",
    "topics": "a topic page lists posts, it is not one post or profile",
    "s": "a highlight share link (/s/…) names a highlight, not one post or profile",
    "your_activity": "/your_activity is private to its account, not a post or profile",
    "notifications": "/notifications is private to its account, not a post or profile",
}


class NotInstagramUrl(NotALink):
    """The text is not a URL of one Instagram post or profile; str() gives the reason."""


def resolve(url: SplitResult) -> Link:
    """The URL router's view (core/links.py) of a URL on an Instagram host: ("post",
    shortcode) or ("profile", user name in lower case); FollowRedirect for a share link."""
    segments = tuple(unquote(part) for part in url.path.split("/") if part)
    if _host(url) == "ig.me":
        return _ig_me(segments)
    if not segments:
        raise NotInstagramUrl("the Instagram homepage is not a post or profile")
    head, rest = segments[0].lower(), segments[1:]
    if head == "share":
        _share(rest)
        raise FollowRedirect(url._replace(fragment="").geturl())
    route = _PAGES.get(head)
    if route is not None:
        return route(head, rest)
    if head in _RESERVED:
        raise NotInstagramUrl(_RESERVED[head])
    return _user_page(segments[0], rest)


def share_url(settings: Settings, url: str) -> str:
    """Where to ask for a share link's redirect: the link itself, or under SANDBOX_URL
    ({SANDBOX_URL}/instagram-web/share/p/X/ for …instagram.com/share/p/X/) in sandbox mode."""
    if not settings.sandbox_url:
        return url
    path = url.split("://", 1)[-1].partition("/")[2]
    return f"{settings.sandbox_url.rstrip('/')}/instagram-web/{path}"


def shortcode_to_media_id(shortcode: str) -> int:
    """The media id a shortcode encodes: its first 11 characters read as base 64 in
    Instagram's alphabet (A=0 … _=63); a private post's longer code adds a key after them."""
    if not SHORTCODE.fullmatch(shortcode):
        raise ValueError(f"{shortcode!r} is not an Instagram shortcode")
    media_id = 0
    for character in shortcode[:MEDIA_CODE_LENGTH]:
        media_id = media_id * 64 + _DIGIT[character]
    if media_id > MAX_MEDIA_ID:
        raise ValueError(f"{shortcode!r} encodes a number beyond 64 bits")
    return media_id


def media_id_to_shortcode(media_id: int | str) -> str:
    """The shortcode of a media id (an int, or a string such as the web's "{pk}_{user id}")."""
    text = str(media_id).partition("_")[0]
    if not MEDIA_ID.fullmatch(text) or int(text) > MAX_MEDIA_ID:
        raise ValueError(f"{media_id!r} is not an Instagram media id (0 to 2**64 - 1)")
    number, digits = int(text), []
    while True:
        number, digit = divmod(number, 64)
        digits.append(ALPHABET[digit])
        if not number:
            return "".join(reversed(digits))


def _host(url: SplitResult) -> str:
    return (url.hostname or "").rstrip(".").removeprefix("www.")


def _post(page: str, rest: Segments) -> Link:
    if not rest:
        if page == "reels":
            raise NotInstagramUrl("the Reels feed is not one post; paste a reel's own link")
        raise NotInstagramUrl(f"/{page}/ must be followed by a post's shortcode")
    if page == "reels" and rest[0] == "audio":
        raise NotInstagramUrl("a Reels audio page lists reels, it is not one post")
    code, tail = rest[0], rest[1:]
    if not _is_post_tail(tail):
        raise NotInstagramUrl(f"unrecognised post page /{page}/{code}/{'/'.join(tail)}")
    return "post", _shortcode(code)


def _is_post_tail(tail: Segments) -> bool:
    """A post page or a comment on it: /c/{comment id}[/r/{reply id}]."""
    if tail in _POST_TAILS:
        return True
    return (len(tail) in (2, 4) and tail[0] == "c" and tail[1].isdigit()
            and (len(tail) == 2 or (tail[2] == "r" and tail[3].isdigit())))


def _stories(page: str, rest: Segments) -> Link:
    if rest[:1] == ("highlights",):
        raise NotInstagramUrl("a story highlight is a collection, not one post")
    if len(rest) < 2:
        raise NotInstagramUrl("a user's current stories are not one post; paste one story's "
                              "link (/stories/{user}/{story id}/)")
    if len(rest) > 2:
        raise NotInstagramUrl(f"unrecognised story page /stories/{'/'.join(rest)}")
    user = _username(rest[0])
    if not MEDIA_ID.fullmatch(rest[1]) or int(rest[1]) > MAX_MEDIA_ID:
        raise NotInstagramUrl(f"{rest[1]!r} is not a story id (a media id, digits)")
    return "story", f"{user}/{int(rest[1])}"


def _explore(page: str, rest: Segments) -> Link:
    """/explore/tags/{tag}/: the hashtag (lower case, no #), which a watchlist can keep."""
    if rest[:1] == ("tags",):
        if len(rest) != 2 or not HASHTAG.fullmatch(rest[1].lstrip("#")):
            raise NotInstagramUrl("a hashtag page is /explore/tags/{hashtag}/ (letters, "
                                  "digits and _)")
        return "hashtag", rest[1].lstrip("#").lower()
    raise NotInstagramUrl(_RESERVED["explore"])


def _app_profile(page: str, rest: Segments) -> Link:
    """instagram.com/_u/{user}: the app's deep link to a profile."""
    if len(rest) != 1:
        raise NotInstagramUrl("/_u/ must be followed by exactly one user name")
    return "profile", _username(rest[0])


def _user_page(name: str, rest: Segments) -> Link:
    username = _username(name)
    if not rest or (len(rest) == 1 and rest[0] in _PROFILE_TABS):
        return "profile", username
    if rest[0] in ("p", "reel", "tv"):  # /{user}/p/{shortcode}/, as Instagram now shows
        return _post(rest[0], rest[1:])
    raise NotInstagramUrl(f"unrecognised profile page /{name}/{'/'.join(rest)}")


def _ig_me(segments: Segments) -> Link:
    """ig.me/m/{user}: a link that opens a conversation with the account."""
    if len(segments) != 2 or segments[0] != "m":
        raise NotInstagramUrl("ig.me: only /m/{user name} links are supported")
    return "profile", _username(segments[1])


def _share(rest: Segments) -> None:
    """/share/{code}/, /share/p/{code}/, /share/reel/{code}/: checked before any request."""
    if rest[:1] in (("p",), ("reel",)):
        rest = rest[1:]
    if len(rest) != 1:
        raise NotInstagramUrl("a share link is /share/[p/|reel/]{code}/")
    _shortcode(rest[0], "share code")


def _shortcode(code: str, what: str = "shortcode") -> str:
    if not SHORTCODE.fullmatch(code):
        raise NotInstagramUrl(f"{code!r} is not a valid Instagram {what} "
                              "(1-50 of A-Z a-z 0-9 _ -)")
    return code


def _username(name: str) -> str:
    if not USERNAME.fullmatch(name):
        raise NotInstagramUrl(f"{name!r} is not a valid Instagram user name (1-30 letters, "
                              "digits, _ and ., no leading, trailing or double .)")
    return name.lower()


_PAGES: dict[str, Route] = {
    **{page: _post for page in _POST_PAGES},
    "stories": _stories,
    "explore": _explore,
    "_u": _app_profile,
}

HOSTS = frozenset({"instagram.com", "www.instagram.com", "m.instagram.com", "instagr.am",
                   "www.instagr.am", "ig.me"})
