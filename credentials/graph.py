"""Graph API access tokens (shared by the Graph-based platforms) checked through debug_token:
valid, REQUIRED_SCOPES granted, not expired. GRAPH_API_URL names the Graph API."""

from datetime import UTC, datetime
from typing import Any

from pydantic_settings import BaseSettings, SettingsConfigDict

from core.config import Settings
from core.errors import RateLimited, SourceUnavailable
from core.http import get_json
from core.platforms import sandboxed
from credentials.models import Clock, Credential, ValidationResult

REQUIRED_SCOPES = ("instagram_basic", "instagram_manage_insights", "pages_read_engagement",
                   "pages_show_list")
GRAPH_SOURCES = ("graphapi", "instagram_graph_api", "facebook_graph_api")
GRAPH_RATE_CODES = frozenset({4, 17, 32, 613})  # app, user, page and custom rate limits
RATE_LIMIT_WAIT_S = 60.0


class GraphSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    graph_api_url: str = "https://graph.facebook.com/v19.0"

    def base_url(self, settings: Settings) -> str:
        return sandboxed(settings, "graph", self.graph_api_url)


async def check_token(cred: Credential, settings: Settings, clock: Clock,
                      required_scopes: tuple[str, ...] = REQUIRED_SCOPES) -> ValidationResult:
    """Secrets used: `token` (or `access_token`), with `app_token` as the debug_token caller
    when present."""
    token = cred.secret("token", "access_token")
    if token is None:
        return ValidationResult(False, reason="no 'token' in the credentials")
    params = {"input_token": token, "access_token": cred.secret("app_token") or token}
    url = GraphSettings().base_url(settings).rstrip("/")
    response = await get_json("graph_api", f"{url}/debug_token", params=params)
    if response.status != 200:
        return _graph_error(response.body)
    data = response.body.get("data") if isinstance(response.body, dict) else None
    if not isinstance(data, dict):
        raise SourceUnavailable("graph_api: debug_token answered without a data object")
    return _verdict(data, clock(), required_scopes)


def _verdict(data: dict[str, Any], now: datetime,
             required_scopes: tuple[str, ...]) -> ValidationResult:
    scopes = tuple(str(s) for s in data.get("scopes") or ())
    expires_at = _epoch(data.get("expires_at"))
    data_expires_at = _epoch(data.get("data_access_expires_at"))
    reason = None
    missing = [s for s in required_scopes if s not in scopes]
    error = data.get("error")
    error = error if isinstance(error, dict) else {}
    if not data.get("is_valid"):
        reason = "token is not valid: " + str(error.get("message") or "no reason given")
    elif data_expires_at is not None and data_expires_at <= now:
        reason = f"data access expired at {data_expires_at.isoformat()}"
    elif expires_at is not None and expires_at <= now:
        reason = f"token expired at {expires_at.isoformat()}"
    elif missing:
        reason = "missing scopes: " + ", ".join(missing)
    return ValidationResult(reason is None, scopes, expires_at, data_expires_at, reason)


def _graph_error(body: Any) -> ValidationResult:
    """A Graph API error body ({"error": {"message", "type", "code", ...}}): the token (or the
    caller's token) was refused, unless the code is a rate limit."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        raise SourceUnavailable("graph_api: debug_token failed without an error object")
    code = error.get("code")
    if code in GRAPH_RATE_CODES:
        raise RateLimited(RATE_LIMIT_WAIT_S, f"graph_api: rate limited (code {code})")
    subcode = f"/{error['error_subcode']}" if error.get("error_subcode") else ""
    kind = error.get("type") or "error"
    return ValidationResult(False, reason=f"{kind} {code}{subcode}: {error.get('message')}")


def _epoch(value: Any) -> datetime | None:
    """Graph timestamps: epoch seconds, 0 meaning never."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        return None
    return datetime.fromtimestamp(value, UTC)
