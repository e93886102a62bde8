"""Graph API `debug_token` under /graph/ (and /graph/vNN.N/), in the real shapes: the token's
data (app, type, scopes, expiry, is_valid) or an OAuthException error body.

The sandbox knows these tokens (timestamps relative to the sandbox clock):

    sandbox-graph-token               valid, every scope Beat needs (long-lived: 60 days)
    sandbox-graph-token-no-insights   valid, lacks instagram_manage_insights
    sandbox-graph-token-data-expired  is_valid true, data_access_expires_at a day in the past
    sandbox-graph-token-expired       session expired yesterday: is_valid false, error 190/463
    SANDBOX_APP_TOKEN                 "1000000000000001|sandbox-app-secret", the app's token

A token expired through the control API (expired_tokens: token -> when) reads as expired.
Any other token (e.g. sandbox-graph-token-invalid) cannot be parsed. The caller's
`access_token` must be the app token or a valid token: otherwise HTTP 400 with an
OAuthException (code 190; 104 when missing). An unknown `input_token` asked about by a valid
caller answers 200 with `{"data": {"error": {...}, "is_valid": false, "scopes": []}}`.
"""

import base64
import hashlib
import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from starlette.responses import Response

from sandbox.state import state_of

router = APIRouter(prefix="/graph")

APP_ID = "1000000000000001"
APPLICATION = "Beat Sandbox"
SANDBOX_APP_TOKEN = f"{APP_ID}|sandbox-app-secret"
TOKEN_VALID = "sandbox-graph-token"
TOKEN_NO_INSIGHTS = "sandbox-graph-token-no-insights"
TOKEN_DATA_EXPIRED = "sandbox-graph-token-data-expired"
TOKEN_EXPIRED = "sandbox-graph-token-expired"
TOKEN_INVALID = "sandbox-graph-token-invalid"
SCOPES = ("instagram_basic", "instagram_manage_insights", "pages_read_engagement",
          "pages_show_list", "business_management", "public_profile")
PAGE_ID, IG_USER_ID = "100000000000101", "17841400000000101"
PACIFIC = ZoneInfo("America/Los_Angeles")
DAY = timedelta(days=1)
CANNOT_PARSE = "Invalid OAuth access token - Cannot parse access token"

# token -> (user_id, scopes, expires_at offset, data_access_expires_at offset, session valid)
TOKENS: dict[str, tuple[str, tuple[str, ...], timedelta, timedelta, bool]] = {
    TOKEN_VALID: ("100000000000001", SCOPES, 60 * DAY, 90 * DAY, True),
    TOKEN_NO_INSIGHTS: ("100000000000002", tuple(s for s in SCOPES
                                                 if s != "instagram_manage_insights"),
                        60 * DAY, 90 * DAY, True),
    TOKEN_DATA_EXPIRED: ("100000000000003", SCOPES, 60 * DAY, -DAY, True),
    TOKEN_EXPIRED: ("100000000000004", SCOPES, -DAY, 60 * DAY, False),
}


class GraphJSON(Response):
    """Graph API bodies: compact, ASCII-only, "/" escaped as "\\/"."""

    media_type = "application/json; charset=UTF-8"

    def render(self, content: Any) -> bytes:
        return json.dumps(content, separators=(",", ":")).replace("/", "\\/").encode()


@router.get("/debug_token")
async def debug_token(request: Request) -> Response:
    query = request.query_params
    now = state_of(request).quota.clock()
    caller, token = query.get("access_token"), query.get("input_token")
    trace = fbtrace_id(str(request.url))
    expired = expired_tokens(request)
    refused = _refuse_caller(caller, now, trace, expired.get(caller or ""))
    if refused is not None:
        return refused
    if not token:
        return oauth_error(100, "(#100) The parameter input_token is required", trace)
    return GraphJSON({"data": token_data(token, now, expired.get(token))})


def expired_tokens(request: Request) -> dict[str, datetime]:
    """Tokens whose session was ended through the control API, and when (app-wide)."""
    state = request.app.state
    if not hasattr(state, "graph_expired_tokens"):
        state.graph_expired_tokens = {}
    found: dict[str, datetime] = state.graph_expired_tokens
    return found


@router.get("/{version}/debug_token")
async def versioned_debug_token(request: Request, version: str) -> Response:
    return await debug_token(request)


def token_data(token: str, now: datetime, expired_at: datetime | None = None
               ) -> dict[str, Any]:
    """debug_token's `data` for `token` at `now` (`expired_at`: its session ended then)."""
    if token == SANDBOX_APP_TOKEN:
        return {"app_id": APP_ID, "type": "APP", "application": APPLICATION, "is_valid": True,
                "scopes": []}
    known = TOKENS.get(token)
    if known is None:
        return {"error": {"code": 190, "message": CANNOT_PARSE}, "is_valid": False, "scopes": []}
    user_id, scopes, expires, data_expires, session_valid = known
    if expired_at is not None:
        expires, session_valid = expired_at - now, False
    data: dict[str, Any] = {
        "app_id": APP_ID, "type": "USER", "application": APPLICATION,
        "data_access_expires_at": _epoch(now + data_expires),
        "expires_at": _epoch(now + expires), "is_valid": session_valid,
        "issued_at": _epoch(now + expires - 60 * DAY), "scopes": list(scopes),
        "granular_scopes": _granular(scopes), "user_id": user_id}
    if not session_valid:
        data["error"] = {"code": 190, "message": _session_expired(now + expires, now),
                         "subcode": 463}
    return dict(sorted(data.items()))


def oauth_error(code: int, message: str, trace: str, subcode: int | None = None) -> Response:
    """HTTP 400 with the Graph API error body; code 190 also sends WWW-Authenticate."""
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    error["fbtrace_id"] = trace
    headers = {}
    if code == 190:
        headers["WWW-Authenticate"] = f'OAuth "Facebook Platform" "invalid_token" "{message}"'
    return GraphJSON({"error": error}, status_code=400, headers=headers)


def fbtrace_id(seed: str) -> str:
    """A trace id shaped like the real ones (23 url-safe characters), stable per request."""
    digest = hashlib.sha256(seed.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()[:23]


def _refuse_caller(caller: str | None, now: datetime, trace: str,
                   expired_at: datetime | None = None) -> Response | None:
    if not caller:
        return oauth_error(104, "An access token is required to request this resource.", trace)
    if caller == SANDBOX_APP_TOKEN:
        return None
    known = TOKENS.get(caller)
    if known is None:
        return oauth_error(190, CANNOT_PARSE, trace)
    if expired_at is not None:
        return oauth_error(190, _session_expired(expired_at, now), trace, subcode=463)
    if not known[4]:
        return oauth_error(190, _session_expired(now + known[2], now), trace, subcode=463)
    return None


def _granular(scopes: tuple[str, ...]) -> list[dict[str, Any]]:
    targets = {"pages_show_list": PAGE_ID, "pages_read_engagement": PAGE_ID,
               "instagram_basic": IG_USER_ID, "instagram_manage_insights": IG_USER_ID}
    return [{"scope": s, "target_ids": [targets[s]]} if s in targets else {"scope": s}
            for s in scopes]


def _session_expired(expired: datetime, now: datetime) -> str:
    fmt = "%A, %d-%b-%y %H:%M:%S %Z"
    return (f"Error validating access token: Session has expired on "
            f"{expired.astimezone(PACIFIC).strftime(fmt)}. The current time is "
            f"{now.astimezone(PACIFIC).strftime(fmt)}.")


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())
