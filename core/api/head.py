"""HEAD on every GET route (what load balancers often send to a health check): FastAPI routes
answer only the methods they declare, so a HEAD request is run as its GET and sent without the
body, headers kept (RFC 9110: a server that answers GET answers HEAD)."""

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    """ASGI middleware: HEAD runs the GET route of its path and drops the response body. Put
    it inside the key check, which sees the request's own method."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_without_body)
