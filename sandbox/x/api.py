"""The sandbox's X endpoints, answering from the world of the app's seed (sandbox/x/world.py):

    GET  /x/syndication/tweet-result?id=ID&token=T   the syndication tweet; a tombstone for a
                                                     deleted one; 404 (empty) for an unknown
                                                     or protected tweet; 400 without the token
    POST /x/api/1.1/guest/activate.json              {"guest_token": "..."} (bearer required)
    GET  /x/graphql/{query id}/TweetResultByRestId   {"data": {"tweetResult": {"result"?}}}
    GET  /x/graphql/{query id}/UserByScreenName      {"data": {"user": {"result"?}}}
    GET  /x/graphql/{query id}/UserByRestId          same
    GET  /x/tco/{code}                               301 to https://x.com/{user}/status/{id}

and its control (never faulted, never counted):

    POST /_sandbox/x/budget   {"budget"?, "reset"?}: calls per caller per window (reset: forget
                              the calls counted so far first)

GraphQL calls need the sandbox bearer and either a guest token this sandbox activated or the
sandbox credential's cookies (auth_token and ct0 with x-csrf-token); anything else is 401
(bad bearer or credential) or 403 (unknown guest token). Each guest token and credential has
XState.budget calls per window; past it X's 429 with x-rate-limit-limit/-remaining/-reset.
"""

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.responses import RedirectResponse, Response

from sandbox.responses import CompactJSON
from sandbox.x import render
from sandbox.x.world import World, build_world
from x.settings import SANDBOX_AUTH_TOKENS, SANDBOX_BEARER
from x.sources.syndication import syndication_token

router = APIRouter(prefix="/x")
control = APIRouter(prefix="/_sandbox/x")
WINDOW_S = 900


@dataclass
class XState:
    world: World
    budget: int = 150
    clock: Callable[[], float] = time.time
    guests: set[str] = field(default_factory=set)
    used: dict[str, tuple[int, int]] = field(default_factory=dict)  # caller -> (window, calls)

    def spend(self, caller: str) -> tuple[bool, dict[str, str]]:
        """One call of `caller` in the current window; False past the budget. The headers
        are X's x-rate-limit-* for that caller."""
        window = int(self.clock()) // WINDOW_S
        start, calls = self.used.get(caller, (window, 0))
        calls = calls + 1 if start == window else 1
        self.used[caller] = (window, calls)
        headers = {"x-rate-limit-limit": str(self.budget),
                   "x-rate-limit-remaining": str(max(0, self.budget - calls)),
                   "x-rate-limit-reset": str((window + 1) * WINDOW_S)}
        return calls <= self.budget, headers


def new_state(seed: int) -> XState:
    return XState(build_world(seed))


def state_of(request: Request) -> XState:
    found: XState = request.app.state.x
    return found


def _error(status: int, code: int, message: str, headers: dict[str, str] | None = None
           ) -> Response:
    return CompactJSON({"errors": [{"code": code, "message": message}]}, status_code=status,
                       headers=headers)


@router.get("/syndication/tweet-result")
async def tweet_result(request: Request, id: str = "", token: str = "") -> Response:
    world = state_of(request).world
    if not id.isdigit() or token != syndication_token(id):
        return Response(status_code=400)
    tweet = world.tweets.get(id)
    if tweet is None or world.accounts[tweet.user_id].protected:
        return Response(status_code=404)
    return CompactJSON(render.syndication(world, tweet))


@router.post("/api/1.1/guest/activate.json")
async def activate(request: Request) -> Response:
    if request.headers.get("authorization") != f"Bearer {SANDBOX_BEARER}":
        return _error(401, 32, "Could not authenticate you.")
    state = state_of(request)
    token = str(1_850_000_000_000_000_000 + len(state.guests) + 1)
    state.guests.add(token)
    return CompactJSON({"guest_token": token})


@router.get("/graphql/{query_id}/{operation}")
async def graphql(request: Request, query_id: str, operation: str, variables: str = "{}"
                  ) -> Response:
    state = state_of(request)
    caller, refusal = _caller(request, state)
    if refusal is not None:
        return refusal
    allowed, headers = state.spend(caller)
    if not allowed:
        return _error(429, 88, "Rate limit exceeded", headers)
    try:
        asked: dict[str, Any] = json.loads(variables)
    except ValueError:
        return _error(400, 214, "variables is not JSON", headers)
    body = _answer(state.world, operation, asked)
    if body is None:
        return _error(404, 34, "Sorry, that page does not exist", headers)
    return CompactJSON(body, headers=headers)


@router.get("/tco/{code}")
async def tco(request: Request, code: str) -> Response:
    world = state_of(request).world
    tweet = world.tweets.get(world.tco.get(code, ""))
    if tweet is None:
        return Response(status_code=404)
    handle = world.accounts[tweet.user_id].handle
    return RedirectResponse(f"https://x.com/{handle}/status/{tweet.tweet_id}", status_code=301)


class BudgetChange(BaseModel):
    budget: int | None = Field(default=None, ge=1)
    reset: bool = False


@control.post("/budget")
async def change_budget(request: Request, change: BudgetChange) -> dict[str, int]:
    """A benchmark raises the window's budget so X's 429s do not pace it."""
    state = state_of(request)
    if change.reset:
        state.used.clear()
    if change.budget is not None:
        state.budget = change.budget
    return {"budget": state.budget}


def _caller(request: Request, state: XState) -> tuple[str, Response | None]:
    """Who calls (a guest token or a credential), or the refusal X answers."""
    if request.headers.get("authorization") != f"Bearer {SANDBOX_BEARER}":
        return "", _error(401, 32, "Could not authenticate you.")
    cookies = request.cookies
    if "auth_token" in cookies:
        pair = f"{cookies['auth_token']}:{cookies.get('ct0', '')}"
        if pair not in SANDBOX_AUTH_TOKENS or request.headers.get("x-csrf-token") != \
                cookies.get("ct0"):
            return "", _error(401, 89, "Invalid or expired token.")
        return f"auth:{cookies['auth_token']}", None
    guest = request.headers.get("x-guest-token", "")
    if guest not in state.guests:
        return "", _error(403, 239, "Bad guest token.")
    return f"guest:{guest}", None


def _answer(world: World, operation: str, asked: dict[str, Any]) -> dict[str, Any] | None:
    if operation == "TweetResultByRestId":
        tweet = world.tweets.get(str(asked.get("tweetId", "")))
        found = {"result": render.tweet_result(world, tweet)} if tweet else {}
        return {"data": {"tweetResult": found}}
    if operation in ("UserByScreenName", "UserByRestId"):
        user = world.account_by_handle(str(asked.get("screen_name", ""))) \
            if operation == "UserByScreenName" else world.accounts.get(str(asked.get("userId")))
        return {"data": {"user": {"result": render.user_result(user)}} if user else {}}
    return None
