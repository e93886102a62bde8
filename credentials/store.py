"""The `credential` table through asyncpg: upsert (encrypting), masked listing, decrypted
reads for use, and the state changes (disable, enable, data access expired, validated).

`db` is an asyncpg pool or connection with the jsonb codec installed (core.db.create_pool).
"""

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from credentials.crypto import Crypto, SecretKeyError
from credentials.models import Credential, CredentialInfo

log = logging.getLogger(__name__)

COLUMNS = ("id, idempotency_key, source, credentials, handle, enabled, data_access_expired, "
           "disabled_till, validated_at, scopes, expires_at, data_access_expires_at, last_error, "
           "created_at, updated_at")

# New secrets under the same key: the previous validation no longer says anything about them.
_CHANGED = "(credential.credentials->>'fp' IS DISTINCT FROM EXCLUDED.credentials->>'fp')"
UPSERT = f"""
INSERT INTO credential (idempotency_key, source, credentials, handle, enabled)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (idempotency_key) DO UPDATE SET
    source = EXCLUDED.source,
    credentials = EXCLUDED.credentials,
    handle = COALESCE(EXCLUDED.handle, credential.handle),
    enabled = EXCLUDED.enabled,
    updated_at = now(),
    data_access_expired = credential.data_access_expired AND NOT {_CHANGED},
    validated_at = CASE WHEN {_CHANGED} THEN NULL ELSE credential.validated_at END,
    scopes = CASE WHEN {_CHANGED} THEN NULL ELSE credential.scopes END,
    expires_at = CASE WHEN {_CHANGED} THEN NULL ELSE credential.expires_at END,
    data_access_expires_at = CASE WHEN {_CHANGED} THEN NULL
                                  ELSE credential.data_access_expires_at END,
    last_error = CASE WHEN {_CHANGED} THEN NULL ELSE credential.last_error END
RETURNING {COLUMNS}, (xmax = 0) AS created
"""


def idempotency_key_for(crypto: Crypto, source: str, secrets: Mapping[str, str]) -> str:
    """`source:user_id` when the secrets name a user (a refreshed token replaces the old one),
    else `source:` + a keyed hash of the secrets; never the secret itself."""
    user = secrets.get("user_id")
    return f"{source}:{user}" if user else f"{source}:{crypto.fingerprint(secrets)[:16]}"


async def upsert(db: Any, crypto: Crypto, source: str, secrets: Mapping[str, str], *,
                 handle: str | None = None, enabled: bool = True,
                 idempotency_key: str | None = None) -> tuple[CredentialInfo, bool]:
    """Insert or replace the credential with this idempotency key: (record, created)."""
    key = idempotency_key or idempotency_key_for(crypto, source, secrets)
    row = await db.fetchrow(UPSERT, key, source, crypto.encrypt(secrets), handle, enabled)
    info = CredentialInfo.from_record(row)
    log.info("credential %d (%s) %s", info.id, source, "added" if row["created"] else "updated")
    return info, bool(row["created"])


async def list_infos(db: Any, source: str | None = None) -> list[CredentialInfo]:
    rows = await db.fetch(f"SELECT {COLUMNS} FROM credential WHERE $1::text IS NULL "
                          "OR source = $1 ORDER BY id", source)
    return [CredentialInfo.from_record(row) for row in rows]


async def get_info(db: Any, cred_id: int) -> CredentialInfo | None:
    row = await db.fetchrow(f"SELECT {COLUMNS} FROM credential WHERE id = $1", cred_id)
    return None if row is None else CredentialInfo.from_record(row)


async def get(db: Any, crypto: Crypto, cred_id: int) -> Credential | None:
    """The credential with its secrets decrypted (SecretKeyError if the key cannot)."""
    row = await db.fetchrow(f"SELECT {COLUMNS} FROM credential WHERE id = $1", cred_id)
    return None if row is None else _decrypted(crypto, row)


async def usable(db: Any, crypto: Crypto, source: str) -> list[Credential]:
    """Enabled credentials of `source` whose data access has not expired, decrypted; the caller
    filters out those resting (`disabled_till`). A row the key cannot decrypt is skipped."""
    rows = await db.fetch(f"SELECT {COLUMNS} FROM credential WHERE source = $1 AND enabled "
                          "AND NOT data_access_expired ORDER BY id", source)
    found = []
    for row in rows:
        try:
            found.append(_decrypted(crypto, row))
        except SecretKeyError as exc:
            log.warning("credential %d (%s) skipped: %s", row["id"], source, exc)
    return found


async def disable(db: Any, cred_id: int, ttl_s: float | None = None) -> CredentialInfo | None:
    """With `ttl_s`: rest that long (never shortening a longer rest); without: switch it off
    until `enable`."""
    if ttl_s is None:
        return await _update(db, "enabled = false", cred_id)
    return await _update(db, "disabled_till = GREATEST(disabled_till, now() + make_interval("
                         "secs => $2))", cred_id, float(ttl_s))


async def disable_until(db: Any, cred_id: int, until: datetime) -> CredentialInfo | None:
    """Rest until `until` (never shortening a longer rest)."""
    return await _update(db, "disabled_till = GREATEST(disabled_till, $2)", cred_id, until)


async def enable(db: Any, cred_id: int) -> CredentialInfo | None:
    """Switch it on and end any rest (data access expired stays until it validates)."""
    return await _update(db, "enabled = true, disabled_till = NULL", cred_id)


async def mark_data_access_expired(db: Any, cred_id: int,
                                   reason: str | None = None) -> CredentialInfo | None:
    return await _update(db, "data_access_expired = true, last_error = $2", cred_id, reason)


async def mark_validated(db: Any, cred_id: int, scopes: Sequence[str] | None,
                         expires_at: datetime | None,
                         data_access_expires_at: datetime | None = None) -> CredentialInfo | None:
    """A successful validation: back in use, with its scopes and expiry."""
    return await record_validation(db, cred_id, valid=True, scopes=scopes, expires_at=expires_at,
                                   data_access_expires_at=data_access_expires_at)


async def record_validation(db: Any, cred_id: int, *, valid: bool,
                            scopes: Sequence[str] | None, expires_at: datetime | None,
                            data_access_expires_at: datetime | None = None,
                            reason: str | None = None) -> CredentialInfo | None:
    """Store a validation outcome; an invalid one takes the credential out of use."""
    return await _update(
        db, "validated_at = now(), data_access_expired = NOT $2, scopes = $3, expires_at = $4, "
        "data_access_expires_at = $5, last_error = $6", cred_id, valid,
        None if scopes is None else list(scopes), expires_at, data_access_expires_at,
        None if valid else reason)


async def _update(db: Any, assignments: str, cred_id: int, *args: Any) -> CredentialInfo | None:
    row = await db.fetchrow(f"UPDATE credential SET {assignments}, updated_at = now() "
                            f"WHERE id = $1 RETURNING {COLUMNS}", cred_id, *args)
    return None if row is None else CredentialInfo.from_record(row)


def _decrypted(crypto: Crypto, row: Mapping[str, Any]) -> Credential:
    info = CredentialInfo.from_record(row)
    fields = {name: getattr(info, name) for name in CredentialInfo.__dataclass_fields__}
    return Credential(**fields, secrets=crypto.decrypt(row["credentials"] or {}))
