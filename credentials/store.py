"""The `credential` table through asyncpg: upsert (encrypting), masked listing, decrypted
reads for use, and the state changes (disable, enable, data access expired, validated).

`db` is an asyncpg pool or connection with the jsonb codec installed (core.db.create_pool).
"""

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from credentials.crypto import Crypto, SecretKeyError, Undecryptable
from credentials.models import Credential, CredentialInfo

log = logging.getLogger(__name__)

COLUMNS = ("id, idempotency_key, source, credentials, handle, enabled, data_access_expired, "
           "disabled_till, validated_at, scopes, expires_at, data_access_expires_at, last_error, "
           "created_at, updated_at, usage")

# New secrets under the same key: the previous validation no longer says anything about them.
# $6: the new secrets' fingerprints under every configured key (a row may predate a rotation).
_CHANGED = "(NOT COALESCE(credential.credentials->>'fp' = ANY($6::text[]), false))"
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
    return _candidate_keys(crypto, source, secrets)[0]


def _candidate_keys(crypto: Crypto, source: str, secrets: Mapping[str, str]) -> list[str]:
    """The idempotency keys these secrets may be stored under: one per configured key."""
    user = secrets.get("user_id")
    if user:
        return [f"{source}:{user}"]
    return list(dict.fromkeys(f"{source}:{fp[:16]}" for fp in crypto.fingerprints(secrets)))


async def _stored_key(db: Any, crypto: Crypto, source: str, secrets: Mapping[str, str]) -> str:
    """The idempotency key of the row already holding these secrets (fingerprinted under any
    configured key), else the one under the first key: a rotation adds no second row."""
    candidates = _candidate_keys(crypto, source, secrets)
    if len(candidates) == 1:
        return candidates[0]
    found = await db.fetchval("SELECT idempotency_key FROM credential WHERE idempotency_key = "
                              "ANY($1::text[]) ORDER BY array_position($1::text[], "
                              "idempotency_key) LIMIT 1", candidates)
    return str(found) if found else candidates[0]


async def upsert(db: Any, crypto: Crypto, source: str, secrets: Mapping[str, str], *,
                 handle: str | None = None, enabled: bool = True,
                 idempotency_key: str | None = None) -> tuple[CredentialInfo, bool]:
    """Insert or replace the credential with this idempotency key: (record, created)."""
    key = idempotency_key or await _stored_key(db, crypto, source, secrets)
    row = await db.fetchrow(UPSERT, key, source, crypto.encrypt(secrets), handle, enabled,
                            crypto.fingerprints(secrets))
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


@dataclass
class Usable:
    """The usable credentials of a source, and why others that should be are not (a row the
    key cannot decrypt)."""

    credentials: list[Credential] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


async def load_usable(db: Any, crypto: Crypto, source: str) -> Usable:
    """Enabled credentials of `source` whose data access has not expired, decrypted; the caller
    filters out those resting (`disabled_till`). A row the key cannot decrypt is a problem."""
    rows = await db.fetch(f"SELECT {COLUMNS} FROM credential WHERE source = $1 AND enabled "
                          "AND NOT data_access_expired ORDER BY id", source)
    found = Usable()
    for row in rows:
        try:
            found.credentials.append(_decrypted(crypto, row))
        except SecretKeyError as exc:
            log.warning("credential %d (%s) skipped: %s", row["id"], source, exc)
            found.problems.append(str(exc))
    return found


async def usable_for(db: Any, crypto: Crypto, source: str, owner: str) -> Credential | None:
    """The usable credential of `source` that speaks for `owner` (an account or channel id):
    its `handle` is `owner`, or it was stored with user_id `owner`; the newest if several."""
    row = await db.fetchrow(f"SELECT {COLUMNS} FROM credential WHERE source = $1 AND enabled "
                            "AND NOT data_access_expired AND (handle = $2 OR idempotency_key = "
                            "$1 || ':' || $2) ORDER BY updated_at DESC NULLS LAST, id DESC "
                            "LIMIT 1", source, owner)
    return None if row is None else _decrypted(crypto, row)


async def replace_secrets(db: Any, crypto: Crypto, cred_id: int,
                          secrets: Mapping[str, str]) -> CredentialInfo | None:
    """New secrets for the same credential (a refreshed access token), encrypted; its
    validation and state stay as they are."""
    return await _update(db, "credentials = $2", cred_id, crypto.encrypt(secrets))


async def usable(db: Any, crypto: Crypto, source: str) -> list[Credential]:
    """The decryptable part of `load_usable`."""
    return (await load_usable(db, crypto, source)).credentials


async def unreadable(db: Any, crypto: Crypto, source: str | None = None) -> dict[int, str]:
    """Credential id -> why it cannot be decrypted, for every row the keys cannot read."""
    rows = await db.fetch("SELECT id, credentials FROM credential WHERE $1::text IS NULL "
                          "OR source = $1 ORDER BY id", source)
    problems = {}
    for row in rows:
        try:
            crypto.decrypt(row["credentials"] or {})
        except Undecryptable:
            problems[row["id"]] = crypto.undecryptable(row["id"])
        except SecretKeyError as exc:
            problems[row["id"]] = f"credential {row['id']}: {exc}"
    return problems


@dataclass
class Rotation:
    """What `rotate_key` did: rows re-encrypted with the first key, rows it could not read."""

    reencrypted: int = 0
    problems: list[str] = field(default_factory=list)


async def rotate_key(db: Any, crypto: Crypto) -> Rotation:
    """Re-encrypt every credential with the first key and fingerprint it under that key (its
    idempotency key too, when that was a fingerprint), in one transaction. Rows no configured
    key can read are left as they are and reported."""
    outcome = Rotation()
    async with db.acquire() as conn, conn.transaction():
        rows = await conn.fetch("SELECT id, source, idempotency_key, credentials FROM "
                                "credential ORDER BY id FOR UPDATE")
        taken = {row["idempotency_key"] for row in rows}
        for row in rows:
            try:
                stored = crypto.reencrypt(row["credentials"] or {})
                secrets = crypto.decrypt(stored)
            except Undecryptable:
                outcome.problems.append(crypto.undecryptable(row["id"]))
                continue
            except SecretKeyError as exc:
                outcome.problems.append(f"credential {row['id']}: {exc}")
                continue
            key = _rekeyed(crypto, row["source"], secrets, row["idempotency_key"], taken)
            await conn.execute("UPDATE credential SET credentials = $2, idempotency_key = $3, "
                               "updated_at = now() WHERE id = $1", row["id"], stored, key)
            outcome.reencrypted += 1
    log.info("re-encrypted %d credentials with the first key", outcome.reencrypted)
    return outcome


def _rekeyed(crypto: Crypto, source: str, secrets: Mapping[str, str], key: str,
             taken: set[str]) -> str:
    """The idempotency key under the first key when `key` was a fingerprint under another."""
    candidates = _candidate_keys(crypto, source, secrets)
    if key not in candidates[1:] or candidates[0] in taken:
        return key
    taken.discard(key)
    taken.add(candidates[0])
    return candidates[0]


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


async def record_usage(db: Any, cred_id: int, usage: Mapping[str, Any]) -> None:
    """The usage the platform last reported for it (CredentialManager.observed)."""
    await db.execute("UPDATE credential SET usage = $2 WHERE id = $1", cred_id, dict(usage))


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
    try:
        secrets = crypto.decrypt(row["credentials"] or {})
    except Undecryptable:
        raise Undecryptable(crypto.undecryptable(info.id)) from None
    except SecretKeyError as exc:
        raise SecretKeyError(f"credential {info.id}: {exc}") from None
    return Credential(**fields, secrets=secrets)
