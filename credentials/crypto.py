"""Encryption at rest of credential secrets (Fernet): the key comes from BEAT_SECRET_KEY, or is
created once under BEAT_HOME (mode 0600) and reused."""

import hashlib
import hmac
import json
import logging
import os
import stat
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from core.config import Settings

log = logging.getLogger(__name__)

KEY_FILE = "secret.key"
VERSION = 1
MASK = "****"
MASK_MIN_LENGTH = 12  # shorter values show no characters at all


class SecretKeyError(RuntimeError):
    """The secret key is malformed, or cannot decrypt a stored credential."""


def generate_key() -> str:
    return Fernet.generate_key().decode()


def mask(value: str) -> str:
    """"****" plus the last 4 characters (only for values long enough to keep the rest hidden)."""
    return MASK + value[-4:] if len(value) >= MASK_MIN_LENGTH else MASK


def masked(secrets: Mapping[str, str]) -> dict[str, str]:
    return {name: mask(value) for name, value in secrets.items()}


def load_or_create_key(path: Path) -> str:
    """The key in `path`, created (mode 0600, atomically: concurrent starters agree) if absent."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(generate_key() + "\n")
            os.link(temp, path)  # fails if another process created it first: theirs wins
            log.info("created a secret key for credentials at %s", path)
        except FileExistsError:
            pass
        finally:
            temp.unlink(missing_ok=True)
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        log.warning("secret key file %s is readable by others: chmod 600 it", path)
    return path.read_text().strip()


class Crypto:
    """Encrypts a credential's secrets into the stored shape {"v", "ciphertext", "fp", "masked"}.

    Several keys (comma-separated BEAT_SECRET_KEY) allow rotation: the first encrypts, any
    decrypts."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise SecretKeyError("no secret key given")
        try:
            self._fernet = MultiFernet([Fernet(key.strip().encode()) for key in keys])
        except ValueError:
            raise SecretKeyError("BEAT_SECRET_KEY is not a Fernet key (32 url-safe base64-encoded "
                                 "bytes): generate one with credentials.crypto.generate_key()"
                                 ) from None
        self._fp_key = hashlib.sha256(b"beat credential fingerprint:" + keys[0].strip().encode()
                                      ).digest()

    @classmethod
    def from_settings(cls, settings: Settings) -> "Crypto":
        configured = settings.beat_secret_key
        if configured is not None and configured.get_secret_value().strip():
            keys = [k for k in configured.get_secret_value().split(",") if k.strip()]
            return cls(keys)
        return cls([load_or_create_key(settings.beat_home / KEY_FILE)])

    def encrypt(self, secrets: Mapping[str, str]) -> dict[str, Any]:
        """The stored shape; "fp" (a keyed hash) tells whether secrets changed, "masked" shows
        them without decrypting."""
        return {"v": VERSION, "ciphertext": self._fernet.encrypt(_plaintext(secrets)).decode(),
                "fp": self.fingerprint(secrets), "masked": masked(secrets)}

    def fingerprint(self, secrets: Mapping[str, str]) -> str:
        """HMAC of the secrets under the (first) key: equal secrets, equal fingerprints."""
        return hmac.new(self._fp_key, _plaintext(secrets), hashlib.sha256).hexdigest()[:32]

    def decrypt(self, stored: Mapping[str, Any]) -> dict[str, str]:
        if stored.get("v") != VERSION or not isinstance(stored.get("ciphertext"), str):
            raise SecretKeyError("credential is not in the encrypted shape: insert it again")
        try:
            plaintext = self._fernet.decrypt(stored["ciphertext"].encode())
        except InvalidToken:
            raise SecretKeyError("credential cannot be decrypted with the configured "
                                 "BEAT_SECRET_KEY (was the key changed?)") from None
        secrets = json.loads(plaintext)
        if not isinstance(secrets, dict):
            raise SecretKeyError("credential decrypts to something that is not an object")
        return {str(k): str(v) for k, v in secrets.items()}


def _plaintext(secrets: Mapping[str, str]) -> bytes:
    return json.dumps(dict(secrets), separators=(",", ":"), sort_keys=True).encode()
