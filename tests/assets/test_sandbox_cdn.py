"""Sandbox mode: the platforms' image hosts (i.ytimg.com, Instagram's and X's CDNs, ...) are
stood in for by the sandbox's /assets/cdn/{host}/{path}, as their API hosts are; the sandbox
itself, IP addresses and the hosts ASSETS_RESOLVE names are asked as they are."""

from pathlib import Path

import pytest

from assets.service import AssetService, request_url
from assets.settings import AssetsSettings
from core.config import Settings

SANDBOX = "http://127.0.0.1:8765"


@pytest.mark.parametrize(("url", "asked"), [
    ("https://i.ytimg.com/vi/dQw4w9WgXcQ/hqdefault.jpg",
     f"{SANDBOX}/assets/cdn/i.ytimg.com/vi/dQw4w9WgXcQ/hqdefault.jpg"),
    ("https://Scontent.cdninstagram.com/v/t51/1_n.jpg?stp=dst-jpg&_nc_ht=x",
     f"{SANDBOX}/assets/cdn/scontent.cdninstagram.com/v/t51/1_n.jpg?stp=dst-jpg&_nc_ht=x"),
    ("https://pbs.twimg.com/media/a b.jpg", f"{SANDBOX}/assets/cdn/pbs.twimg.com/media/a%20b.jpg"),
    (f"{SANDBOX}/assets/images/3.jpg", f"{SANDBOX}/assets/images/3.jpg"),
    ("http://10.9.8.7/a.jpg", "http://10.9.8.7/a.jpg"),
    ("http://[::1]:80/a.jpg", "http://[::1]:80/a.jpg"),
    ("http://localhost:22/a.jpg", "http://localhost:22/a.jpg"),
    ("http://0x7f.1/", "http://0x7f.1/"),
    ("http://0177.0.0.1/a.jpg", "http://0177.0.0.1/a.jpg"),
    ("http://2130706433/a.jpg", "http://2130706433/a.jpg"),
    ("http://Images.Example.com:8765/a.jpg", "http://Images.Example.com:8765/a.jpg"),
])
def test_sandbox_mode_asks_the_sandbox_for_platform_images(url: str, asked: str) -> None:
    own = AssetsSettings(assets_resolve={"images.example.com": "127.0.0.1"})
    assert request_url(Settings(sandbox_url=SANDBOX + "/"), own, url) == asked
    assert request_url(Settings(), own, url) == url  # outside sandbox mode: as it is


async def test_a_platform_image_is_stored_from_the_sandbox(sandbox_url: str,
                                                          tmp_path: Path) -> None:
    own = AssetsSettings(assets_dir=tmp_path / "store")
    service = AssetService(Settings(sandbox_url=sandbox_url), own)
    try:
        first = await service.store_asset("https://i.ytimg.com/vi/dQw4w9WgXcQ/hqdefault.jpg")
        again = await service.store_asset("https://i.ytimg.com/vi/dQw4w9WgXcQ/hqdefault.jpg")
        other = await service.store_asset("https://i.ytimg.com/vi/9bZkp7q19f0/hqdefault.jpg")
    finally:
        await service.close()
    assert first.source_url == "https://i.ytimg.com/vi/dQw4w9WgXcQ/hqdefault.jpg"
    assert first.final_url == f"{sandbox_url}/assets/cdn/i.ytimg.com/vi/dQw4w9WgXcQ/" \
                              "hqdefault.jpg"
    assert (first.key, first.created, again.created) == (again.key, True, False)
    assert other.key != first.key and 240 <= min(first.width, first.height)
    assert Path(first.url.removeprefix("file://")).read_bytes()[:3] == b"\xff\xd8\xff"
