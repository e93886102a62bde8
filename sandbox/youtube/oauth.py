"""Channel owners' OAuth tokens, as Google's token endpoint hands them out, and the control API
that stands in for the consent screen.

    POST /youtube/oauth2/token     grant_type=refresh_token, refresh_token, client_id,
                                   client_secret (form) -> {access_token, expires_in, scope,
                                   token_type}; 400 invalid_grant for an unknown or revoked
                                   refresh token, 401 invalid_client for another client

Control (never faulted, never counted):

    GET  /_sandbox/youtube/oauth          per channel with a grant: refreshes, live tokens
    POST /_sandbox/youtube/oauth/grant    {"channel_id"} -> its owner's refresh token and a
                                          first access token (what the identity service relays)
    POST /_sandbox/youtube/oauth/expire   {"channel_id"?, "access_token"?} -> {"expired": n}:
                                          those access tokens answer 401 from now on
    POST /_sandbox/youtube/oauth/revoke   {"channel_id"}: its refresh token gets invalid_grant

A channel's refresh token is derived from (seed, channel id), so it is the same after a restart;
access tokens are random and live `ACCESS_TTL_S` by the app's clock.
"""

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast
from urllib.parse import parse_qs

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from sandbox import rng as r
from sandbox.youtube.world import World
from youtube.settings import SANDBOX_OAUTH_CLIENT

ACCESS_TTL_S = 3599
SCOPE = ("https://www.googleapis.com/auth/yt-analytics.readonly "
         "https://www.googleapis.com/auth/youtube.readonly")

router = APIRouter(prefix="/youtube/oauth2")
control = APIRouter(prefix="/_sandbox/youtube/oauth")


class Unauthenticated(Exception):
    """The access token is unknown or expired."""


class BadGrant(Exception):
    """The token endpoint refuses: `error` and `status` as Google answers them."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


@dataclass
class AccessToken:
    channel_id: str
    expires_at: datetime


@dataclass
class OAuthBook:
    world: World
    clock: Callable[[], datetime]
    tokens: dict[str, AccessToken] = field(default_factory=dict)
    refreshes: dict[str, int] = field(default_factory=dict)  # channel -> token endpoint grants
    granted: set[str] = field(default_factory=set)
    revoked: set[str] = field(default_factory=set)

    def refresh_token_of(self, channel_id: str) -> str:
        return "1//sandbox-" + r.b64url(r.digest(self.world.seed, "oauth-refresh", channel_id), 40)

    def channel_of(self, refresh_token: str) -> str | None:
        for channel in self.world.channels:
            if self.refresh_token_of(channel.channel_id) == refresh_token:
                return channel.channel_id
        return None

    def grant(self, channel_id: str) -> dict[str, Any]:
        if self.world.channel(channel_id) is None:
            raise HTTPException(404, f"no channel {channel_id} in the sandbox world")
        self.granted.add(channel_id)
        self.revoked.discard(channel_id)
        access = self._issue(channel_id)
        return {"channel_id": channel_id, "refresh_token": self.refresh_token_of(channel_id),
                "access_token": access, "expires_in": ACCESS_TTL_S, "scope": SCOPE}

    def refresh(self, form: dict[str, str]) -> dict[str, Any]:
        """The token endpoint's answer to a refresh_token grant (BadGrant when refused)."""
        if form.get("grant_type") != "refresh_token":
            raise BadGrant("unsupported_grant_type", "Invalid grant_type: "
                           + form.get("grant_type", ""))
        if (form.get("client_id"), form.get("client_secret")) != SANDBOX_OAUTH_CLIENT:
            raise BadGrant("invalid_client", "The OAuth client was not found.", 401)
        channel_id = self.channel_of(form.get("refresh_token", ""))
        if channel_id is None or channel_id in self.revoked:
            raise BadGrant("invalid_grant", "Token has been expired or revoked.")
        self.refreshes[channel_id] = self.refreshes.get(channel_id, 0) + 1
        self.granted.add(channel_id)
        return {"access_token": self._issue(channel_id), "expires_in": ACCESS_TTL_S,
                "scope": SCOPE, "token_type": "Bearer"}

    def owner(self, access_token: str) -> str:
        """The channel whose owner the token speaks for; Unauthenticated if none or expired."""
        token = self.tokens.get(access_token)
        if token is None or token.expires_at <= self.clock():
            raise Unauthenticated(access_token)
        return token.channel_id

    def expire(self, channel_id: str | None, access_token: str | None) -> int:
        now = self.clock()
        hit = [t for key, t in self.tokens.items() if t.expires_at > now
               and (access_token is None or key == access_token)
               and (channel_id is None or t.channel_id == channel_id)]
        for token in hit:
            token.expires_at = now
        return len(hit)

    def snapshot(self) -> dict[str, Any]:
        now = self.clock()
        return {channel_id: {
            "refresh_token": self.refresh_token_of(channel_id),
            "refreshes": self.refreshes.get(channel_id, 0),
            "live_tokens": sum(1 for t in self.tokens.values()
                               if t.channel_id == channel_id and t.expires_at > now),
            "revoked": channel_id in self.revoked,
        } for channel_id in sorted(self.granted)}

    def _issue(self, channel_id: str) -> str:
        access = "ya29.sandbox-" + secrets.token_urlsafe(32)
        self.tokens[access] = AccessToken(channel_id,
                                          self.clock() + timedelta(seconds=ACCESS_TTL_S))
        return access


def book_of(request: Request) -> OAuthBook:
    return cast(OAuthBook, request.app.state.youtube_oauth)


@router.post("/token")
async def token(request: Request) -> JSONResponse:
    # parsed here: Starlette's form parser needs python-multipart, which Beat does not install
    raw = parse_qs((await request.body()).decode("utf-8", "replace"))
    try:
        answer = book_of(request).refresh({k: v[0] for k, v in raw.items()})
    except BadGrant as exc:
        return JSONResponse({"error": exc.error, "error_description": exc.description},
                            status_code=exc.status)
    return JSONResponse(answer, headers={"Cache-Control": "no-cache, no-store, max-age=0"})


class ChannelRef(BaseModel):
    channel_id: str


class Expiry(BaseModel):
    channel_id: str | None = None
    access_token: str | None = None


@control.get("")
async def grants(request: Request) -> dict[str, Any]:
    return {"channels": book_of(request).snapshot()}


@control.post("/grant")
async def grant(request: Request, ref: ChannelRef) -> dict[str, Any]:
    return book_of(request).grant(ref.channel_id)


@control.post("/expire")
async def expire(request: Request, which: Expiry) -> dict[str, int]:
    return {"expired": book_of(request).expire(which.channel_id, which.access_token)}


@control.post("/revoke")
async def revoke(request: Request, ref: ChannelRef) -> dict[str, Any]:
    book = book_of(request)
    book.revoked.add(ref.channel_id)
    book.expire(ref.channel_id, None)
    return {"channel_id": ref.channel_id, "revoked": True}
