"""The process's one pooled httpx.AsyncClient, and the translation of transport failures and
HTTP statuses that mean the same on every platform into Beat's errors (core/errors.py)."""

import json
from dataclasses import dataclass
from typing import Any

import httpx

from core.errors import RateLimited, SourceUnavailable
from core.parsing import UnknownShape

DEFAULT_TIMEOUT = httpx.Timeout(15.0, connect=5.0)
DEFAULT_LIMITS = httpx.Limits(max_connections=200, max_keepalive_connections=50)
DEFAULT_RETRY_AFTER = 30.0

_client: httpx.AsyncClient | None = None


def client() -> httpx.AsyncClient:
    """The shared client (created on first use, in the running event loop's process)."""
    global _client
    if _client is None or _client.is_closed:
        # No transport retries: a failed call is the caller's to classify and retry.
        _client = httpx.AsyncClient(timeout=DEFAULT_TIMEOUT, limits=DEFAULT_LIMITS,
                                    transport=httpx.AsyncHTTPTransport(retries=0,
                                                                       limits=DEFAULT_LIMITS),
                                    follow_redirects=False)
    return _client


def use_client(replacement: httpx.AsyncClient | None) -> None:
    """Install a client (tests pass one with httpx.MockTransport); None resets to the default."""
    global _client
    _client = replacement


async def close_client() -> None:
    global _client
    if _client is not None:
        await _client.aclose()
    _client = None


@dataclass(frozen=True, slots=True)
class JsonResponse:
    status: int
    body: Any
    headers: httpx.Headers


async def get_json(source: str, url: str, params: dict[str, Any] | None = None,
                   headers: dict[str, str] | None = None) -> JsonResponse:
    """GET a JSON document. Transport errors and 5xx become SourceUnavailable, 429 RateLimited,
    a body that is not JSON UnknownShape; other statuses are returned for the source to
    classify."""
    try:
        response = await client().get(url, params=params, headers=headers)
        content = await response.aread()
    except httpx.TimeoutException as exc:
        raise SourceUnavailable(f"{source}: timed out ({type(exc).__name__})") from None
    except httpx.HTTPError as exc:
        raise SourceUnavailable(f"{source}: {type(exc).__name__}: {exc}") from None
    if response.status_code == 429:
        raise RateLimited(retry_after(response.headers), f"{source}: HTTP 429")
    if response.status_code >= 500:
        raise SourceUnavailable(f"{source}: HTTP {response.status_code}")
    try:
        body = json.loads(content)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested deeper than json reads
        raise UnknownShape(f"{source}: HTTP {response.status_code} with a body that is not JSON "
                           f"({type(exc).__name__})") from None
    return JsonResponse(response.status_code, body, response.headers)


async def request_json(source: str, method: str, url: str, *,
                       params: dict[str, Any] | None = None, body: Any = None,
                       headers: dict[str, str] | None = None) -> JsonResponse:
    """One call whose answer the source classifies itself, since on some platforms a redirect
    or a client error carries meaning (a 302 to a login page is a throttle, a 404 a deleted
    item, a 403 a refused key). Transport errors and 5xx become SourceUnavailable; a redirect
    or an empty body comes back as None, so does a non-JSON error page (its status says
    enough); a 200 whose body is not JSON is UnknownShape. `body` is sent as JSON."""
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
        if response.status_code != 200:
            return JsonResponse(response.status_code, None, response.headers)
        raise UnknownShape(f"{source}: HTTP {response.status_code} with a body that is not JSON "
                           f"({type(exc).__name__})") from None
    return JsonResponse(response.status_code, decoded, response.headers)


def retry_after(headers: httpx.Headers) -> float:
    """Seconds from a Retry-After header (delta-seconds form), else a default."""
    value = headers.get("retry-after", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return DEFAULT_RETRY_AFTER
