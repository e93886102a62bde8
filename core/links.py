"""One URL router: any pasted URL -> (platform, kind, id) through each platform's resolver, or a
one-line reason. What is common to every platform is checked here (spaces, schemes, ports, a
user name before the host); which host serves which platform, and what its paths mean, is each
platform's (`Platform.hosts`, `Platform.resolve`).

Look-alike hosts (youtube.com.evil.example), reserved paths and malformed ids are errors, never
guesses: a host no platform serves answers "unsupported platform".
"""

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit

from core.platforms import LINK_KINDS, NotALink, Platform

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:(?!\d)")  # "x:" but not "host:443"


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
        """The platform item `text` links to; NotALink with the reason when it links to none."""
        if text.strip().startswith("@"):
            raise NotALink("a bare @handle names no platform; paste the profile's URL")
        url = split_url(text)
        host = host_of(url)
        platform = self.by_host.get(host)
        if platform is None or platform.resolve is None:
            raise NotALink(f"unsupported platform: no platform Beat knows serves {host}")
        kind, item = platform.resolve(url)
        if kind not in LINK_KINDS:
            raise ValueError(f"{platform.name} resolved {text!r} to unknown kind {kind!r}")
        return Link(text.strip(), platform.name, kind, item)

    def lines(self, texts: Iterable[str]) -> Iterator[dict[str, Any]]:
        """One JSON-ready line per input (blank inputs skipped): the link, or its error."""
        for text in texts:
            if not text.strip():
                continue
            try:
                yield self.resolve(text).line()
            except NotALink as exc:
                yield {"url": text.strip(), "error": str(exc)}
