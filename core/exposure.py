"""Whether the API may listen on a host: beyond loopback only with API keys. `beat server` and
`beat up` check it before starting anything; the app refuses again at start-up (core.api.auth)."""

import ipaddress
from collections.abc import Iterable

from pydantic import SecretStr

from core.config import Settings


class InsecureBind(ValueError):
    """Listening beyond loopback without API keys."""


def check_bind(host: str, settings: Settings) -> None:
    """Raise InsecureBind for a non-loopback `host` when no BEAT_API_KEYS are set."""
    if not _secrets(settings.beat_api_keys) and not is_loopback(host):
        raise InsecureBind(bind_refusal(host))


def is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False  # another host name: it may resolve to anything


def bind_refusal(host: str) -> str:
    return (f"refusing to listen on {host or 'all interfaces'} without API keys: set "
            "BEAT_API_KEYS (comma-separated) or bind to 127.0.0.1")


def _secrets(values: Iterable[SecretStr]) -> list[str]:
    return [v.get_secret_value().strip() for v in values if v.get_secret_value().strip()]
