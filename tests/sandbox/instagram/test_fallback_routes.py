"""The sandbox's Instagram web JSON and RapidAPI-style provider as a caller sees them over HTTP:
share-link redirects, the login wall, the provider's key check and rate limit headers, injected
faults in each service's shape, pages counted by cursor, and bodies in the real web's shape
(../shared/fixtures/instagram, read in place)."""

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from sandbox.app import create_sandbox_app
from sandbox.instagram.fallbacks import share_code, shared_media
from sandbox.instagram.rapidapi import RATE_MESSAGE, ProviderLimits
from sandbox.instagram.world import MILLION_HANDLE, World, build_world
from tests.sandbox.helpers import client_for, key_paths

FIXTURES = Path(__file__).parents[3].parent / "shared" / "fixtures" / "instagram"
KEY = {"x-rapidapi-key": "sandbox-rapidapi-key"}
GET_INFO = "/rapidapi/instagram/instagram/user/get_info"


@pytest.fixture
def app() -> FastAPI:
    return create_sandbox_app(seed=1)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as c:
        yield c


@pytest.fixture
def world() -> World:
    return build_world(1)


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


async def test_share_links_redirect_to_the_media(client: httpx.AsyncClient, world: World) -> None:
    account = world.account_by_handle(MILLION_HANDLE)
    assert account is not None
    media = world.media_of(account, 0, 30)
    post = media[0]
    reel = next(m for m in media if m.media_type == "reels")
    code = share_code(1, post)
    response = await client.get(f"/instagram-web/share/p/{code}/")
    assert response.status_code == 301
    assert response.headers["location"] == f"https://www.instagram.com/p/{post.shortcode}/"
    response = await client.get(f"/instagram-web/share/reel/{share_code(1, reel)}/")
    assert response.headers["location"] == f"https://www.instagram.com/reel/{reel.shortcode}/"
    response = await client.get(f"/instagram-web/share/{code}/")  # the newer form, no kind
    assert response.status_code == 301
    assert response.headers["location"] == f"https://www.instagram.com/p/{post.shortcode}/"
    assert shared_media(world, code) == post and share_code(2, post) != code
    for unknown in ("0", "zzzzzzzzzzzzzzzz", code[:-1] + ("A" if code[-1] != "A" else "B")):
        assert (await client.get(f"/instagram-web/share/p/{unknown}/")).status_code == 404


async def test_the_login_wall(app: FastAPI, client: httpx.AsyncClient) -> None:
    app.state.instagram_web.limit = 1
    path = "/instagram-web/api/v1/users/web_profile_info/"
    assert (await client.get(path, params={"username": MILLION_HANDLE})).status_code == 200
    walled = await client.get(path, params={"username": MILLION_HANDLE})
    assert walled.status_code == 302
    assert walled.headers["location"].startswith("https://www.instagram.com/accounts/login/")


async def test_web_nodes_have_the_real_web_shape(client: httpx.AsyncClient) -> None:
    real = fixture("ig_web_graphql_user_timeline.json")["data"]["user"]
    real_nodes = key_paths(real["edge_owner_to_timeline_media"]["edges"])
    ours = (await client.get("/instagram-web/api/v1/users/web_profile_info/",
                             params={"username": MILLION_HANDLE})).json()["data"]["user"]
    our_nodes = key_paths(ours["edge_owner_to_timeline_media"]["edges"])
    reel_paths = key_paths(fixture("ig_web_graphql_shortcode_media_reel.json")["graphql"][
        "shortcode_media"])
    assert our_nodes - real_nodes - {"[].node." + p for p in reel_paths} == set()
    assert set(ours) - {"id", "edge_followed_by", "edge_follow", "is_private", "is_verified",
                        "is_business_account", "is_professional_account", "fbid",
                        "external_url"} <= set(real)


async def test_the_provider_checks_the_key(client: httpx.AsyncClient) -> None:
    body = {"username": MILLION_HANDLE}
    missing = await client.post(GET_INFO, json=body)
    assert missing.status_code == 401
    unknown = await client.post(GET_INFO, json=body, headers={"x-rapidapi-key": "nope"})
    assert (unknown.status_code, unknown.json()) == (
        403, {"message": "You are not subscribed to this API."})
    ok = await client.post(GET_INFO, json=body, headers=KEY)
    assert ok.json()["status"] == "done"
    assert ok.json()["response"]["body"]["user"]["follower_count"] == 1_000_000


async def test_the_provider_rate_limit_answers_the_real_429(app: FastAPI,
                                                            client: httpx.AsyncClient) -> None:
    app.state.instagram_rapidapi.clock = lambda: 50.0
    for _ in range(2):
        assert (await client.post(GET_INFO, json={"username": "x"}, headers=KEY)).status_code \
            == 200
    refused = await client.post(GET_INFO, json={"username": "x"}, headers=KEY)
    assert (refused.status_code, refused.json()) == (429, {"message": RATE_MESSAGE})
    assert refused.headers["x-ratelimit-requests-limit"] == "2"
    assert refused.headers["x-ratelimit-requests-remaining"] == "0"
    assert refused.headers["x-ratelimit-requests-reset"] == "1"
    other = await client.post(GET_INFO, json={"username": "x"},
                              headers={"x-rapidapi-key": "nope"})
    assert other.status_code == 403, "limits are per key, checked after the key"


async def test_the_limits_control_lifts_the_wall_and_the_provider_pacing(
        app: FastAPI, client: httpx.AsyncClient) -> None:
    app.state.instagram_web.limit = 1
    app.state.instagram_rapidapi.clock = lambda: 50.0
    path = "/instagram-web/api/v1/users/web_profile_info/"
    for _ in range(2):
        await client.get(path, params={"username": MILLION_HANDLE})
        await client.post(GET_INFO, json={"username": "x"}, headers=KEY)
    assert (await client.get(path, params={"username": MILLION_HANDLE})).status_code == 302
    assert (await client.post(GET_INFO, json={"username": "x"}, headers=KEY)).status_code == 429
    changed = await client.post("/_sandbox/instagram/limits", json={
        "web_calls": 5, "provider_windows": [[5, 1.0]], "reset": True})
    assert changed.json() == {"web_calls": 5, "provider_windows": [[5, 1.0]]}
    web = [(await client.get(path, params={"username": MILLION_HANDLE})).status_code
           for _ in range(6)]
    provider = [(await client.post(GET_INFO, json={"username": "x"}, headers=KEY)).status_code
                for _ in range(6)]
    assert (web, provider) == ([200] * 5 + [302], [200] * 5 + [429])


def test_the_thirty_second_window() -> None:
    now = [0.0]
    limits = ProviderLimits(keys=["k"], windows=((100, 30.0),), clock=lambda: now[0])
    for _ in range(100):
        assert limits.refusal("k") is None
        now[0] += 0.1
    refused = limits.refusal("k")
    assert refused is not None and refused[0] == 100
    assert refused[1] == pytest.approx(20.0)  # the first call leaves the window at 30 s
    now[0] = 30.0
    assert limits.refusal("k") is None


async def test_faults_come_in_the_provider_shape(client: httpx.AsyncClient) -> None:
    await client.post("/_sandbox/faults", json={"prefix": "/rapidapi/", "error_rate": 1,
                                                "error_status": 502})
    response = await client.post(GET_INFO, json={"username": "x"}, headers=KEY)
    assert response.status_code == 502 and "message" in response.json()
    usage = (await client.get("/_sandbox/usage")).json()
    assert usage["calls"] == {f"POST {GET_INFO}": 1} and usage["faults"] == {"error": 1}


async def test_pages_are_counted_by_cursor(app: FastAPI, client: httpx.AsyncClient,
                                           world: World) -> None:
    account = world.account_by_handle(MILLION_HANDLE)
    assert account is not None
    path = "/rapidapi/instagram/instagram/user/get_followers"
    ticks = iter(range(1000))
    app.state.instagram_rapidapi.clock = lambda: float(next(ticks))
    first = (await client.post(path, json={"id": account.pk}, headers=KEY)).json()
    token = first["response"]["body"]["next_max_id"]
    for _ in range(2):
        await client.post(path, json={"id": account.pk, "max_id": token}, headers=KEY)
    pages = (await client.get("/_sandbox/usage")).json()["pages"]
    assert pages == {f"POST {path} -": 1, f"POST {path} {token}": 2}
