"""X's rate-limit windows: how long until the window of an answer's x-rate-limit-reset ends
(the calls themselves go through core.http.request_json: on X a 404 from syndication is a tweet
no one may see, a 403 a refused guest token, 429 a window spent)."""

import time
from datetime import UTC, datetime
from typing import Any

import httpx

DEFAULT_WAIT_S = 900.0  # X's rate-limit windows are 15 minutes


def reset_wait(headers: httpx.Headers, now: float | None = None) -> float:
    """Seconds until the window of x-rate-limit-reset (epoch seconds) ends; Retry-After or
    DEFAULT_WAIT_S without one."""
    for name, relative in (("x-rate-limit-reset", False), ("retry-after", True)):
        try:
            value = float(headers.get(name, ""))
        except ValueError:
            continue
        return max(0.0, value if relative else value - (now or time.time()))
    return DEFAULT_WAIT_S


def window_of(headers: httpx.Headers) -> dict[str, Any] | None:
    """X's word on the caller's window (x-rate-limit-remaining of -limit until -reset, epoch
    seconds), as a credential's last reported usage; None when the answer carries none."""
    try:
        remaining = int(headers["x-rate-limit-remaining"])
        limit = int(headers.get("x-rate-limit-limit", ""))
        resets = datetime.fromtimestamp(float(headers.get("x-rate-limit-reset", "")), UTC)
    except (KeyError, ValueError, OverflowError, OSError):
        return None
    return {"remaining": remaining, "limit": limit, "resets_at": resets.isoformat()}
