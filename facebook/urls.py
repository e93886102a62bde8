"""Recognise the Facebook URLs people paste (posts, videos, reels, watch links, pages, share links)
for the URL router (core/links.py).

The id is Facebook's own identifier as the URL carries it, in the form the Graph API reads:

    post     a pfbid id as it stands ("pfbid02…"); a numeric story with its page or user id
             (permalink.php / story.php ?story_fbid=S&id=P, /{P}/posts/S with a numeric P) as
             "{P}_{S}", the Graph API's post id; /{name}/posts/S with a page name: S alone
    video    the video's id (watch?v=, /{page}/videos/[slug/]{id}, video.php?v=, /reel/{id})
    profile  the page's user name in lower case, or its numeric id (profile.php?id=,
             /people/{name}/{id}, /p/{name}-{id})

Share links (/share/p|r|v/{code}, /share/{code}, fb.watch/{code}) name nothing until Facebook's
redirect is followed: `resolve` raises FollowRedirect and the router follows it (`share_url` says
where to ask: the sandbox in sandbox mode).
"""

import re
from collections.abc import Callable
from urllib.parse import SplitResult, parse_qs, unquote

from core.config import Settings
from core.platforms import FollowRedirect, NotALink

Segments = tuple[str, ...]
Query = dict[str, list[str]]
Link = tuple[str, str]
Route = Callable[[Segments, Query], Link]

NUMERIC_ID = re.compile(r"[0-9]{1,25}")
PFBID = re.compile(r"pfbid0[A-Za-z0-9]{20,80}")
# Page and user names: letters, digits and "." (Facebook's rule), "-" in older vanity names.
PAGE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-]{0,79}")
SHARE_CODE = re.compile(r"[A-Za-z0-9_-]{4,40}")
WATCH_HOST = "fb.watch"

# A page's tabs: the URL still shows the page.
_PAGE_TABS = frozenset({"about", "photos", "videos", "posts", "reels", "events", "community",
                        "reviews", "mentions", "followers", "live_videos", "photos_by",
                        "about_profile_transparency", "timeline"})
# First path segments that are Facebook's own pages, not page names (why each is no link).
_RESERVED = {
    "home.php": "the news feed is not one post, video or page",
    "login": "the login page is not a post, video or page",
    "login.php": "the login page is not a post, video or page",
    "logout.php": "the logout page is not a post, video or page",
    "recover": "account recovery is not a post, video or page",
    "checkpoint": "a security checkpoint is not a post, video or page",
    "reg": "sign-up is not a post, video or page",
    "r.php": "sign-up is not a post, video or page",
    "groups": "groups are not supported: Beat resolves posts, videos and pages",
    "events": "an event is not a post, video or page",
    "marketplace": "Marketplace listings are not a post, video or page",
    "gaming": "the gaming feed is not one post, video or page",
    "messages": "messages are private, not a post, video or page",
    "notifications": "notifications are private, not a post, video or page",
    "friends": "the friends list is not a post, video or page",
    "settings": "settings are not a post, video or page",
    "search": "a search lists results, it is not one post, video or page",
    "hashtag": "a hashtag page lists posts, it is not one post",
    "stories": "stories are not supported: Beat resolves posts, videos and pages",
    "bookmarks": "bookmarks are private, not a post, video or page",
    "saved": "saved items are private, not a post, video or page",
    "memories": "memories are private, not a post, video or page",
    "help": "/help is Facebook's own page, not a post, video or page",
    "privacy": "/privacy is Facebook's own page, not a post, video or page",
    "policies": "/policies is Facebook's own page, not a post, video or page",
    "policy.php": "/policy.php is Facebook's own page, not a post, video or page",
    "legal": "/legal is Facebook's own page, not a post, video or page",
    "terms": "/terms is Facebook's own page, not a post, video or page",
    "ads": "/ads pages are not a post, video or page",
    "business": "/business is Facebook's own site, not a post, video or page",
    "fundraisers": "a fundraiser is not a post, video or page",
    "jobs": "job listings are not a post, video or page",
    "news": "the news tab is not one post, video or page",
    "places": "a places page is not one post, video or page",
    "directory": "the directory lists pages, it is not one page",
    "l.php": "an outbound link wrapper points outside Facebook",
    "sharer": "the share dialog is not a post, video or page",
    "sharer.php": "the share dialog is not a post, video or page",
    "dialog": "a dialog is not a post, video or page",
    "plugins": "an embed plugin URL is not a post, video or page; paste the post's own link",
    "media": "a media set is not one post, video or page",
    "live": "the live feed is not one video; paste the video's own link",
    "reels": "the Reels feed is not one reel; paste a reel's own link",
}


class NotFacebookUrl(NotALink):
    """The text is not a URL of one Facebook post, video or page; str() gives the reason."""


def resolve(url: SplitResult) -> Link:
    """The URL router's view (core/links.py) of a URL on a Facebook host: ("post", id),
    ("video", id) or ("profile", page); FollowRedirect for a share or fb.watch link."""
    segments = tuple(unquote(part) for part in url.path.split("/") if part)
    query = parse_qs(url.query)
    if (url.hostname or "").rstrip(".").removeprefix("www.") == WATCH_HOST:
        return _fb_watch(url, segments)
    if not segments:
        raise NotFacebookUrl("the Facebook homepage is not a post, video or page")
    head, rest = segments[0].lower(), segments[1:]
    if head == "share":
        _share(rest)
        raise FollowRedirect(url._replace(fragment="").geturl())
    route = _ROUTES.get(head)
    if route is not None:
        return route(rest, query)
    if head in _RESERVED:
        raise NotFacebookUrl(_RESERVED[head])
    return _page(segments[0], rest, query)


def share_url(settings: Settings, url: str) -> str:
    """Where to ask for a share link's redirect: the link itself, or under SANDBOX_URL in
    sandbox mode ({SANDBOX_URL}/facebook/www/share/p/X/ for …facebook.com/share/p/X/,
    {SANDBOX_URL}/facebook/fbwatch/X for fb.watch/X)."""
    if not settings.sandbox_url:
        return url
    host, _, path = url.split("://", 1)[-1].partition("/")
    base = settings.sandbox_url.rstrip("/")
    if host.lower().rstrip(".").removeprefix("www.") == WATCH_HOST:
        return f"{base}/facebook/fbwatch/{path}"
    return f"{base}/facebook/www/{path}"


def _fb_watch(url: SplitResult, segments: Segments) -> Link:
    if len(segments) != 1 or not SHARE_CODE.fullmatch(segments[0]):
        raise NotFacebookUrl("an fb.watch link is fb.watch/{code}/")
    raise FollowRedirect(url._replace(fragment="").geturl())


def _share(rest: Segments) -> None:
    """/share/{code}/ and /share/p|r|v/{code}/: checked before any request."""
    if rest[:1] in (("p",), ("r",), ("v",)):
        rest = rest[1:]
    if len(rest) != 1 or not SHARE_CODE.fullmatch(rest[0]):
        raise NotFacebookUrl("a share link is /share/[p/|r/|v/]{code}/")


def _one(query: Query, name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _story(rest: Segments, query: Query) -> Link:
    """permalink.php / story.php ?story_fbid=S&id=P: the post "{P}_{S}" (pfbid: itself)."""
    story, owner = _one(query, "story_fbid"), _one(query, "id")
    if not story:
        raise NotFacebookUrl("a permalink.php or story.php link needs story_fbid=")
    if PFBID.fullmatch(story):
        return "post", story
    if not NUMERIC_ID.fullmatch(story):
        raise NotFacebookUrl(f"{story!r} is not a post id (digits or pfbid…)")
    if owner is None:
        return "post", story
    if not NUMERIC_ID.fullmatch(owner):
        raise NotFacebookUrl(f"{owner!r} is not a page or user id (digits)")
    return "post", f"{owner}_{story}"


def _watch(rest: Segments, query: Query) -> Link:
    """/watch?v=, /watch/?v=, /watch/live/?v=; /watch alone is the Watch feed."""
    video = _one(query, "v")
    if rest not in ((), ("live",)) or not video:
        raise NotFacebookUrl("the Watch feed is not one video; a watch link is /watch/?v={id}")
    return "video", _numeric(video, "video id")


def _video_php(rest: Segments, query: Query) -> Link:
    video = _one(query, "v")
    if not video or rest:
        raise NotFacebookUrl("a video.php link needs v={video id}")
    return "video", _numeric(video, "video id")


def _reel(rest: Segments, query: Query) -> Link:
    if len(rest) != 1:
        raise NotFacebookUrl("a reel link is /reel/{id}")
    return "video", _numeric(rest[0], "reel id")


def _photo(rest: Segments, query: Query) -> Link:
    """photo.php?fbid= and /photo/?fbid=: a photo post."""
    fbid = _one(query, "fbid")
    if not fbid or rest:
        raise NotFacebookUrl("a photo link needs fbid={photo id}")
    return "post", _numeric(fbid, "photo id")


def _profile_php(rest: Segments, query: Query) -> Link:
    owner = _one(query, "id")
    if not owner or rest:
        raise NotFacebookUrl("a profile.php link needs id={numeric id}")
    return "profile", _numeric(owner, "profile id")


def _named_id(rest: Segments, query: Query) -> Link:
    """/people/{name}/{id}/ and /pages/{name}/{id}/: the numeric id names the page."""
    if len(rest) != 2:
        raise NotFacebookUrl("a /people/ or /pages/ link is /{name}/{numeric id}")
    return "profile", _numeric(rest[1], "page id")


def _p_page(rest: Segments, query: Query) -> Link:
    """/p/{Name}-{id}/: pages without a user name, their id after the last "-"."""
    found = re.fullmatch(r".*?-?([0-9]{5,25})", rest[0]) if len(rest) == 1 else None
    if found is None:
        raise NotFacebookUrl("a /p/ link is /p/{name}-{numeric id}/")
    return "profile", found.group(1)


def _page(name: str, rest: Segments, query: Query) -> Link:
    """/{page}, its tabs, and its posts and videos."""
    page = _page_name(name)
    if not rest or (len(rest) == 1 and rest[0].lower() in _PAGE_TABS):
        return "profile", page
    tab, tail = rest[0].lower(), rest[1:]
    if tab == "posts" and len(tail) == 1:
        return "post", _post_id(page, tail[0])
    if tab == "videos" and len(tail) in (1, 2):
        return "video", _numeric(tail[-1], "video id")
    if tab in ("photos", "reels") and tail and NUMERIC_ID.fullmatch(tail[-1]):
        return ("post" if tab == "photos" else "video"), tail[-1]
    raise NotFacebookUrl(f"unrecognised page link /{name}/{'/'.join(rest)}")


def _post_id(page: str, post: str) -> str:
    if PFBID.fullmatch(post):
        return post
    _numeric(post, "post id (digits or pfbid…)")
    return f"{page}_{post}" if page.isdigit() else post


def _numeric(value: str, what: str) -> str:
    if not NUMERIC_ID.fullmatch(value):
        raise NotFacebookUrl(f"{value!r} is not a Facebook {what}")
    return value


def _page_name(name: str) -> str:
    if not PAGE_NAME.fullmatch(name):
        raise NotFacebookUrl(f"{name!r} is not a Facebook page name (letters, digits, . and -)")
    return name.lower()


_ROUTES: dict[str, Route] = {
    "permalink.php": _story,
    "story.php": _story,
    "watch": _watch,
    "video.php": _video_php,
    "reel": _reel,
    "photo.php": _photo,
    "photo": _photo,
    "profile.php": _profile_php,
    "people": _named_id,
    "pages": _named_id,
    "p": _p_page,
}

HOSTS = frozenset({"facebook.com", "www.facebook.com", "m.facebook.com", "mbasic.facebook.com",
                   "web.facebook.com", "touch.facebook.com", "fb.com", "www.fb.com", "fb.watch",
                   "www.fb.watch"})
