"""Encryption at rest: the key file (created once, mode 0600, reused), BEAT_SECRET_KEY, rotation,
the stored shape, masking, and redaction of secrets in logged URLs."""

import json
import logging
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pydantic import SecretStr

from core.config import Settings
from credentials import redact
from credentials.crypto import (
    KEY_FILE,
    Crypto,
    SecretKeyError,
    generate_key,
    load_or_create_key,
    mask,
)

SECRET = "AIzaSyD-very-secret-api-key-0123456789"


def settings_for(home: Path, key: str | None = None) -> Settings:
    return Settings(beat_home=home, beat_secret_key=SecretStr(key) if key else None)


def test_key_file_is_created_private_and_reused(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = Crypto.from_settings(settings_for(home))
    path = home / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    content = path.read_text()
    second = Crypto.from_settings(settings_for(home))
    assert path.read_text() == content
    assert second.decrypt(first.encrypt({"key": SECRET})) == {"key": SECRET}
    assert [p.name for p in home.iterdir()] == [KEY_FILE]  # no temp file left behind


def test_concurrent_starters_agree_on_one_key(tmp_path: Path) -> None:
    path = tmp_path / KEY_FILE
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: load_or_create_key(path), range(16)))
    assert len(keys) == 1 and path.read_text().strip() in keys


def test_configured_key_is_used_and_no_file_is_written(tmp_path: Path) -> None:
    key = generate_key()
    crypto = Crypto.from_settings(settings_for(tmp_path, key))
    assert not (tmp_path / KEY_FILE).exists()
    assert Crypto([key]).decrypt(crypto.encrypt({"key": SECRET})) == {"key": SECRET}


def test_stored_shape_holds_ciphertext_not_the_secret(crypto: Crypto) -> None:
    stored = crypto.encrypt({"key": SECRET, "user_id": "17841400000000001"})
    assert stored["v"] == 1 and set(stored) == {"v", "ciphertext", "fp", "masked"}
    assert SECRET not in json.dumps(stored)
    assert stored["masked"] == {"key": "****6789", "user_id": "****0001"}
    assert crypto.decrypt(stored) == {"key": SECRET, "user_id": "17841400000000001"}


def test_masking_hides_short_values_entirely() -> None:
    assert mask("short-secret") == "****cret"
    assert mask("tiny") == "****" and mask("eleven-char") == "****"


def test_another_key_cannot_decrypt(crypto: Crypto) -> None:
    stored = crypto.encrypt({"key": SECRET})
    with pytest.raises(SecretKeyError, match="cannot be decrypted"):
        Crypto([generate_key()]).decrypt(stored)
    with pytest.raises(SecretKeyError, match="not in the encrypted shape"):
        crypto.decrypt({"key": SECRET})


def test_malformed_key_is_refused_without_echoing_it(tmp_path: Path) -> None:
    with pytest.raises(SecretKeyError) as raised:
        Crypto.from_settings(settings_for(tmp_path, "not-a-fernet-key"))
    assert "not-a-fernet-key" not in str(raised.value)


def test_rotation_first_key_encrypts_any_decrypts() -> None:
    old, new = generate_key(), generate_key()
    stored_old = Crypto([old]).encrypt({"key": SECRET})
    rotated = Crypto([new, old])
    assert rotated.decrypt(stored_old) == {"key": SECRET}
    assert Crypto([new]).decrypt(rotated.encrypt({"key": SECRET})) == {"key": SECRET}


def test_fingerprint_tells_equal_secrets_without_revealing_them(crypto: Crypto) -> None:
    same = crypto.fingerprint({"key": SECRET})
    assert same == crypto.fingerprint({"key": SECRET}) != crypto.fingerprint({"key": "other"})
    assert same != Crypto([generate_key()]).fingerprint({"key": SECRET})
    assert SECRET not in same


def test_secret_query_values_are_redacted_in_logged_urls(caplog: pytest.LogCaptureFixture
                                                         ) -> None:
    url = (f"https://graph.example/debug_token?input_token={SECRET}&access_token={SECRET}"
           f"&fields=id&pageToken=abc")
    assert redact.redact_url(url) == ("https://graph.example/debug_token?input_token=***"
                                      "&access_token=***&fields=id&pageToken=abc")
    assert redact.redact(f"refused {SECRET}", [SECRET]) == "refused ***"
    redact.install()
    redact.install()
    assert logging.getLogger("httpx").filters.count(redact._FILTER) == 1
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("httpx").info("HTTP Request: %s %s", "GET", url + f"&key={SECRET}")
    assert SECRET not in caplog.text and "key=***" in caplog.text
