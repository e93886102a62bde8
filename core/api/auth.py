"""Bearer API keys and their scopes. BEAT_API_KEYS guard every endpoint but GET /heartbeat and
the docs; a key is known only by its SHA-256 and compared in constant time. Admin keys
(BEAT_ADMIN_KEYS) may do everything and are needed for /tokens always; a caller key may be
limited to account_ids (`key@acct1|acct2`; see core.config). Without API keys, loopback only."""

import hashlib
import hmac
import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie

from fastapi import FastAPI, HTTPException, Request, status
from pydantic import SecretStr
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from core.api.deps import CALLER_SCOPE_KEY, Caller
from core.config import ConfigError, Settings
from core.exposure import bind_refusal, is_loopback

OPEN_PATHS = frozenset({"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})
OPEN_GET_PATHS = frozenset({"/heartbeat"})
# The dashboard's sign-in page; its other pages take the key from this cookie as well.
DASHBOARD_LOGIN = "/dashboard/login"
DASHBOARD_COOKIE = "beat_dashboard_key"
MISSING = "send an API key: Authorization: Bearer <key>"
WRONG = "the API key is not valid"
NO_ADMIN_KEYS = "the /tokens endpoints need an admin key: set BEAT_ADMIN_KEYS (comma-separated)"
HASHED = re.compile(r"sha256:([0-9a-fA-F]{64})")


@dataclass(frozen=True, slots=True)
class KnownKey:
    """One configured key: its SHA-256 and what it may do."""

    digest: bytes
    caller: Caller


@dataclass(frozen=True, slots=True)
class ApiKeys:
    """The configured keys, parsed once (ConfigError, one line, on a malformed entry)."""

    keys: tuple[KnownKey, ...]
    guarded: bool  # API keys are configured: every request outside the open paths needs one

    @classmethod
    def from_settings(cls, settings: Settings) -> "ApiKeys":
        callers = parse_keys("BEAT_API_KEYS", settings.beat_api_keys, admin=False)
        admins = parse_keys("BEAT_ADMIN_KEYS", settings.beat_admin_keys, admin=True)
        return cls(tuple(admins + callers), guarded=bool(callers))

    @property
    def has_admin(self) -> bool:
        return any(known.caller.admin for known in self.keys)

    def identify(self, key: str | None) -> Caller | None:
        """The caller `key` stands for (an admin match first), None for an unknown key. Every
        configured hash is compared, in constant time."""
        if not key:
            return None
        digest = hashlib.sha256(key.encode()).digest()
        matches = [known.caller for known in self.keys if hmac.compare_digest(digest, known.digest)]
        return next((c for c in matches if c.admin), matches[0] if matches else None)


def parse_keys(name: str, values: Iterable[SecretStr], admin: bool) -> list[KnownKey]:
    """Entries `key`, `sha256:<64 hex>`, each optionally `@acct1|acct2` (caller keys only)."""
    parsed = []
    for number, value in enumerate((v.get_secret_value().strip() for v in values), 1):
        if not value:
            continue
        key, limited, accounts = value.partition("@")
        where = f"{name} entry {number}"
        if limited and admin:
            raise ConfigError(f"{where}: an admin key cannot be limited to accounts")
        names = frozenset(a.strip() for a in accounts.split("|") if a.strip())
        if limited and not names:
            raise ConfigError(f"{where}: give the account_ids after @, separated by |")
        parsed.append(KnownKey(_digest(where, key.strip()),
                               Caller(admin=admin, accounts=names if limited else None)))
    return parsed


def _digest(where: str, key: str) -> bytes:
    if key.lower().startswith("sha256:"):
        hashed = HASHED.fullmatch(key)
        if hashed is None:
            raise ConfigError(f"{where}: sha256: must be followed by the key's SHA-256 as 64 "
                              "hex digits")
        return bytes.fromhex(hashed[1])
    if not key:
        raise ConfigError(f"{where}: the key is empty")
    return hashlib.sha256(key.encode()).digest()


def bearer(authorization: str | None) -> str | None:
    """The key in an `Authorization: Bearer <key>` header."""
    scheme, _, key = (authorization or "").strip().partition(" ")
    return (key.strip() or None) if scheme.lower() == "bearer" else None


def cookie(header: str, name: str) -> str | None:
    """The value of cookie `name` in a Cookie header."""
    jar = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return None
    morsel = jar.get(name)
    return (morsel.value or None) if morsel is not None else None


def matches(key: str | None, keys: Sequence[str]) -> bool:
    """Whether `key` is one of `keys` (clear or `sha256:<hex>`), comparing every one's hash in
    constant time."""
    known = ApiKeys(tuple(parse_keys("keys", [SecretStr(k) for k in keys], admin=False)),
                    guarded=True)
    return known.identify(key) is not None


def unauthorized(detail: str, error: str | None = None) -> JSONResponse:
    challenge = "Bearer" if error is None else f'Bearer error="{error}"'
    return JSONResponse({"detail": detail}, status_code=status.HTTP_401_UNAUTHORIZED,
                        headers={"WWW-Authenticate": challenge})


class ApiKeyAuth:
    """ASGI middleware: with API keys configured, a request outside the open paths needs one of
    them (or an admin key) as a bearer token, 401 otherwise; the caller it identifies is left in
    the scope for the routes' scope checks (core.api.deps.get_caller)."""

    def __init__(self, app: ASGIApp, keys: ApiKeys) -> None:
        self.app = app
        self.keys = keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.keys.guarded or _open(scope):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        key = bearer(headers.get(b"authorization", b"").decode("latin-1"))
        dashboard = _dashboard(scope)
        if key is None and dashboard:
            key = cookie(headers.get(b"cookie", b"").decode("latin-1"), DASHBOARD_COOKIE)
        caller = self.keys.identify(key)
        if caller is None:
            response: Response = unauthorized(WRONG, "invalid_token") if key \
                else unauthorized(MISSING)
            if dashboard and scope["method"] in ("GET", "HEAD") \
                    and not any(name == b"x-beat-dashboard" for name, _ in scope["headers"]):
                response = RedirectResponse(DASHBOARD_LOGIN, status.HTTP_303_SEE_OTHER)
            await response(scope, receive, send)
            return
        scope[CALLER_SCOPE_KEY] = caller
        await self.app(scope, receive, send)


async def require_admin(request: Request) -> None:
    """Dependency of the /tokens endpoints: an admin key, always (403 when none configured)."""
    keys: ApiKeys = request.app.state.api_keys
    if not keys.has_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=NO_ADMIN_KEYS)
    key = bearer(request.headers.get("authorization"))
    caller = keys.identify(key)
    if caller is not None and caller.admin:
        return
    if caller is not None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="this endpoint needs an admin key")
    raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail=WRONG if key else MISSING,
                        headers={"WWW-Authenticate": "Bearer"})


class RefuseExposure:
    """ASGI middleware: without API keys, a request that arrived on a non-loopback IP address is
    answered 403, whatever server runs the app and however it bound (the start-up check,
    `startup_refusal`, sees only what uvicorn's config shows)."""

    def __init__(self, app: ASGIApp, keys: ApiKeys) -> None:
        self.app = app
        self.keys = keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self.keys.guarded and _exposed(scope):
            host = scope["server"][0]
            response = JSONResponse({"detail": f"this server is reachable on {host} without API "
                                     "keys: set BEAT_API_KEYS or bind to 127.0.0.1"},
                                    status_code=status.HTTP_403_FORBIDDEN)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def startup_refusal(app: FastAPI, receive: Receive) -> str | None:
    """Why the app must not start (one line), or None: an unusable setting, or no API keys
    while the server is about to listen beyond loopback. uvicorn hands the lifespan its own
    `receive`, whose owner holds the server's config and so the host it binds."""
    if app.state.startup_problem:
        return str(app.state.startup_problem)
    config = getattr(getattr(receive, "__self__", None), "config", None)
    host = getattr(config, "host", None)
    if app.state.api_keys.guarded or not isinstance(host, str) \
            or getattr(config, "uds", None) or getattr(config, "fd", None) is not None:
        return None
    return None if is_loopback(host) else bind_refusal(host)


def install(app: FastAPI, settings: Settings) -> None:
    """Parse the keys and check the secret key (an unusable setting becomes
    `app.state.startup_problem`, refused at start-up) and add the middlewares: the API key
    check, and outermost the refusal of requests that arrive beyond loopback without keys."""
    problem = None
    try:
        keys = ApiKeys.from_settings(settings)
        settings.secret_keys()
    except ConfigError as exc:
        keys, problem = ApiKeys((), guarded=True), str(exc)
    app.state.api_keys, app.state.startup_problem = keys, problem
    app.add_middleware(ApiKeyAuth, keys=keys)
    app.add_middleware(RefuseExposure, keys=keys)


def _exposed(scope: Scope) -> bool:
    """The connection arrived on a non-loopback IP address of this host."""
    server = scope.get("server")
    if not server:
        return False  # a unix socket
    try:
        return not ipaddress.ip_address(str(server[0])).is_loopback
    except ValueError:
        return False  # a name, not a socket address: an in-process client


def _dashboard(scope: Scope) -> bool:
    path: str = scope["path"]
    return path == "/dashboard" or path.startswith("/dashboard/")


def _open(scope: Scope) -> bool:
    path = scope["path"]
    return path in OPEN_PATHS or path == DASHBOARD_LOGIN or (
        path in OPEN_GET_PATHS and scope["method"] in ("GET", "HEAD"))
