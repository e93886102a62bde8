"""One asset, end to end and without the database: download through the guard, process with
Pillow off the event loop, store under its content address. Used by the flows (which then
record the outcome, assets/record.py), `beat asset` and the benchmark."""

import asyncio
import ipaddress
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from assets.download import Downloader
from assets.guard import Allowlist, Guard, Resolver, numeric_host
from assets.images import process
from assets.settings import AssetsSettings
from assets.store import BlobStore, make_store
from core.config import Settings


@dataclass(frozen=True, slots=True)
class StoredAsset:
    key: str
    url: str
    bytes: int
    width: int
    height: int
    sha256: str
    created: bool  # False: the same image was stored before (same key)
    source_url: str
    final_url: str
    source_bytes: int
    content_type: str

    def summary(self) -> dict[str, object]:
        return {"key": self.key, "bytes": self.bytes, "width": self.width,
                "height": self.height}


def allowlist(settings: Settings, own: AssetsSettings) -> Allowlist:
    """ASSETS_ALLOW, plus the sandbox's own address in sandbox mode."""
    entries = list(own.assets_allow)
    if settings.sandbox_url:
        parts = urlsplit(settings.sandbox_url)
        host = "127.0.0.1" if parts.hostname == "localhost" else (parts.hostname or "")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            address = ipaddress.ip_address(host)
        except ValueError:  # a named sandbox host: list its address in ASSETS_ALLOW
            return Allowlist(entries)
        entries.append(f"[{address}]:{port}" if address.version == 6 else f"{address}:{port}")
    return Allowlist(entries)


def request_url(settings: Settings, own: AssetsSettings, url: str) -> str:
    """Where to download `url` from: the URL itself, or in sandbox mode (SANDBOX_URL) the
    sandbox's stand-in for a platform's image host, {SANDBOX_URL}/assets/cdn/{host}/{path}, as
    the platforms' API hosts are stood in for. URLs of the sandbox itself, of an address in any
    spelling a resolver reads (2130706433, 0x7f.1), of a name without a dot (localhost) or of a
    host that ASSETS_RESOLVE names are asked as they are."""
    if not settings.sandbox_url:
        return url
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if numeric_host(host) is not None or "." not in host \
            or host == urlsplit(settings.sandbox_url).hostname \
            or host in {name.lower() for name in own.assets_resolve}:
        return url  # the guard judges it as it is (0x7f.1 is 127.0.0.1)
    path = quote(parts.path.lstrip("/"), safe="/")
    query = f"?{parts.query}" if parts.query else ""
    return f"{settings.sandbox_url.rstrip('/')}/assets/cdn/{host}/{path}{query}"


class AssetService:
    """Downloader + store with the settings' limits; one per process, closed with `close`."""

    def __init__(self, settings: Settings, own: AssetsSettings | None = None,
                 store: BlobStore | None = None) -> None:
        self.settings = settings
        self.own = own or AssetsSettings.of(settings)
        guard = Guard(allowlist(settings, self.own), Resolver(self.own.assets_resolve))
        self.downloader = Downloader(guard, self.own.assets_max_bytes, self.own.assets_timeout_s,
                                     self.own.assets_max_redirects)
        self.store = store or make_store(settings, self.own)

    async def close(self) -> None:
        await self.downloader.aclose()
        await self.store.close()

    def key_for(self, sha256: str, extension: str) -> str:
        return f"{self.own.s3_prefix if self.own.s3_bucket else ''}{sha256[:2]}/{sha256}." \
               f"{extension}"

    async def store_asset(self, url: str) -> StoredAsset:
        """Download, process and store the image at `url` (or a page's og:image)."""
        found = await self.downloader.fetch(request_url(self.settings, self.own, url))
        own = self.own
        processed = await asyncio.to_thread(process, found.data, found.format, own.assets_max_side,
                                            own.assets_max_pixels, own.assets_format,
                                            own.assets_quality)
        key = self.key_for(processed.sha256, processed.extension)
        created = await self.store.put(key, processed.data, processed.content_type)
        return StoredAsset(key=key, url=self.store.url(key), bytes=len(processed.data),
                           width=processed.width, height=processed.height,
                           sha256=processed.sha256, created=created, source_url=url,
                           final_url=found.final_url, source_bytes=len(found.data),
                           content_type=processed.content_type)
