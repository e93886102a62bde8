"""Channel owners' OAuth tokens: found in the credential table (source youtube_oauth, stored by
the identity_token listener with the channel id as `handle` or `user_id`), refreshed at the
token endpoint when the access token has expired or was refused, and stored back encrypted.

Secrets of such a credential: refresh_token (needed), access_token and access_expires_at (epoch
seconds; written by the refresh) when known.
"""

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import httpx

from core import http
from core.config import Settings
from core.errors import BadParams, NotAuthorised, SourceUnavailable
from credentials import store
from credentials.crypto import Crypto
from credentials.models import Credential, ValidationResult
from youtube.models import ANALYTICS, OWNER_OAUTH
from youtube.settings import YoutubeSettings

EARLY_S = 60.0  # refresh a token this close to its expiry rather than have it refused


@dataclass(frozen=True)
class OAuthClient:
    token_url: str
    client_id: str | None
    client_secret: str | None


@dataclass(frozen=True)
class OwnerToken:
    channel_id: str
    credential: Credential
    access_token: str | None
    expires_at: float | None

    def usable(self, now: float) -> bool:
        return bool(self.access_token) and (self.expires_at is None
                                             or self.expires_at - EARLY_S > now)


def _token_of(channel_id: str, credential: Credential) -> OwnerToken:
    expiry = credential.secret("access_expires_at", "expires_at")
    try:
        expires_at = float(expiry) if expiry else None
    except ValueError:
        expires_at = None
    return OwnerToken(channel_id, credential, credential.secret("access_token"), expires_at)


class OwnerTokens:
    """One per process; refreshes of one channel's token are serialised within it."""

    def __init__(self, pool: asyncpg.Pool, crypto: Crypto, client: OAuthClient,
                 clock: Callable[[], float] = time.time) -> None:
        self.pool, self.crypto, self.client, self.clock = pool, crypto, client, clock
        self._locks: dict[str, asyncio.Lock] = {}
        self.refreshes = 0  # token endpoint grants this process received

    async def token(self, channel_id: str) -> OwnerToken:
        """The owner's access token, refreshed first when missing or about to expire."""
        owner = await self._stored(channel_id)
        if owner.usable(self.clock()):
            return owner
        return await self.refresh(owner)

    async def refresh(self, refused: OwnerToken) -> OwnerToken:
        """A new access token for the owner (unless another task of this process got one
        since `refused` was read), stored encrypted with the credential."""
        async with self._locks.setdefault(refused.channel_id, asyncio.Lock()):
            current = await self._stored(refused.channel_id)
            if current.access_token != refused.access_token and current.usable(self.clock()):
                return current
            answer = await self._grant(current)
            secrets = {**current.credential.secrets, "access_token": answer["access_token"],
                       "access_expires_at": str(int(self.clock() + float(answer["expires_in"])))}
            await store.replace_secrets(self.pool, self.crypto, current.credential.id, secrets)
            self.refreshes += 1
            return _token_of(refused.channel_id, Credential(
                **{n: getattr(current.credential, n) for n in _INFO_FIELDS}, secrets=secrets))

    async def _stored(self, channel_id: str) -> OwnerToken:
        credential = await store.usable_for(self.pool, self.crypto, OWNER_OAUTH, channel_id)
        if credential is None or not credential.secret("refresh_token", "access_token"):
            raise NotAuthorised(f"no owner authorisation for {channel_id}")
        return _token_of(channel_id, credential)

    async def _grant(self, owner: OwnerToken) -> dict[str, Any]:
        """The token endpoint's answer to the owner's refresh token."""
        refresh_token = owner.credential.secret("refresh_token")
        if not refresh_token:
            raise NotAuthorised(f"owner authorisation for {owner.channel_id} has expired and "
                                "holds no refresh token")
        if not (self.client.client_id and self.client.client_secret):
            raise BadParams("no YouTube OAuth client to refresh owners' tokens with: set "
                            "YOUTUBE_OAUTH_CLIENT_ID and YOUTUBE_OAUTH_CLIENT_SECRET")
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token,
                "client_id": self.client.client_id, "client_secret": self.client.client_secret}
        status, body = await _post_form(self.client.token_url, form)
        if status == 200 and isinstance(body, dict) and body.get("access_token"):
            return {"access_token": str(body["access_token"]),
                    "expires_in": body.get("expires_in") or 3600}
        error = body.get("error") if isinstance(body, dict) else None
        if error == "invalid_grant":
            await store.mark_data_access_expired(self.pool, owner.credential.id,
                                                 "refresh token expired or revoked")
            raise NotAuthorised(f"owner authorisation for {owner.channel_id} was revoked or "
                                "has expired (invalid_grant)")
        if error == "invalid_client":
            raise BadParams("the YouTube OAuth client was refused (invalid_client): check "
                            "YOUTUBE_OAUTH_CLIENT_ID and YOUTUBE_OAUTH_CLIENT_SECRET")
        raise SourceUnavailable(f"{ANALYTICS}: token endpoint answered HTTP {status} {error}")


_INFO_FIELDS = [n for n in Credential.__dataclass_fields__ if n != "secrets"]


async def _post_form(url: str, form: dict[str, str]) -> tuple[int, Any]:
    """POST a form; transport errors and 5xx are SourceUnavailable, a 429 too (the token
    endpoint does not say how long to wait)."""
    try:
        response = await http.client().post(url, data=form)
    except httpx.HTTPError as exc:
        raise SourceUnavailable(f"{ANALYTICS}: token endpoint: {type(exc).__name__}") from None
    if response.status_code >= 500 or response.status_code == 429:
        raise SourceUnavailable(f"{ANALYTICS}: token endpoint answered HTTP "
                                f"{response.status_code}")
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, None


async def check_owner_token(cred: Credential, settings: Settings,
                            clock: Callable[[], datetime]) -> ValidationResult:
    """A channel owner's stored authorisation checked at the token endpoint: valid (with the
    scopes granted) while its refresh token still gets an access token. The access token got
    is not kept: the source refreshes its own when it needs one."""
    refresh_token = cred.secret("refresh_token")
    if refresh_token is None:
        return ValidationResult(False, reason="no 'refresh_token' in the credentials")
    own = YoutubeSettings.of(settings)
    if not (own.oauth_client_id and own.oauth_client_secret):
        raise BadParams("set YOUTUBE_OAUTH_CLIENT_ID and YOUTUBE_OAUTH_CLIENT_SECRET to check "
                        "owners' tokens")
    status, body = await _post_form(own.token_url(settings), {
        "grant_type": "refresh_token", "refresh_token": refresh_token,
        "client_id": own.oauth_client_id, "client_secret": own.oauth_client_secret})
    answer = body if isinstance(body, dict) else {}
    if status == 200 and answer.get("access_token"):
        return ValidationResult(True, scopes=tuple(str(answer.get("scope") or "").split()),
                                expires_at=None)
    reason = answer.get("error") or f"HTTP {status}"
    detail = answer.get("error_description") or ""
    return ValidationResult(False, reason=f"{reason}: {detail}".rstrip(": "))
