"""Bearer API keys: BEAT_API_KEYS guard every endpoint but GET /heartbeat and the docs, and
BEAT_ADMIN_KEYS guard the /tokens endpoints always. Without API keys, bind to loopback only."""

import hmac
import ipaddress
from collections.abc import Iterable

from fastapi import FastAPI, HTTPException, Request, status
from pydantic import SecretStr
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from core.api.deps import SettingsDep
from core.config import Settings

OPEN_PATHS = frozenset({"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})
OPEN_GET_PATHS = frozenset({"/heartbeat"})
MISSING = "send an API key: Authorization: Bearer <key>"
WRONG = "the API key is not valid"
NO_ADMIN_KEYS = "the /tokens endpoints need an admin key: set BEAT_ADMIN_KEYS (comma-separated)"


class InsecureBind(ValueError):
    """Listening beyond loopback without API keys."""


def check_bind(host: str, settings: Settings) -> None:
    """Raise InsecureBind for a non-loopback `host` when no BEAT_API_KEYS are set."""
    if not _secrets(settings.beat_api_keys) and not is_loopback(host):
        raise InsecureBind(f"refusing to listen on {host or 'all interfaces'} without API keys: "
                           "set BEAT_API_KEYS (comma-separated) or bind to 127.0.0.1")


def is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False  # another host name: it may resolve to anything


def bearer(authorization: str | None) -> str | None:
    """The key in an `Authorization: Bearer <key>` header."""
    scheme, _, key = (authorization or "").strip().partition(" ")
    return (key.strip() or None) if scheme.lower() == "bearer" else None


def matches(key: str | None, keys: Iterable[str]) -> bool:
    """Whether `key` is one of `keys`, comparing every one in constant time."""
    if not key:
        return False
    given = key.encode()
    results = [hmac.compare_digest(given, known.encode()) for known in keys]
    return any(results)


def unauthorized(detail: str, error: str | None = None) -> JSONResponse:
    challenge = "Bearer" if error is None else f'Bearer error="{error}"'
    return JSONResponse({"detail": detail}, status_code=status.HTTP_401_UNAUTHORIZED,
                        headers={"WWW-Authenticate": challenge})


class ApiKeyAuth:
    """ASGI middleware: with API keys configured, a request outside the open paths needs one of
    them (or an admin key) as a bearer token; 401 otherwise."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.keys = _secrets(settings.beat_api_keys)
        self.all_keys = self.keys + _secrets(settings.beat_admin_keys)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.keys or _open(scope):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        key = bearer(headers.get(b"authorization", b"").decode("latin-1"))
        if not matches(key, self.all_keys):
            response = unauthorized(WRONG, "invalid_token") if key else unauthorized(MISSING)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def require_admin(request: Request, settings: SettingsDep) -> None:
    """Dependency of the /tokens endpoints: an admin key, always (403 when none configured)."""
    admin_keys = _secrets(settings.beat_admin_keys)
    if not admin_keys:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=NO_ADMIN_KEYS)
    key = bearer(request.headers.get("authorization"))
    if matches(key, admin_keys):
        return
    if matches(key, _secrets(settings.beat_api_keys)):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="this endpoint needs an admin key")
    raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail=WRONG if key else MISSING,
                        headers={"WWW-Authenticate": "Bearer"})


def install(app: FastAPI, settings: Settings) -> None:
    """Add the API key middleware (outermost: refused requests reach nothing else)."""
    app.add_middleware(ApiKeyAuth, settings=settings)


def _open(scope: Scope) -> bool:
    path = scope["path"]
    return path in OPEN_PATHS or (path in OPEN_GET_PATHS and scope["method"] in ("GET", "HEAD"))


def _secrets(values: Iterable[SecretStr]) -> list[str]:
    return [v.get_secret_value().strip() for v in values if v.get_secret_value().strip()]
