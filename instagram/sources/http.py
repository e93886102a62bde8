"""Instagram's calls over the process's shared client (core.http.client): a GET or a JSON POST
whose redirects and client errors come back to the source to classify, since on Instagram they
carry meaning (a 302 to /accounts/login/ is the web's throttle, a 403 a refused key). Transport
errors and 5xx become SourceUnavailable; a 200 whose body is not JSON UnknownShape (an error
page's body that is not JSON comes back as None)."""

import json
from typing import Any

import httpx

from core.errors import SourceUnavailable
from core.http import JsonResponse, client
from core.parsing import UnknownShape


async def call_json(source: str, method: str, url: str, *, params: dict[str, Any] | None = None,
                    body: Any = None, headers: dict[str, str] | None = None) -> JsonResponse:
    """One call; the answer's status, decoded body (None for a redirect or an empty body) and
    headers."""
    try:
        response = await client().request(method, url, params=params, json=body,
                                          headers=headers)
        content = await response.aread()
    except httpx.TimeoutException as exc:
        raise SourceUnavailable(f"{source}: timed out ({type(exc).__name__})") from None
    except httpx.HTTPError as exc:
        raise SourceUnavailable(f"{source}: {type(exc).__name__}: {exc}") from None
    if response.status_code >= 500:
        raise SourceUnavailable(f"{source}: HTTP {response.status_code}")
    if response.is_redirect or not content.strip():
        return JsonResponse(response.status_code, None, response.headers)
    try:
        decoded = json.loads(content)
    except (ValueError, RecursionError) as exc:
        if response.status_code != 200:  # an HTML error page: its status says enough
            return JsonResponse(response.status_code, None, response.headers)
        raise UnknownShape(f"{source}: HTTP {response.status_code} with a body that is not JSON "
                           f"({type(exc).__name__})") from None
    return JsonResponse(response.status_code, decoded, response.headers)
