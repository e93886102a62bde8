"""Downloading one image safely: every hop through the SSRF guard (redirects are followed here,
one at a time, each new URL checked again), a connection to the checked address only, a body
read as a stream and cut at the size cap, a deadline for the whole download, and the first
bytes checked against the image formats Beat decodes before the rest is read. A page (HTML) is
read for its og:image, which is then downloaded the same way.

Errors: `Refused` (the URL, an address, the size or the content is not acceptable: permanent),
`NotFound` (404/410), `SourceUnavailable` (network failures, 5xx, 429: retried)."""

import asyncio
import ssl
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin

import httpx

from assets.guard import Guard, Refused, Target
from core.errors import NotFound, SourceUnavailable

REDIRECTS = (301, 302, 303, 307, 308)
HTML_CAP = 2 * 1024 * 1024  # a page is read only this far looking for its og:image
MAGIC = (  # first bytes -> format (what Pillow is then allowed to decode)
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
)
SNIFF = 12  # bytes needed to tell the formats apart (RIFF....WEBP)
USER_AGENT = "Beat-assets/1 (+thumbnail cache)"


@dataclass(frozen=True, slots=True)
class Download:
    url: str  # the URL asked for
    final_url: str  # where the image was found (after redirects and an og:image)
    content_type: str
    format: str  # JPEG, PNG, GIF or WEBP, from the bytes themselves
    data: bytes


def sniff(head: bytes) -> str | None:
    """The image format the first bytes announce, or None."""
    for magic, name in MAGIC:
        if head.startswith(magic):
            return name
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    return None


def looks_like(head: bytes) -> str:
    text = head[:64].lstrip().lower()
    if text.startswith((b"<!doctype", b"<html", b"<head", b"<?xml", b"<svg")):
        return "markup (HTML/XML)"
    return f"bytes {head[:8].hex()}"


class OgImage(HTMLParser):
    """Finds <meta property="og:image" content="..."> (og:image:secure_url, og:image:url and
    twitter:image also count, og:image first)."""

    NAMES = ("og:image", "og:image:secure_url", "og:image:url", "twitter:image")

    def __init__(self) -> None:
        super().__init__()
        self.found: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "meta":
            return
        values = {k.lower(): v for k, v in attrs if v is not None}
        name = (values.get("property") or values.get("name") or "").lower()
        if name in self.NAMES and values.get("content"):
            self.found.setdefault(name, values["content"].strip())

    def image(self) -> str | None:
        return next((self.found[n] for n in self.NAMES if n in self.found), None)


class Downloader:
    """Fetches images through `guard` with the given limits; one per worker process."""

    def __init__(self, guard: Guard, max_bytes: int, timeout_s: float,
                 max_redirects: int, verify: ssl.SSLContext | bool = True) -> None:
        self.guard = guard
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s
        self.max_redirects = max_redirects
        timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0))
        # Plain HTTP keeps connections (keyed by the checked address). TLS does not: a pooled
        # connection made for one server name must not carry another name's request.
        self.plain = httpx.AsyncClient(timeout=timeout, trust_env=False, follow_redirects=False)
        # `verify`: the trust store (certificates are checked against the URL's host name).
        self.tls = httpx.AsyncClient(timeout=timeout, trust_env=False, follow_redirects=False,
                                     limits=httpx.Limits(max_keepalive_connections=0),
                                     verify=verify)

    async def aclose(self) -> None:
        await self.plain.aclose()
        await self.tls.aclose()

    async def fetch(self, url: str, follow_pages: bool = True) -> Download:
        """The image at `url` (or, for a page, at its og:image)."""
        try:
            async with asyncio.timeout(self.timeout_s):
                return await self._fetch(url, follow_pages)
        except TimeoutError:
            raise SourceUnavailable(f"download of {url} took longer than {self.timeout_s:g}s") \
                from None

    async def _fetch(self, url: str, follow_pages: bool) -> Download:
        current = url
        for _ in range(self.max_redirects + 1):
            target = await self.guard.check(current)
            found = await self._get(target)
            if isinstance(found, str):
                current = found
                continue
            content_type, head, response = found
            if sniff(head) is None and content_type == "text/html" and follow_pages:
                image_url = await self._og_image(target, head, response)
                inner = await self._fetch(image_url, follow_pages=False)
                return Download(url, inner.final_url, inner.content_type, inner.format,
                                inner.data)
            return Download(url, current, content_type, *await self._image(head, response,
                                                                            content_type))
        raise Refused(f"more than {self.max_redirects} redirects")

    async def _get(self, target: Target) -> str | tuple[str, bytes, "Body"]:
        """The next URL for a redirect, else (content type, first bytes, the rest)."""
        client = self.tls if target.parts.scheme == "https" else self.plain
        request = client.build_request(
            "GET", target.connect_url,
            headers={"Host": target.host_header, "User-Agent": USER_AGENT,
                     "Accept": "image/*, text/html;q=0.5", "Accept-Encoding": "identity"},
            extensions={"sni_hostname": target.host})
        try:
            response = await client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise SourceUnavailable(f"{target.host}: {type(exc).__name__} {exc}".strip()) \
                from None
        body = Body(response, self.max_bytes)
        try:
            if response.status_code in REDIRECTS:
                location: str = response.headers.get("location", "")
                if not location:
                    raise Refused(f"HTTP {response.status_code} without a Location")
                await body.close()
                return urljoin(target.url, location.strip())
            check_status(response.status_code, target.url)
            body.check_length()
            head = await body.first(SNIFF)
            content_type = response.headers.get("content-type", "").split(";")[0].strip()
            return content_type.lower(), head, body
        except BaseException:
            await body.close()
            raise

    async def _og_image(self, target: Target, head: bytes, body: "Body") -> str:
        try:
            page = await body.first(HTML_CAP, cut=True)
        finally:
            await body.close()
        parser = OgImage()
        parser.feed(page.decode("utf-8", errors="replace"))
        image = parser.image()
        if image is None:
            raise Refused(f"the page at {target.url} has no og:image")
        return urljoin(target.url, image)

    async def _image(self, head: bytes, body: "Body", content_type: str) -> tuple[str, bytes]:
        try:
            image_format = sniff(head)
            if image_format is None:
                declared = f"sent as {content_type}" if content_type else "no content type"
                raise Refused(f"not an image: {declared}, but {looks_like(head)}")
            if content_type and not content_type.startswith("image/") \
                    and content_type != "application/octet-stream":
                raise Refused(f"not an image: content type {content_type}")
            return image_format, await body.first(self.max_bytes + 1)
        finally:
            await body.close()


class Body:
    """A streamed response body, kept from its start and read as far as asked: past the cap it
    is refused (or, for a page, cut), never read further."""

    def __init__(self, response: httpx.Response, max_bytes: int) -> None:
        self.response = response
        self.max_bytes = max_bytes
        self.chunks = response.aiter_bytes()
        self.buffer = bytearray()
        self.ended = False

    def check_length(self) -> None:
        length = self.response.headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_bytes:
            raise Refused(f"the body is {int(length)} bytes, over the cap of {self.max_bytes}")

    async def first(self, wanted: int, cut: bool = False) -> bytes:
        """The body's first `wanted` bytes (all of it when shorter). Refused when the body
        passes the cap on the way, unless `cut`."""
        while len(self.buffer) < wanted and not self.ended:
            try:
                chunk = await anext(self.chunks)
            except StopAsyncIteration:
                self.ended = True
                break
            except httpx.HTTPError as exc:
                raise SourceUnavailable(f"reading the body: {type(exc).__name__}") from None
            self.buffer += chunk
            if len(self.buffer) > self.max_bytes and not cut:
                raise Refused(f"the body passed the cap of {self.max_bytes} bytes")
        return bytes(self.buffer[:wanted])

    async def close(self) -> None:
        await self.response.aclose()


def check_status(status: int, url: str) -> None:
    if status == 200:
        return
    if status in (404, 410):
        raise NotFound(f"HTTP {status} for {url}")
    if status == 429 or status >= 500:
        raise SourceUnavailable(f"HTTP {status} for {url}")
    raise Refused(f"HTTP {status} for {url}")
