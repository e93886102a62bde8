"""The sandbox's X over HTTP (in-process): the world is the seed's, syndication wants the web's
token, GraphQL wants the bearer and a guest token or the sandbox credential, 429 with X's
x-rate-limit-* headers past the budget, and t.co redirects."""

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from sandbox.app import create_sandbox_app
from sandbox.x import world as w
from sandbox.x.api import XState
from x.settings import SANDBOX_BEARER
from x.sources.syndication import syndication_token

BEARER = {"authorization": f"Bearer {SANDBOX_BEARER}"}


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = create_sandbox_app(seed=1)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://sandbox") as client:
        client.app_state = app.state  # type: ignore[attr-defined]
        yield client


def state(client: httpx.AsyncClient) -> XState:
    found: XState = client.app_state.x  # type: ignore[attr-defined]
    return found


async def guest(client: httpx.AsyncClient) -> dict[str, str]:
    answer = await client.post("/x/api/1.1/guest/activate.json", headers=BEARER)
    assert answer.status_code == 200
    return {**BEARER, "x-guest-token": answer.json()["guest_token"]}


async def tweet(client: httpx.AsyncClient, headers: dict[str, str], tweet_id: str
                ) -> httpx.Response:
    return await client.get("/x/graphql/q/TweetResultByRestId", headers=headers,
                            params={"variables": json.dumps({"tweetId": tweet_id})})


def test_the_world_is_the_seeds() -> None:
    one, again, other = w.build_world(1), w.build_world(1), w.build_world(2)
    assert one.accounts == again.accounts and one.tweets == again.tweets
    assert one.accounts[w.NEWS].followers != other.accounts[w.NEWS].followers
    assert one.tweets[w.OLD_TWEET].views is None and one.tweets[w.VIDEO].video


async def test_syndication_answers_tweets_tombstones_and_404s(
        client: httpx.AsyncClient) -> None:
    async def ask(tweet_id: str) -> httpx.Response:
        return await client.get("/x/syndication/tweet-result", params={
            "id": tweet_id, "token": syndication_token(tweet_id)})

    found = await ask(w.QUOTE)
    assert found.json()["__typename"] == "Tweet"
    assert found.json()["quoted_tweet"]["id_str"] == w.WITH_VIEWS
    assert (await ask(w.DELETED)).json()["__typename"] == "TweetTombstone"
    assert (await ask(w.PROTECTED)).status_code == 404
    assert (await ask("42")).status_code == 404


async def test_graphql_needs_the_bearer_and_a_known_guest_token(
        client: httpx.AsyncClient) -> None:
    refused = await client.post("/x/api/1.1/guest/activate.json",
                                headers={"authorization": "Bearer nope"})
    assert refused.status_code == 401
    assert (await tweet(client, {**BEARER, "x-guest-token": "1"}, w.VIDEO)).status_code == 403
    answer = await tweet(client, await guest(client), w.VIDEO)
    result = answer.json()["data"]["tweetResult"]["result"]
    assert result["views"]["state"] == "EnabledWithCount"
    assert answer.headers["x-rate-limit-limit"] == "150"


async def test_a_bad_credential_is_401_and_the_sandbox_one_is_served(
        client: httpx.AsyncClient) -> None:
    client.cookies.set("auth_token", "revoked")
    client.cookies.set("ct0", "x")
    bad = await tweet(client, {**BEARER, "x-csrf-token": "x"}, w.VIDEO)
    assert bad.status_code == 401 and bad.json()["errors"][0]["code"] == 89
    client.cookies.set("auth_token", "sandbox-x-auth")
    client.cookies.set("ct0", "sandbox-ct0")
    good = await tweet(client, {**BEARER, "x-csrf-token": "sandbox-ct0"}, w.OLD_TWEET)
    assert good.status_code == 200
    assert good.json()["data"]["tweetResult"]["result"]["views"] == {"state": "Enabled"}


async def test_past_the_budget_the_answer_is_429_with_the_reset(
        client: httpx.AsyncClient) -> None:
    state(client).budget = 1
    state(client).clock = lambda: 1_800_100.0
    headers = await guest(client)
    assert (await tweet(client, headers, w.VIDEO)).status_code == 200
    limited = await tweet(client, headers, w.VIDEO)
    assert limited.status_code == 429
    assert limited.headers["x-rate-limit-remaining"] == "0"
    assert limited.headers["x-rate-limit-reset"] == "1800900"


async def test_the_control_raises_the_budget_and_forgets_the_calls(
        client: httpx.AsyncClient) -> None:
    state(client).budget = 1
    headers = await guest(client)
    assert (await tweet(client, headers, w.VIDEO)).status_code == 200
    assert (await tweet(client, headers, w.VIDEO)).status_code == 429
    changed = await client.post("/_sandbox/x/budget", json={"budget": 3, "reset": True})
    assert changed.json() == {"budget": 3}
    answers = [(await tweet(client, headers, w.VIDEO)).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    assert (await client.post("/_sandbox/x/budget", json={"budget": 0})).status_code == 422


async def test_crowd_tweets_are_ordinary_tweets_with_views(client: httpx.AsyncClient) -> None:
    headers = await guest(client)
    last = str(w.CROWD_BASE + w.CROWD_TWEETS - 1)
    found = (await tweet(client, headers, last)).json()["data"]["tweetResult"]["result"]
    assert found["rest_id"] == last and int(found["views"]["count"]) >= 1_000
    beyond = (await tweet(client, headers, str(w.CROWD_BASE + w.CROWD_TWEETS))).json()
    assert beyond["data"]["tweetResult"] == {}


async def test_protected_deleted_and_unknown_tweets_in_graphql(
        client: httpx.AsyncClient) -> None:
    headers = await guest(client)
    protected = (await tweet(client, headers, w.PROTECTED)).json()
    assert protected["data"]["tweetResult"]["result"] == {"__typename": "TweetUnavailable",
                                                          "reason": "Protected"}
    deleted = (await tweet(client, headers, w.DELETED)).json()
    assert deleted["data"]["tweetResult"]["result"]["__typename"] == "TweetTombstone"
    assert (await tweet(client, headers, "42")).json() == {"data": {"tweetResult": {}}}


async def test_tco_codes_redirect_to_their_tweet(client: httpx.AsyncClient) -> None:
    found = await client.get("/x/tco/bEaT020")
    assert found.status_code == 301
    assert found.headers["location"] == "https://x.com/oldtimer/status/20"
    assert (await client.get("/x/tco/unknown")).status_code == 404
