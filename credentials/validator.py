"""Checks credentials against their platform: Graph API tokens through debug_token (valid,
REQUIRED_SCOPES granted, not expired), YouTube Data API keys through one cheap channels call."""

import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from core.config import Settings
from core.errors import RateLimited, SourceUnavailable, Unsupported
from core.http import get_json
from credentials import redact, store
from credentials.crypto import Crypto
from credentials.manager import Clock, utc_now
from credentials.models import Credential, CredentialInfo
from youtube.parse import parse_error

log = logging.getLogger(__name__)

REQUIRED_SCOPES = ("instagram_basic", "instagram_manage_insights", "pages_read_engagement",
                   "pages_show_list")
GRAPH_SOURCES = frozenset({"graphapi", "instagram_graph_api", "facebook_graph_api"})
YOUTUBE_SOURCES = frozenset({"ytapi", "youtube_data_api"})
YOUTUBE_PROBE_CHANNEL = "UC_x5XG1OV2P6uZZ5FSM9Ttw"  # Google for Developers: 1 quota unit
YOUTUBE_QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded"})
YOUTUBE_RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
GRAPH_RATE_CODES = frozenset({4, 17, 32, 613})  # app, user, page and custom rate limits
RATE_LIMIT_WAIT_S = 60.0
PACIFIC = ZoneInfo("America/Los_Angeles")


@dataclass(frozen=True, slots=True)
class ValidationResult:
    """`valid` False says why in `reason`; a valid key whose quota is spent has
    `exhausted_until` (when the quota resets)."""

    valid: bool
    scopes: tuple[str, ...] = ()
    expires_at: datetime | None = None
    data_access_expires_at: datetime | None = None
    reason: str | None = None
    exhausted_until: datetime | None = None


class Validator:
    """Secrets used: Graph `token` (or `access_token`), with `app_token` as the debug_token
    caller when present; YouTube `key` (or `api_key`)."""

    def __init__(self, graph_url: str, youtube_url: str, clock: Clock = utc_now,
                 required_scopes: tuple[str, ...] = REQUIRED_SCOPES) -> None:
        self.graph_url = graph_url.rstrip("/")
        self.youtube_url = youtube_url.rstrip("/")
        self.clock = clock
        self.required_scopes = required_scopes
        redact.install()

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock = utc_now) -> "Validator":
        return cls(settings.graph_base_url(), settings.youtube_base_url(), clock)

    async def validate(self, cred: Credential) -> ValidationResult:
        """The platform's verdict. Raises RateLimited / SourceUnavailable when it gave none,
        Unsupported for a source without a check."""
        if cred.source in GRAPH_SOURCES:
            result = await self._graph(cred)
        elif cred.source in YOUTUBE_SOURCES:
            result = await self._youtube(cred)
        else:
            raise Unsupported(f"no validation for credentials of source {cred.source!r}")
        if result.reason:
            result = replace(result, reason=redact.redact(result.reason, cred.secrets.values()))
        log.info("credential %d (%s) validated: %s", cred.id, cred.source,
                 "valid" if result.valid else result.reason)
        return result

    async def _graph(self, cred: Credential) -> ValidationResult:
        token = cred.secret("token", "access_token")
        if token is None:
            return ValidationResult(False, reason="no 'token' in the credentials")
        params = {"input_token": token, "access_token": cred.secret("app_token") or token}
        response = await get_json("graph_api", f"{self.graph_url}/debug_token", params=params)
        if response.status != 200:
            return _graph_error(response.body)
        data = response.body.get("data") if isinstance(response.body, dict) else None
        if not isinstance(data, dict):
            raise SourceUnavailable("graph_api: debug_token answered without a data object")
        return self._graph_verdict(data)

    def _graph_verdict(self, data: dict[str, Any]) -> ValidationResult:
        scopes = tuple(str(s) for s in data.get("scopes") or ())
        expires_at = _epoch(data.get("expires_at"))
        data_expires_at = _epoch(data.get("data_access_expires_at"))
        now = self.clock()
        reason = None
        missing = [s for s in self.required_scopes if s not in scopes]
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

    async def _youtube(self, cred: Credential) -> ValidationResult:
        key = cred.secret("key", "api_key")
        if key is None:
            return ValidationResult(False, reason="no 'key' in the credentials")
        params = {"part": "id", "id": YOUTUBE_PROBE_CHANNEL, "key": key}
        response = await get_json("youtube_data_api", f"{self.youtube_url}/channels",
                                  params=params)
        if response.status == 200:
            return ValidationResult(True)
        error = parse_error(response.body)
        reason = (error.reason if error else None) or f"HTTP {response.status}"
        if reason in YOUTUBE_QUOTA_REASONS:
            return ValidationResult(True, reason=None,
                                    exhausted_until=next_pacific_midnight(self.clock()))
        if reason in YOUTUBE_RATE_REASONS:
            raise RateLimited(RATE_LIMIT_WAIT_S, f"youtube_data_api: {reason}")
        message = error.message if error and error.message else ""
        return ValidationResult(False, reason=f"{reason}: {message}".rstrip(": "))


async def validate_and_record(db: Any, crypto: Crypto, validator: Validator, cred_id: int
                              ) -> tuple[ValidationResult, CredentialInfo] | None:
    """Validate stored credential `cred_id` and store the outcome (None: no such credential).
    A spent quota also rests the credential until the reset."""
    cred = await store.get(db, crypto, cred_id)
    if cred is None:
        return None
    result = await validator.validate(cred)
    info = await store.record_validation(
        db, cred.id, valid=result.valid, scopes=result.scopes, expires_at=result.expires_at,
        data_access_expires_at=result.data_access_expires_at, reason=result.reason)
    if result.exhausted_until is not None:
        info = await store.disable_until(db, cred.id, result.exhausted_until)
    assert info is not None, f"credential {cred_id} vanished while being validated"
    return result, info


def next_pacific_midnight(now: datetime) -> datetime:
    """When the Data API's daily quota resets: the next midnight in Pacific time, in UTC."""
    tomorrow = now.astimezone(PACIFIC).date() + timedelta(days=1)
    return datetime.combine(tomorrow, time(0), PACIFIC).astimezone(UTC)


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

