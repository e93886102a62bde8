"""Share and short links (core/links.py `Router.resolve_following`): the redirect is followed
through the shared HTTP client to what it lands on, at most five hops, the body never read; a
loop, a long chain, an answer that is no redirect or a landing the router refuses is one line.
The platform boundary is httpx.MockTransport, and a stand-in sandbox server for the CLI."""

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from core import http
from core.config import Settings
from core.links import FOLLOW_CONCURRENCY, Link, Router
from core.platforms import NotALink
from tests import beat_cli
from tests.platforms.link_platforms import INSTAGRAM, SHORTENER

ROOT = Path(__file__).resolve().parents[2]
SHARE = "https://www.instagram.com/share/p/BAhwXq2dIY/"
CODE = "CvsXrH2JMvL"
REAL = Settings(sandbox_url=None)
Answer = tuple[Callable[[dict[str, httpx.Response]], None], list[str]]


class NeverRead(httpx.AsyncByteStream):
    """A body that fails the test if anyone downloads it."""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        raise AssertionError("the redirect's body was read")
        yield b""  # pragma: no cover - makes this an async generator


def redirect(location: str, status: int = 301) -> httpx.Response:
    return httpx.Response(status, headers={"Location": location}, stream=NeverRead())


@pytest.fixture
def router() -> Router:
    return Router({"instagram": INSTAGRAM, "shortener": SHORTENER})


@pytest.fixture
def answer() -> Iterator[Answer]:
    """answer({url: response}) installs a client answering those URLs (404 otherwise) and
    yields the URLs requested, in order."""
    asked: list[str] = []

    def install(answers: dict[str, httpx.Response]) -> None:
        def handle(request: httpx.Request) -> httpx.Response:
            asked.append(str(request.url))
            return answers.get(str(request.url), httpx.Response(404))
        http.use_client(httpx.AsyncClient(transport=httpx.MockTransport(handle),
                                          follow_redirects=True))

    yield install, asked
    http.use_client(None)


async def test_a_share_link_resolves_to_the_post_it_redirects_to(router: Router,
                                                              answer: Answer) -> None:
    install, asked = answer
    install({SHARE: redirect(f"https://www.instagram.com/p/{CODE}/")})
    link = await router.resolve_following(f"  {SHARE}\n", REAL)
    assert link == Link(SHARE, "instagram", "post", CODE)
    # One request, not followed by the client itself (it was built to follow redirects).
    assert asked == [SHARE]


async def test_a_relative_location_is_read_against_the_share_link(router: Router,
                                                                  answer: Answer) -> None:
    install, _ = answer
    install({SHARE: redirect(f"/reel/{CODE}/?igsh=x", status=302)})
    link = await router.resolve_following(SHARE, REAL)
    assert (link.kind, link.id) == ("post", CODE)


async def test_a_short_link_may_land_on_another_platform(router: Router, answer: Answer) -> None:
    install, asked = answer
    install({"https://sho.rt/abc": redirect(SHARE, status=307),
             SHARE: redirect(f"https://www.instagram.com/natgeo/p/{CODE}/")})
    link = await router.resolve_following("sho.rt/abc", REAL)
    assert link == Link("sho.rt/abc", "instagram", "post", CODE)
    assert asked == ["https://sho.rt/abc", SHARE]


def chain(length: int) -> dict[str, httpx.Response]:
    """sho.rt/1 -> sho.rt/2 -> … -> sho.rt/{length} -> the post."""
    hops = {f"https://sho.rt/{n}": redirect(f"https://sho.rt/{n + 1}") for n in range(1, length)}
    return hops | {f"https://sho.rt/{length}": redirect(f"https://instagr.am/p/{CODE}")}


async def test_five_redirects_are_followed_and_a_sixth_is_refused(router: Router,
                                                                  answer: Answer) -> None:
    install, asked = answer
    install(chain(5))
    assert (await router.resolve_following("https://sho.rt/1", REAL)).id == CODE
    assert len(asked) == 5
    asked.clear()
    install(chain(6))
    with pytest.raises(NotALink, match="^more than 5 redirects from https://sho.rt/1$"):
        await router.resolve_following("https://sho.rt/1", REAL)
    assert len(asked) == 5


async def test_a_redirect_loop_is_refused(router: Router, answer: Answer) -> None:
    install, asked = answer
    install({"https://sho.rt/a": redirect("https://sho.rt/b"),
             "https://sho.rt/b": redirect("/a")})
    with pytest.raises(NotALink, match="^redirect loop: .* back to https://sho.rt/a$"):
        await router.resolve_following("https://sho.rt/a", REAL)
    assert asked == ["https://sho.rt/a", "https://sho.rt/b"]


@pytest.mark.parametrize(("response", "reason"), [
    (httpx.Response(404), "the share link answered HTTP 404, not a redirect"),
    (httpx.Response(200, text="<html>a page</html>"),
     "the share link answered HTTP 200, not a redirect"),
    (httpx.Response(301), "the share link answered HTTP 301, not a redirect"),  # no Location
])
async def test_an_answer_that_is_no_redirect_is_refused(router: Router, answer: Answer,
                                                       response: httpx.Response,
                                                       reason: str) -> None:
    install, _ = answer
    install({SHARE: response})
    with pytest.raises(NotALink) as refused:
        await router.resolve_following(SHARE, REAL)
    assert str(refused.value) == reason


@pytest.mark.parametrize(("location", "reason"), [
    ("https://evil.example/p/CvsXrH2JMvL/",
     "unsupported platform: no platform Beat knows serves evil.example"),
    ("https://www.instagram.com/accounts/login/?next=%2Fshare%2Fp%2F",
     "/accounts pages (login, settings) are not a post or profile"),
    ("ftp://www.instagram.com/p/CvsXrH2JMvL/", "scheme 'ftp' is not http or https"),
])
async def test_a_landing_the_router_refuses_is_one_line_naming_it(router: Router, answer: Answer,
                                                                 location: str,
                                                                 reason: str) -> None:
    install, _ = answer
    install({SHARE: redirect(location)})
    with pytest.raises(NotALink) as refused:
        await router.resolve_following(SHARE, REAL)
    assert str(refused.value) == f"the share link leads to {location}: {reason}"


async def test_a_transport_failure_is_one_line(router: Router) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused\nsecond line", request=request)
    http.use_client(httpx.AsyncClient(transport=httpx.MockTransport(fail)))
    try:
        with pytest.raises(NotALink, match="^could not follow the share link: ConnectError"
                           ) as refused:
            await router.resolve_following(SHARE, REAL)
        assert "\n" not in str(refused.value)
    finally:
        http.use_client(None)


async def test_in_sandbox_mode_the_sandbox_answers_for_the_share_link(router: Router,
                                                                    answer: Answer) -> None:
    install, asked = answer
    sandbox = "http://sandbox.test:8080"
    install({f"{sandbox}/instagram-web/share/p/BAhwXq2dIY/":
             redirect(f"https://www.instagram.com/p/{CODE}/")})
    link = await router.resolve_following(SHARE, Settings(sandbox_url=sandbox + "/"))
    assert (link.platform, link.kind, link.id) == ("instagram", "post", CODE)
    assert asked == [f"{sandbox}/instagram-web/share/p/BAhwXq2dIY/"]


async def test_without_a_sandbox_mapping_nothing_is_asked_in_sandbox_mode(router: Router,
                                                                        answer: Answer) -> None:
    install, asked = answer
    install({})
    with pytest.raises(NotALink, match="^shortener share links cannot be followed in sandbox"):
        await router.resolve_following("https://sho.rt/abc", Settings(sandbox_url="http://s"))
    assert asked == []


async def test_links_that_need_no_redirect_ask_nothing(router: Router, answer: Answer) -> None:
    install, asked = answer
    install({})
    texts = [f"https://www.instagram.com/p/{CODE}/", "", "https://www.instagram.com/explore/",
             SHARE]
    lines = [line async for line in router.lines_following(texts, REAL)]
    assert lines == [
        {"url": texts[0], "platform": "instagram", "kind": "post", "id": CODE},
        {"url": texts[2], "error": "the Explore page is not one post or profile"},
        {"url": SHARE, "error": "the share link answered HTTP 404, not a redirect"},
    ]
    assert asked == [SHARE]
    # Without following, a share link is an error saying it must be followed.
    assert "following its redirect" in next(router.lines([SHARE]))["error"]


async def test_links_are_followed_together_and_answered_in_order(router: Router) -> None:
    in_flight, most = 0, 0

    async def slow(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        number = int(request.url.path.strip("/"))
        await asyncio.sleep(0.01 * (20 - number))  # the first link answers last
        in_flight -= 1
        return redirect(f"https://www.instagram.com/p/{CODE[:-2]}{number:02d}/")

    http.use_client(httpx.AsyncClient(transport=httpx.MockTransport(slow)))
    try:
        texts = [f"https://sho.rt/{n}" for n in range(20)]
        lines = [line async for line in router.lines_following(texts, REAL)]
    finally:
        http.use_client(None)
    assert [line["id"] for line in lines] == [f"{CODE[:-2]}{n:02d}" for n in range(20)]
    assert most == FOLLOW_CONCURRENCY


# -- `beat links --resolve-only` against a stand-in sandbox server -------------------------------

class StandIn(BaseHTTPRequestHandler):
    """The sandbox's share route: /instagram-web/share/{p|reel}/{code}/ -> 301 to the post
    (the code reversed stands in for the post's shortcode), …/loop/ to itself; anything else
    404."""

    def do_GET(self) -> None:
        parts = [p for p in self.path.split("?")[0].split("/") if p]
        if parts[:2] == ["instagram-web", "share"] and len(parts) == 4 and parts[3] != "loop":
            self.send_response(301)
            self.send_header("Location", f"https://www.instagram.com/p/{parts[3][::-1]}/")
        elif parts[-1:] == ["loop"]:
            self.send_response(302)
            # Relative, in Instagram's paths (the sandbox stands in for Instagram's host).
            self.send_header("Location", "/share/p/loop/")
        else:
            self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def stand_in() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_beat_links_follows_share_links_through_the_sandbox(stand_in: str,
                                                            tmp_path: Path) -> None:
    texts = ["https://www.instagram.com/share/p/LvMJ2HrXsvC/",
             "https://www.instagram.com/share/reel/LvMJ2HrXsvC/?igsh=abc",
             "https://www.instagram.com/share/p/loop/",
             "https://www.instagram.com/share/BAhwXq2dIY/",
             f"https://www.instagram.com/p/{CODE}/",
             "https://www.youtube.com/watch?v=dQw4w9WgXcQ"]
    listing = tmp_path / "links.txt"
    listing.write_text("\n".join(texts) + "\n", encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", "SANDBOX_URL": stand_in,
           "BEAT_PLATFORMS": "tests.platforms.link_platforms:INSTAGRAM"}
    result = beat_cli.run(["links", "--resolve-only", str(listing)], env)
    assert result.returncode == 0, result.stderr
    assert [json.loads(line) for line in result.stdout.splitlines()] == [
        {"url": texts[0], "platform": "instagram", "kind": "post", "id": CODE},
        {"url": texts[1], "platform": "instagram", "kind": "post", "id": CODE},
        {"url": texts[2], "error": "redirect loop: the share link leads back to "
                                   "https://www.instagram.com/share/p/loop/"},
        {"url": texts[3], "error": "the share link answered HTTP 404, not a redirect"},
        {"url": texts[4], "platform": "instagram", "kind": "post", "id": CODE},
        {"url": texts[5], "platform": "youtube", "kind": "video", "id": "dQw4w9WgXcQ"},
    ]


def test_offline_a_share_link_is_reported_as_needing_resolution(stand_in: str,
                                                                tmp_path: Path) -> None:
    """--offline follows nothing (the stand-in would answer): a share link names its platform
    and needs resolution, never a guessed id; other links resolve as usual."""
    texts = ["https://www.instagram.com/share/p/LvMJ2HrXsvC/", f"https://www.instagram.com/p/{CODE}/"]
    listing = tmp_path / "links.txt"
    listing.write_text("\n".join(texts) + "\n", encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", "SANDBOX_URL": stand_in,
           "BEAT_PLATFORMS": "tests.platforms.link_platforms:INSTAGRAM"}
    result = beat_cli.run(["links", "--resolve-only", "--offline", str(listing)], env)
    assert result.returncode == 0, result.stderr
    first, second = [json.loads(line) for line in result.stdout.splitlines()]
    assert first["platform"] == "instagram" and first["error"].startswith("needs resolution")
    assert "id" not in first and "kind" not in first
    assert second == {"url": texts[1], "platform": "instagram", "kind": "post", "id": CODE}
