"""Keeps secrets out of logs, stored errors and API answers.

Three nets: the values of secret query parameters (platform APIs take keys and tokens as `key=`,
`access_token=`, ...; httpx logs every URL), the password of any `//user:password@` in a URL,
and every secret this process knows (its settings' keys and passwords, and each credential it
encrypts or decrypts): such a secret, or any piece of 12 characters or more of it (an upstream
that echoes a prefix or suffix of a token), is replaced by ***. Shorter secrets are masked only
where they are named explicitly (`redact(text, secrets)`): on their own, 12 characters is where a
match stops being a coincidence.
"""

import logging
import re
from collections.abc import Iterable

from core.config import Settings
from core.platforms import all_secrets

SECRET_PARAMS = ("key", "api_key", "access_token", "input_token", "client_secret", "token")
REDACTED = "***"
FRAGMENT = 12  # the shortest piece of a known secret that is masked
_NAMES = "|".join(SECRET_PARAMS)
_PARAM = re.compile(rf"(?P<name>[?&](?:{_NAMES})=)[^&#\s\"']*", re.IGNORECASE)
# The password runs to the last @ before the host: passwords may hold @, : or /.
_USERINFO = re.compile(r"(?P<user>//[^\s:/@'\"]*):[^\s'\"]*@")
LOGGERS = ("httpx", "httpcore")
HANDLER_LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access")

_known: set[str] = set()
_pieces: set[str] = set()  # every FRAGMENT-long piece of every known secret


def remember(secrets: Iterable[str | None]) -> None:
    """Mask these secrets (12 characters or more) and their pieces from now on, everywhere."""
    for secret in secrets:
        if secret and len(secret) >= FRAGMENT and secret not in _known:
            _known.add(secret)
            _pieces.update(secret[i:i + FRAGMENT] for i in range(len(secret) - FRAGMENT + 1))


def remember_settings(settings: Settings) -> None:
    """Remember the secrets among the settings: platform and API keys, BEAT_SECRET_KEY, and the
    passwords in DATABASE_URL, REDIS_URL, AMQP_URL and CLICKHOUSE_URL."""
    api_keys = [entry.get_secret_value().partition("@")[0]
                for entry in [*settings.beat_api_keys, *settings.beat_admin_keys]]
    secret_key = settings.beat_secret_key.get_secret_value() if settings.beat_secret_key else ""
    remember([*all_secrets(settings), *api_keys, *secret_key.split(","),
              *(url_password(url) for url in (settings.database_url, settings.redis_url,
                                              settings.amqp_url, settings.clickhouse_url))])


def url_password(url: str | None) -> str | None:
    """The password in a URL's `user:password@`, even when the rest of the URL is malformed."""
    head = (url or "").rpartition("@")[0]
    user_info = head.rpartition("//")[2] if "//" in head else head.partition(":")[2]
    return user_info.partition(":")[2] or None


def redact_url(text: str) -> str:
    """`text` with the values of secret query parameters and URL passwords replaced by ***."""
    text = _PARAM.sub(lambda m: m["name"] + REDACTED, text)
    return _USERINFO.sub(lambda m: f"{m['user']}:{REDACTED}@", text)


def scrub(text: str) -> str:
    """`text` with every known secret, any 12-character piece of one, and secret URL parts
    replaced by ***."""
    return redact_url(_mask_pieces(text, _pieces))


def redact(text: str, secrets: Iterable[str]) -> str:
    """`scrub(text)`, also masking `secrets` (whole, at any length, and by their pieces)."""
    named = [secret for secret in secrets if secret]
    for secret in sorted(named, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    pieces = {s[i:i + FRAGMENT] for s in named for i in range(len(s) - FRAGMENT + 1)}
    return scrub(_mask_pieces(text, pieces))


def _mask_pieces(text: str, pieces: set[str]) -> str:
    """Replace every run of text covered by pieces of secrets with one ***."""
    if not pieces or len(text) < FRAGMENT:
        return text
    spans: list[list[int]] = []
    for start in range(len(text) - FRAGMENT + 1):
        if text[start:start + FRAGMENT] in pieces:
            if spans and start <= spans[-1][1]:
                spans[-1][1] = start + FRAGMENT
            else:
                spans.append([start, start + FRAGMENT])
    if not spans:
        return text
    parts, done = [], 0
    for start, end in spans:
        parts += [text[done:start], REDACTED]
        done = end
    return "".join(parts) + text[done:]


class RedactSecrets(logging.Filter):
    """Rewrites a record (message, arguments, traceback) so no secret reaches a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, dict):
            return True  # a structlog event: core.logs masks the line it becomes
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True  # a malformed record: logging reports it as it is
        record.msg, record.args = scrub(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        return True


_FILTER = RedactSecrets()


def install() -> None:
    """Add the filter to the HTTP client loggers (idempotent)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


def install_on_handlers() -> None:
    """Add the filter to every handler of the root and uvicorn loggers, so every record that is
    written passes it (idempotent; call again after logging is reconfigured)."""
    install()
    for name in HANDLER_LOGGERS:
        for handler in logging.getLogger(name).handlers:
            if _FILTER not in handler.filters:
                handler.addFilter(_FILTER)
