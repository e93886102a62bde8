"""Encryption at rest of credential secrets (Fernet): the keys come from BEAT_SECRET_KEY, or (only
with the embedded database) from a key file created once under BEAT_HOME (mode 0600).

Fingerprints (which secrets are equal, without storing them) are HMACs under a key derived from
each encryption key. New rows are fingerprinted under the first key; during a rotation
(`BEAT_SECRET_KEY=new,old`) the fingerprints under every listed key are recognised, and
`beat credentials rotate-key` re-encrypts each row and re-fingerprints it under the first key.
Why not one fingerprint key that never changes: it would have to be stored somewhere with a
lifecycle of its own (a key derived from one of the listed keys is retired with that key by the
rotation), and it would keep confirming guessed secrets for whoever holds it long after the
encryption key it came with was retired. Following the key set keeps equal secrets equal across
the whole rotation, and once the old key is dropped nothing depends on it any more.
"""

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

from core.config import ConfigError, Settings
from credentials import redact

log = logging.getLogger(__name__)

KEY_FILE = "secret.key"
VERSION = 1
MASK = "****"
MASK_MIN_LENGTH = 12  # shorter values show no characters at all


class SecretKeyError(RuntimeError):
    """The secret key is missing or malformed, or cannot decrypt a stored credential."""


class Undecryptable(SecretKeyError):
    """A stored credential was encrypted with a key that is not among the configured ones."""


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
    decrypts. `key_source` names where the keys came from, for error messages."""

    def __init__(self, keys: Sequence[str], key_source: str = "BEAT_SECRET_KEY") -> None:
        keys = [key.strip() for key in keys if key.strip()]
        if not keys:
            raise SecretKeyError("no secret key given")
        try:
            self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])
        except ValueError:
            raise SecretKeyError("BEAT_SECRET_KEY is not a Fernet key (32 url-safe base64-encoded "
                                 "bytes): make one with `beat credentials generate-key`"
                                 ) from None
        self._fp_keys = [hashlib.sha256(b"beat credential fingerprint:" + key.encode()).digest()
                         for key in keys]
        self.key_source = key_source

    @classmethod
    def from_settings(cls, settings: Settings) -> "Crypto":
        """BEAT_SECRET_KEY (checked: SecretKeyError with the one-line reason), or the key file
        under BEAT_HOME where the settings allow one (the embedded database, or none)."""
        try:
            keys = settings.secret_keys()
        except ConfigError as exc:
            raise SecretKeyError(str(exc)) from None
        if keys:
            return cls(keys)
        path = settings.beat_home / KEY_FILE
        return cls([load_or_create_key(path)], key_source=f"the key file {path}")

    def encrypt(self, secrets: Mapping[str, str]) -> dict[str, Any]:
        """The stored shape; "fp" (a keyed hash) tells whether secrets changed, "masked" shows
        them without decrypting."""
        redact.remember(secrets.values())
        return {"v": VERSION, "ciphertext": self._fernet.encrypt(_plaintext(secrets)).decode(),
                "fp": self.fingerprint(secrets), "masked": masked(secrets)}

    def fingerprint(self, secrets: Mapping[str, str]) -> str:
        """HMAC of the secrets under the first key: equal secrets, equal fingerprints."""
        return self.fingerprints(secrets)[0]

    def fingerprints(self, secrets: Mapping[str, str]) -> list[str]:
        """The fingerprint under each configured key, the first key's first: a row stored
        before a rotation carries one of the later ones."""
        plaintext = _plaintext(secrets)
        return [hmac.new(key, plaintext, hashlib.sha256).hexdigest()[:32]
                for key in self._fp_keys]

    def decrypt(self, stored: Mapping[str, Any]) -> dict[str, str]:
        if stored.get("v") != VERSION or not isinstance(stored.get("ciphertext"), str):
            raise SecretKeyError("credential is not in the encrypted shape: insert it again")
        try:
            plaintext = self._fernet.decrypt(stored["ciphertext"].encode())
        except InvalidToken:
            raise Undecryptable(self.undecryptable()) from None
        secrets = json.loads(plaintext)
        if not isinstance(secrets, dict):
            raise SecretKeyError("credential decrypts to something that is not an object")
        decrypted = {str(k): str(v) for k, v in secrets.items()}
        redact.remember(decrypted.values())  # masked wherever this process writes text
        return decrypted

    def reencrypt(self, stored: Mapping[str, Any]) -> dict[str, Any]:
        """`stored` encrypted with the first key (MultiFernet.rotate) and fingerprinted under
        it; Undecryptable when no configured key reads it."""
        secrets = self.decrypt(stored)
        ciphertext = self._fernet.rotate(stored["ciphertext"].encode()).decode()
        return {**stored, "ciphertext": ciphertext, "fp": self.fingerprint(secrets)}

    def undecryptable(self, cred_id: int | None = None) -> str:
        """The one-line reason a credential cannot be read."""
        which = "credential" if cred_id is None else f"credential {cred_id}"
        return f"{which} cannot be decrypted with {self.key_source}: it was encrypted with " \
               "another key"


def _plaintext(secrets: Mapping[str, str]) -> bytes:
    return json.dumps(dict(secrets), separators=(",", ":"), sort_keys=True).encode()
