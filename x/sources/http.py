"""X's calls over the process's shared client (core.http.client): the status, decoded body
and headers come back to the source to classify, since on X they carry meaning (a 404 from
syndication is a tweet no one may see, a 403 a refused guest token, 429 a window spent with
its reset time in x-rate-limit-reset). Transport errors and 5xx become SourceUnavailable; a
200 whose body is not JSON UnknownShape (an error page's body that is not JSON is None)."""

import json
import time
from typing import Any

import httpx

from core.errors import SourceUnavailable
from core.http import JsonResponse, client
from core.parsing import UnknownShape

DEFAULT_WAIT_S = 900.0  # X's rate-limit windows are 15 minutes


async def call_json(source: str, method: str, url: str, *, params: dict[str, Any] | None = None,
                    headers: dict[str, str] | None = None) -> JsonResponse:
    """One call: its status, decoded body (None for an empty or non-JSON error body) and
    headers."""
    try:
        response = await client().request(method, url, params=params, headers=headers)
        content = await response.aread()
    except httpx.TimeoutException as exc:
        raise SourceUnavailable(f"{source}: timed out ({type(exc).__name__})") from None
    except httpx.HTTPError as exc:
        raise SourceUnavailable(f"{source}: {type(exc).__name__}: {exc}") from None
    if response.status_code >= 500:
        raise SourceUnavailable(f"{source}: HTTP {response.status_code}")
    if not content.strip():
        return JsonResponse(response.status_code, None, response.headers)
    try:
        decoded = json.loads(content)
    except (ValueError, RecursionError) as exc:
        if response.status_code != 200:
            return JsonResponse(response.status_code, None, response.headers)
        raise UnknownShape(f"{source}: HTTP 200 with a body that is not JSON "
                           f"({type(exc).__name__})") from None
    return JsonResponse(response.status_code, decoded, response.headers)


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
