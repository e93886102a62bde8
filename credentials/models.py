"""A stored credential: what may be shown (masked secrets) and, for use, its decrypted secrets."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class CredentialInfo:
    """A credential row without its secrets (`masked` shows "****" + the last 4 characters).

    `enabled` is the operator's switch; `disabled_till` a temporary rest (rate limit, quota);
    `data_access_expired` keeps it out of use until it validates again."""

    id: int
    idempotency_key: str
    source: str
    handle: str | None
    enabled: bool
    data_access_expired: bool
    disabled_till: datetime | None
    masked: dict[str, str]
    validated_at: datetime | None
    scopes: tuple[str, ...] | None
    expires_at: datetime | None
    data_access_expires_at: datetime | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime | None
    # What the platform last said of its budget (CredentialManager.observed): {"at", and
    # "used_pct" with "regains_at", or "remaining" and "limit" with "resets_at"}.
    usage: dict[str, Any] | None = None

    @classmethod
    def from_record(cls, row: Mapping[str, Any]) -> "CredentialInfo":
        stored = row["credentials"] or {}
        scopes = row["scopes"]
        return cls(
            id=row["id"], idempotency_key=row["idempotency_key"], source=row["source"],
            handle=row["handle"], enabled=row["enabled"],
            data_access_expired=row["data_access_expired"], disabled_till=row["disabled_till"],
            masked=dict(stored.get("masked") or {}), validated_at=row["validated_at"],
            scopes=None if scopes is None else tuple(scopes), expires_at=row["expires_at"],
            data_access_expires_at=row["data_access_expires_at"], last_error=row["last_error"],
            created_at=row["created_at"], updated_at=row["updated_at"],
            usage=row.get("usage"))

    def resting(self, now: datetime) -> bool:
        """Disabled for now: `disabled_till` is still in the future."""
        return self.disabled_till is not None and self.disabled_till > now


@dataclass(frozen=True, slots=True)
class Credential(CredentialInfo):
    """A credential ready for use. `secrets` (e.g. {"key": ...} or {"token": ...}) is left out
    of repr and comparisons, so logging the object shows no secret."""

    secrets: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def secret(self, *names: str) -> str | None:
        """The first of `names` present in the secrets."""
        return next((self.secrets[n] for n in names if self.secrets.get(n)), None)


@dataclass(frozen=True, slots=True)
class ValidationResult:
    """A platform's verdict on a credential: `valid` False says why in `reason`; a valid key
    whose quota is spent has `exhausted_until` (when the quota resets)."""

    valid: bool
    scopes: tuple[str, ...] = ()
    expires_at: datetime | None = None
    data_access_expires_at: datetime | None = None
    reason: str | None = None
    exhausted_until: datetime | None = None
