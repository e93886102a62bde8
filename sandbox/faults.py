"""Injected faults (latency, 5xx, 429 with Retry-After, truncated bodies, slow bodies) and call
counting, as one ASGI middleware in front of every platform route (/_sandbox/ is exempt).

Faults are set per path prefix (the longest matching prefix wins) and can change while the
server runs. Whether a request is faulted is a pure function of (seed, method + path + query,
how many times that exact request was seen since the faults were last set), so a run is
reproducible however its requests interleave. Latency is an asyncio sleep: concurrent requests
wait together.
"""

import asyncio
import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field, model_validator
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.rng import unit
from sandbox.youtube import errors as youtube_errors

CONTROL_PREFIX = "/_sandbox"


class Faults(BaseModel):
    """What to inject into requests under `prefix` ("/": all)."""

    latency_ms: float = Field(default=0.0, ge=0)
    error_rate: float = Field(default=0.0, ge=0, le=1)
    error_status: int = Field(default=503, ge=400, le=599)
    rate_limit_rate: float = Field(default=0.0, ge=0, le=1)
    retry_after_s: int = Field(default=1, ge=0)
    malformed_rate: float = Field(default=0.0, ge=0, le=1)
    slow_body_ms: float = Field(default=0.0, ge=0)
    prefix: str = "/"

    @model_validator(mode="after")
    def _rates_fit(self) -> "Faults":
        if self.error_rate + self.rate_limit_rate + self.malformed_rate > 1:
            raise ValueError("error_rate + rate_limit_rate + malformed_rate must be <= 1")
        return self


class FaultBook:
    """The faults in force, by prefix, and the seeded draws that decide each request."""

    def __init__(self, seed: int, faults: Faults | None = None) -> None:
        self.seed = seed
        self.scopes: dict[str, Faults] = {}
        self._seen: Counter[str] = Counter()
        if faults is not None:
            self.set(faults)

    def set(self, faults: Faults) -> None:
        """Replace the faults of `faults.prefix`; the draw sequence starts over."""
        self.scopes[faults.prefix] = faults
        self._seen.clear()

    def clear(self, prefix: str | None = None) -> None:
        if prefix is None:
            self.scopes.clear()
        else:
            self.scopes.pop(prefix, None)
        self._seen.clear()

    def for_path(self, path: str) -> Faults | None:
        matching = [p for p in self.scopes if path.startswith(p)]
        return self.scopes[max(matching, key=len)] if matching else None

    def draw(self, request_key: str) -> float:
        """A uniform [0, 1) for the n-th occurrence of this exact request."""
        n = self._seen[request_key]
        self._seen[request_key] += 1
        return unit(self.seed, "fault", request_key, n)


class Usage:
    """Calls per route, responses per status, faults injected per kind, and pages of paginated
    listings per route and cursor ("POST /rapidapi/.../get_followers <cursor or ->"), counted by
    the routes that page (a cursor in a POST body is out of the middleware's sight)."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.statuses: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()
        self.pages: Counter[str] = Counter()

    def reset(self) -> None:
        self.calls.clear()
        self.statuses.clear()
        self.faults.clear()
        self.pages.clear()

    def snapshot(self) -> dict[str, Any]:
        return {"calls": dict(sorted(self.calls.items())),
                "statuses": dict(sorted(self.statuses.items())),
                "faults": dict(sorted(self.faults.items())),
                "pages": dict(sorted(self.pages.items()))}


class FaultMiddleware:
    """Counts every platform call and injects the faults in force for its path."""

    def __init__(self, app: ASGIApp, book: FaultBook, usage: Usage,
                 routes: Sequence[BaseRoute]) -> None:
        self.app, self.book, self.usage, self.routes = app, book, usage, routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        self.usage.calls[self._label(scope)] += 1
        faults = self.book.for_path(scope["path"])
        send = self._counting(send)
        if faults is None:
            await self.app(scope, receive, send)
            return
        await self._faulted(scope, receive, send, faults)

    async def _faulted(self, scope: Scope, receive: Receive, send: Send, faults: Faults) -> None:
        if faults.latency_ms:
            self.usage.faults["latency"] += 1
            await asyncio.sleep(faults.latency_ms / 1000)
        key = f"{scope['method']} {scope['path']}?{scope.get('query_string', b'').decode()}"
        roll = self.book.draw(key)
        if roll < faults.rate_limit_rate:
            self.usage.faults["rate_limit"] += 1
            headers = [(b"retry-after", str(faults.retry_after_s).encode())]
            await _send_body(send, 429, *_fault_body(scope["path"], 429), headers)
        elif roll < faults.rate_limit_rate + faults.error_rate:
            self.usage.faults["error"] += 1
            status = faults.error_status
            await _send_body(send, status, *_fault_body(scope["path"], status), [])
        elif roll < faults.rate_limit_rate + faults.error_rate + faults.malformed_rate:
            self.usage.faults["malformed"] += 1
            start, body = await _capture(self.app, scope, receive)
            await _deliver(send, start, _truncate(body, roll), faults.slow_body_ms)
        elif faults.slow_body_ms:
            self.usage.faults["slow_body"] += 1
            start, body = await _capture(self.app, scope, receive)
            await _deliver(send, start, body, faults.slow_body_ms)
        else:
            await self.app(scope, receive, send)

    def _label(self, scope: Scope) -> str:
        """Label "GET /route/template" of the route the request will reach (else its raw path)."""
        for route in self.routes:
            if route.matches(scope)[0] == Match.FULL:
                return f"{scope['method']} {getattr(route, 'path', scope['path'])}"
        return f"{scope['method']} {scope['path']}"

    def _counting(self, send: Send) -> Send:
        async def counting(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.usage.statuses[str(message["status"])] += 1
            await send(message)

        return counting


def _fault_body(path: str, status: int) -> tuple[bytes, bytes]:
    """(body, content type) of an injected error, in the shape of the service at `path`."""
    if path.startswith(("/rapidapi/", "/instagram-web/")):
        return json.dumps(_instagram_fault(path, status)).encode(), b"application/json"
    if path.startswith("/invidious"):
        message = "Too Many Requests" if status == 429 else f"Sandbox fault {status}"
        body: dict[str, Any] = {"error": message}
        if status >= 500:
            body["errorBacktrace"] = f"{message} (Exception)\n  from sandbox"
        return json.dumps(body).encode(), b"application/json"
    if path.startswith("/v1/"):
        return json.dumps(_openai_fault(status)).encode(), b"application/json"
    if path.startswith("/graph"):
        return json.dumps(_graph_fault(status), separators=(",", ":")).encode(), \
            b"application/json; charset=UTF-8"
    body = youtube_errors.rate_limited() if status == 429 else youtube_errors.backend(status)
    return json.dumps(body, indent=2).encode(), b"application/json; charset=UTF-8"


def _instagram_fault(path: str, status: int) -> dict[str, Any]:
    """The RapidAPI gateway's {"message"} or the web's {"message", "status": "fail"}."""
    if path.startswith("/rapidapi/"):
        return {"message": "Too many requests" if status == 429 else
                f"Sandbox fault {status}: the API provider is unreachable"}
    message = "Please wait a few minutes before you try again." if status == 429 else \
        f"Sandbox fault {status}"
    return {"message": message, "status": "fail"}


def _openai_fault(status: int) -> dict[str, Any]:
    """OpenAI's {"error": {message, type, param, code}}."""
    error: dict[str, str | None]
    if status == 429:
        error = {"message": "Rate limit reached for requests", "type": "requests",
                 "code": "rate_limit_exceeded"}
    else:
        error = {"message": "The server had an error while processing your request.",
                 "type": "server_error", "code": None}
    return {"error": {**error, "param": None}}


def _graph_fault(status: int) -> dict[str, Any]:
    """A Graph API error body: the app rate limit (code 4) for 429, else an unknown error."""
    if status == 429:
        error = {"message": "(#4) Application request limit reached", "code": 4}
    else:
        error = {"message": "An unexpected error has occurred. Please retry your request "
                 "later.", "code": 2}
    return {"error": {**error, "type": "OAuthException", "is_transient": True,
                      "fbtrace_id": "AsandboxFaultTraceId0000"}}


async def _send_body(send: Send, status: int, body: bytes, content_type: bytes,
                     headers: list[tuple[bytes, bytes]]) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode()),
               *headers]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _capture(app: ASGIApp, scope: Scope, receive: Receive) -> tuple[Message, bytes]:
    """Run the app, keeping its response start message and whole body."""
    start: Message = {}
    chunks: list[bytes] = []

    async def keep(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, keep)
    return start, b"".join(chunks)


def _truncate(body: bytes, roll: float) -> bytes:
    """The body cut somewhere in its middle (on a character boundary): invalid JSON."""
    text = body.decode("utf-8", errors="replace")
    if len(text) < 2:
        return b"{"
    fraction = 0.2 + 0.6 * ((roll * 7919) % 1)
    return text[:max(1, min(len(text) - 1, int(len(text) * fraction)))].encode()


async def _deliver(send: Send, start: Message, body: bytes, slow_ms: float) -> None:
    """Send a captured response with `body`; with `slow_ms`, spread over ten chunks."""
    headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
    headers.append((b"content-length", str(len(body)).encode()))
    await send({**start, "headers": headers})
    if not slow_ms:
        await send({"type": "http.response.body", "body": body})
        return
    size = max(1, -(-len(body) // 10))
    pieces = [body[i:i + size] for i in range(0, len(body), size)] or [b""]
    for index, piece in enumerate(pieces):
        await asyncio.sleep(slow_ms / 1000 / len(pieces))
        more = index < len(pieces) - 1
        await send({"type": "http.response.body", "body": piece, "more_body": more})
