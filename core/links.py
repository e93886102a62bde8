"""One URL router: any pasted URL -> (platform, kind, id) through each platform's resolver, or a
one-line reason. What is common to every platform is checked here (spaces, schemes, ports, a
user name before the host); which host serves which platform, and what its paths mean, is each
platform's (`Platform.hosts`, `Platform.resolve`).

Look-alike hosts (youtube.com.evil.example), reserved paths and malformed ids are errors, never
guesses: a host no platform serves answers "unsupported platform".

Share and short links (a platform's resolver raises FollowRedirect) are followed by
`Router.resolve_following`: at most MAX_REDIRECTS requests through the shared HTTP client, each
reading only the status and Location (no body, no automatic redirects), the landing URL resolved
by the router again. In sandbox mode the platform's `share_url` sends the request to the sandbox.
"""

import asyncio
import re
from collections import deque
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urljoin, urlsplit

import httpx

from core import http
from core.config import Settings
from core.platforms import LINK_KINDS, FollowRedirect, NotALink, Platform

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:(?!\d)")  # "x:" but not "host:443"
MAX_REDIRECTS = 5
FOLLOW_CONCURRENCY = 8  # links followed at once by `lines_following`
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True, slots=True)
class Link:
    """What a URL points at: `id` is the platform's own identifier as the URL carries it."""

    url: str
    platform: str
    kind: str
    id: str

    def line(self) -> dict[str, Any]:
        return {"url": self.url, "platform": self.platform, "kind": self.kind, "id": self.id}


def split_url(text: str) -> SplitResult:
    """`text` as an http(s) URL (a missing scheme reads as https); NotALink when it cannot be
    one: empty, spaces or invisible characters, another scheme, an unusual port, a user name or
    password before the host, no host."""
    text = text.strip()
    if not text:
        raise NotALink("empty input")
    if any(c.isspace() or c == "\\" or not c.isprintable() for c in text):
        raise NotALink("URL contains spaces, backslashes or invisible characters")
    if text.startswith("//"):
        text = "https:" + text
    elif not _SCHEME.match(text):
        text = "https://" + text
    try:
        url = urlsplit(text)
        port = url.port
    except ValueError as exc:
        raise NotALink(f"malformed URL: {exc}") from None
    if url.scheme not in ("http", "https"):
        raise NotALink(f"scheme {url.scheme!r} is not http or https")
    if port not in (None, 80, 443):
        raise NotALink(f"unexpected port {port}")
    if url.username is not None or url.password is not None:
        raise NotALink("URL carries a user name or password before the host")
    if not host_of(url):
        raise NotALink("URL has no host")
    return url


def host_of(url: SplitResult) -> str:
    """The host, lower-case, without a trailing dot."""
    return (url.hostname or "").rstrip(".")


class Router:
    """Resolves URLs with the platforms given (host -> platform, built once)."""

    def __init__(self, platforms: Mapping[str, Platform]) -> None:
        self.by_host: dict[str, Platform] = {}
        for platform in platforms.values():
            for host in platform.hosts:
                other = self.by_host.setdefault(host.lower(), platform)
                if other is not platform:
                    raise ValueError(f"host {host} is claimed by {other.name} and "
                                     f"{platform.name}")

    def resolve(self, text: str) -> Link:
        """The platform item `text` links to; NotALink with the reason when it links to none
        (FollowRedirect, a NotALink, for a share link: `resolve_following` follows it)."""
        if text.strip().startswith("@"):
            raise NotALink("a bare @handle names no platform; paste the profile's URL")
        url = split_url(text)
        platform = self._platform(url)
        assert platform.resolve is not None
        try:
            kind, item = platform.resolve(url)
        except FollowRedirect as share:
            share.platform = platform.name
            raise
        if kind not in LINK_KINDS:
            raise ValueError(f"{platform.name} resolved {text!r} to unknown kind {kind!r}")
        return Link(text.strip(), platform.name, kind, item)

    def _platform(self, url: SplitResult) -> Platform:
        host = host_of(url)
        platform = self.by_host.get(host)
        if platform is None or platform.resolve is None:
            raise NotALink(f"unsupported platform: no platform Beat knows serves {host}")
        return platform

    async def resolve_following(self, text: str, settings: Settings) -> Link:
        """`resolve`, following share links' redirects to the item they land on; NotALink with
        one line for a loop, more than MAX_REDIRECTS hops, an answer that is no redirect, or a
        landing URL the router refuses (another host included)."""
        current, asked = text, set[str]()
        while True:
            try:
                link = self.resolve(current)
            except FollowRedirect as share:
                if share.url in asked:
                    raise NotALink(f"redirect loop: the share link leads back to {share.url}"
                                   ) from None
                if len(asked) == MAX_REDIRECTS:
                    raise NotALink(f"more than {MAX_REDIRECTS} redirects from {text.strip()}"
                                   ) from None
                asked.add(share.url)
                current = await self._follow(share.url, settings)
                continue
            except NotALink as exc:
                if not asked:
                    raise
                raise NotALink(f"the share link leads to {current}: {exc}") from None
            return Link(text.strip(), link.platform, link.kind, link.id)

    async def _follow(self, share: str, settings: Settings) -> str:
        """The absolute URL the share link redirects to (relative to the link itself, also when
        the sandbox answers for it)."""
        platform = self._platform(split_url(share))
        if platform.share_url is not None:
            target = platform.share_url(settings, share)
        elif settings.sandbox_url:
            raise NotALink(f"{platform.name} share links cannot be followed in sandbox mode")
        else:
            target = share
        status, location = await fetch_location(target)
        if status not in REDIRECT_STATUSES or not location:
            raise NotALink(f"the share link answered HTTP {status}, not a redirect")
        return urljoin(share, location)

    async def lines_following(self, texts: Iterable[str], settings: Settings
                              ) -> AsyncIterator[dict[str, Any]]:
        """`lines`, following share links (`resolve_following`): up to FOLLOW_CONCURRENCY
        links in flight, the lines in the order of the inputs."""
        pending: deque[asyncio.Task[dict[str, Any]]] = deque()
        try:
            for text in texts:
                if text.strip():
                    pending.append(asyncio.create_task(self._line_following(text, settings)))
                if len(pending) >= FOLLOW_CONCURRENCY:
                    yield await pending.popleft()
            while pending:
                yield await pending.popleft()
        finally:
            for task in pending:
                task.cancel()

    async def _line_following(self, text: str, settings: Settings) -> dict[str, Any]:
        try:
            return (await self.resolve_following(text, settings)).line()
        except NotALink as exc:
            return {"url": text.strip(), "error": str(exc)}

    def lines(self, texts: Iterable[str]) -> Iterator[dict[str, Any]]:
        """One JSON-ready line per input (blank inputs skipped): the link, or its error. No
        redirect is followed: a share link's line names its platform and says it needs
        resolution."""
        for text in texts:
            if not text.strip():
                continue
            try:
                yield self.resolve(text).line()
            except FollowRedirect as share:
                yield {"url": text.strip(), "platform": share.platform,
                       "error": "needs resolution: a share link, known only by following its "
                                "redirect (run without --offline)"}
            except NotALink as exc:
                yield {"url": text.strip(), "error": str(exc)}


async def fetch_location(url: str) -> tuple[int, str | None]:
    """GET `url` without following redirects or reading the body: its status and Location
    header. A transport failure is a NotALink (the link could not be followed)."""
    try:
        async with http.client().stream("GET", url, follow_redirects=False) as response:
            return response.status_code, response.headers.get("location")
    except httpx.TimeoutException:
        raise NotALink(f"following the share link timed out ({urlsplit(url).hostname})"
                       ) from None
    except httpx.HTTPError as exc:
        raise NotALink(f"could not follow the share link: {type(exc).__name__}: {exc}"
                       .replace("\n", " ")) from None
