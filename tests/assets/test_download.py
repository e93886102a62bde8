"""Downloads against the sandbox as a real HTTP server: images and og:image pages come through;
every hostile answer is refused or failed with a reason a person can act on, without reading
a huge body, and redirects are checked hop by hop. The sandbox sits on 127.0.0.1, so the
allowlist names its exact address and port, and nothing else on this host."""

from collections.abc import AsyncIterator
from urllib.parse import quote, urlsplit

import pytest

from assets.download import Downloader, sniff
from assets.guard import Allowlist, Guard, Refused, Resolver
from core.errors import NotFound, SourceUnavailable
from sandbox.assets.images import image_bytes

CAP = 4 * 1024 * 1024


def downloader_for(sandbox_url: str, max_bytes: int = CAP, timeout_s: float = 10,
                   max_redirects: int = 3) -> Downloader:
    port = urlsplit(sandbox_url).port
    # A public-looking name that resolves (here, not in DNS) to the sandbox's address.
    resolver = Resolver({"images.example.com": "127.0.0.1"})
    guard = Guard(Allowlist([f"127.0.0.1:{port}"]), resolver)
    return Downloader(guard, max_bytes, timeout_s, max_redirects)


@pytest.fixture
async def fetcher(sandbox_url: str) -> AsyncIterator[Downloader]:
    downloader = downloader_for(sandbox_url)
    yield downloader
    await downloader.aclose()


def public_name(sandbox_url: str) -> str:
    return sandbox_url.replace("127.0.0.1", "images.example.com")


@pytest.mark.parametrize("ext, fmt", [("jpg", "JPEG"), ("png", "PNG"), ("webp", "WEBP")])
async def test_an_image_comes_through_whole(fetcher: Downloader, sandbox_url: str, ext: str,
                                            fmt: str) -> None:
    got = await fetcher.fetch(f"{sandbox_url}/assets/images/3.{ext}")
    assert (got.format, got.content_type) == (fmt, f"image/{'jpeg' if ext == 'jpg' else ext}")
    assert got.data == image_bytes(3, ext)
    assert 100_000 <= len(got.data) <= 2_000_000


async def test_a_page_is_followed_to_its_og_image(fetcher: Downloader, sandbox_url: str) -> None:
    got = await fetcher.fetch(f"{sandbox_url}/assets/pages/4")
    assert got.final_url == f"{sandbox_url}/assets/images/4.jpg"
    assert got.data == image_bytes(4, "jpg")


async def test_a_page_without_og_image_is_refused(fetcher: Downloader, sandbox_url: str) -> None:
    with pytest.raises(Refused, match="has no og:image"):
        await fetcher.fetch(f"{sandbox_url}/assets/hostile/no-og")


async def test_a_name_is_connected_to_at_the_address_it_was_checked_at(
        fetcher: Downloader, sandbox_url: str) -> None:
    """images.example.com is in no DNS: only the checked address can have answered."""
    got = await fetcher.fetch(f"{public_name(sandbox_url)}/assets/images/5.png")
    assert got.data == image_bytes(5, "png")


async def test_a_safe_redirect_is_followed(fetcher: Downloader, sandbox_url: str) -> None:
    got = await fetcher.fetch(f"{sandbox_url}/assets/redirect?to=/assets/images/6.jpg")
    assert got.final_url == f"{sandbox_url}/assets/images/6.jpg"
    assert got.data == image_bytes(6, "jpg")


@pytest.mark.parametrize("target, reason", [
    ("http://10.0.0.7/a.jpg", "refused 10.0.0.7: private address"),
    ("http://169.254.169.254/latest/meta-data/iam/", "cloud metadata address"),
    ("http://[::1]:8080/", "loopback address"),
    ("http://[::ffff:127.0.0.1]/", "loopback address (as 127.0.0.1"),
    ("http://2130706433/", "refused 2130706433: loopback address"),
    ("http://127.0.0.1:5432/", "refused 127.0.0.1: loopback address"),  # not the sandbox port
    ("file:///etc/passwd", "only http and https"),
])
async def test_a_public_looking_host_redirecting_to_a_private_address_is_refused(
        fetcher: Downloader, sandbox_url: str, target: str, reason: str) -> None:
    url = f"{public_name(sandbox_url)}/assets/redirect?to={quote(target, safe='')}"
    with pytest.raises(Refused) as refused:
        await fetcher.fetch(url)
    assert reason in str(refused.value)


async def test_a_redirect_two_hops_deep_is_checked_too(fetcher: Downloader,
                                                       sandbox_url: str) -> None:
    inner = quote("/assets/redirect?to=" + quote("http://192.168.0.1/", safe=""), safe="")
    with pytest.raises(Refused, match="192.168.0.1: private"):
        await fetcher.fetch(f"{sandbox_url}/assets/redirect?to={inner}&status=307")


async def test_too_many_redirects_are_refused(sandbox_url: str) -> None:
    fetcher = downloader_for(sandbox_url, max_redirects=1)
    inner = quote("/assets/redirect?to=/assets/images/1.jpg", safe="")
    try:
        with pytest.raises(Refused, match="more than 1 redirects"):
            await fetcher.fetch(f"{sandbox_url}/assets/redirect?to={inner}")
    finally:
        await fetcher.aclose()


async def test_a_5_gb_body_announced_is_refused_before_reading(fetcher: Downloader,
                                                               sandbox_url: str) -> None:
    with pytest.raises(Refused, match=f"the body is 5368709120 bytes, over the cap of {CAP}"):
        await fetcher.fetch(f"{sandbox_url}/assets/hostile/huge.jpg")


async def test_an_endless_body_is_cut_at_the_cap(fetcher: Downloader, sandbox_url: str) -> None:
    with pytest.raises(Refused, match=f"the body passed the cap of {CAP} bytes"):
        await fetcher.fetch(f"{sandbox_url}/assets/hostile/endless.jpg")


async def test_html_sent_as_a_jpeg_is_refused(fetcher: Downloader, sandbox_url: str) -> None:
    with pytest.raises(Refused, match="not an image: sent as image/jpeg, but markup"):
        await fetcher.fetch(f"{sandbox_url}/assets/hostile/html-as-jpeg.jpg")


async def test_a_trickling_server_meets_the_deadline(sandbox_url: str) -> None:
    fetcher = downloader_for(sandbox_url, timeout_s=1.5)
    try:
        with pytest.raises(SourceUnavailable, match="took longer than 1.5s"):
            await fetcher.fetch(f"{sandbox_url}/assets/hostile/slow.jpg")
    finally:
        await fetcher.aclose()


async def test_missing_and_refused_answers_are_told_apart(fetcher: Downloader,
                                                          sandbox_url: str) -> None:
    with pytest.raises(NotFound, match="HTTP 404"):
        await fetcher.fetch(f"{sandbox_url}/assets/images/3.gif")


async def test_a_closed_port_is_a_retryable_failure(sandbox_url: str) -> None:
    from tests.e2e.procs import free_port

    closed = free_port()
    guard = Guard(Allowlist([f"127.0.0.1:{closed}"]))
    fetcher = Downloader(guard, CAP, 5, 0)
    try:
        with pytest.raises(SourceUnavailable, match="127.0.0.1: ConnectError"):
            await fetcher.fetch(f"http://127.0.0.1:{closed}/a.jpg")
    finally:
        await fetcher.aclose()


def test_formats_are_told_by_their_first_bytes() -> None:
    assert sniff(image_bytes(1, "jpg")[:12]) == "JPEG"
    assert sniff(image_bytes(1, "png")[:12]) == "PNG"
    assert sniff(image_bytes(1, "webp")[:12]) == "WEBP"
    assert sniff(b"GIF89a......") == "GIF"
    assert sniff(b"<!doctype ht") is None
    assert sniff(b"RIFF\x00\x00\x00\x00WAVE") is None
