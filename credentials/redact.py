"""Keeps secrets out of logs: httpx logs every request URL, and platform APIs take keys and
tokens as query parameters (key=, access_token=, input_token=)."""

import logging
import re
from collections.abc import Iterable

SECRET_PARAMS = ("key", "api_key", "access_token", "input_token", "client_secret", "token")
REDACTED = "***"
_NAMES = "|".join(SECRET_PARAMS)
_PARAM = re.compile(rf"(?P<name>[?&](?:{_NAMES})=)[^&#\s\"']*", re.IGNORECASE)
LOGGERS = ("httpx", "httpcore")


def redact_url(text: str) -> str:
    """`text` with the values of secret query parameters replaced by ***."""
    return _PARAM.sub(lambda m: m["name"] + REDACTED, text)


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret value (and secret query parameter) replaced by ***."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return redact_url(text)


class RedactSecrets(logging.Filter):
    """Rewrites a record's message and arguments so no secret query value reaches a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_url(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_clean(arg) for arg in record.args)
        return True


def _clean(arg: object) -> object:
    if isinstance(arg, (str, int, float)) or arg is None:
        return redact_url(arg) if isinstance(arg, str) else arg
    text = str(arg)  # httpx.URL and the like
    cleaned = redact_url(text)
    return arg if cleaned == text else cleaned


_FILTER = RedactSecrets()


def install() -> None:
    """Add the filter to the HTTP client loggers (idempotent)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
