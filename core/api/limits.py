"""ASGI middleware that refuses, before parsing, request bodies over a size limit (413) and
bodies in an encoding the JSON reader cannot take (415: compressed, or not UTF-8)."""

import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(HTTPException):
    """An HTTPException, so FastAPI's body reader re-raises it instead of answering 400."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, detail=f"request body over {limit} bytes")


class BodySizeLimit:
    """`max_bytes` for every path except those in `path_limits` (exact path -> bytes)."""

    def __init__(self, app: ASGIApp, max_bytes: int,
                 path_limits: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.path_limits = path_limits or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.path_limits.get(scope["path"], self.max_bytes)
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await self._refuse(send, limit)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(send, limit)

    async def _refuse(self, send: Send, limit: int) -> None:
        body: dict[str, Any] = {"detail": f"request body over {limit} bytes"}
        payload = json.dumps(body).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(payload)).encode())]})
        await send({"type": "http.response.body", "body": payload})


class BodyEncoding:
    """415 with a message for a body sent compressed (Content-Encoding) or in a charset other
    than UTF-8: the JSON reader would fail on either with a 400 that does not say why."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        problem = _encoding_problem(scope) if scope["type"] == "http" else None
        if problem is None:
            await self.app(scope, receive, send)
            return
        payload = json.dumps({"detail": problem}).encode()
        await send({"type": "http.response.start", "status": 415,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(payload)).encode())]})
        await send({"type": "http.response.body", "body": payload})


def _encoding_problem(scope: Scope) -> str | None:
    headers = {k.decode("latin-1").lower(): v.decode("latin-1").strip().lower()
               for k, v in scope["headers"]}
    encoding = headers.get("content-encoding", "")
    if encoding not in ("", "identity"):
        return (f"content-encoding {encoding[:40]!r} is not accepted: send the body "
                "uncompressed")
    for parameter in headers.get("content-type", "").split(";")[1:]:
        name, _, value = parameter.partition("=")
        charset = value.strip().strip('"')
        if name.strip() == "charset" and charset not in ("utf-8", "utf8"):
            return f"send the body as UTF-8 JSON (got charset={charset[:40]})"
    return None
