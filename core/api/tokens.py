"""Platform credentials over HTTP (admin key always): upsert, masked listing, validation against
the platform, disable and enable. Secrets go in, and never come back out."""

from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from core.api.auth import require_admin
from core.api.deps import QueueDep, SettingsDep
from core.api.errors import invalid
from core.errors import RateLimited, SourceUnavailable, Unsupported
from core.validation import IdempotencyKey, RowId, SafeStr
from credentials import redact, store
from credentials.crypto import Crypto, SecretKeyError
from credentials.models import CredentialInfo
from credentials.validator import Validator, validate_and_record

ERROR_FIELDS = ("type", "loc", "msg")
T = TypeVar("T")


class SecretSafeRoute(APIRoute):
    """Validation errors without the `input` FastAPI echoes back (it would hold the secrets)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                detail = [{k: e[k] for k in ERROR_FIELDS if k in e} for e in exc.errors()]
                raise HTTPException(422, detail=detail) from None

        return handle


router = APIRouter(tags=["tokens"], dependencies=[Depends(require_admin)],
                   route_class=SecretSafeRoute)


class TokenCreate(BaseModel):
    """`credentials` holds the secret fields, e.g. {"key": ...} (YouTube Data API) or
    {"token": ..., "user_id": ..., "app_token"?: ...} (Graph API). Without `idempotency_key`:
    source:user_id, else source + a keyed hash of the secrets."""

    source: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")
    credentials: dict[SafeStr, Annotated[SafeStr, Field(min_length=1, max_length=8192)]] = Field(
        min_length=1, max_length=32)
    handle: SafeStr | None = Field(default=None, max_length=256)
    enabled: bool = True
    idempotency_key: IdempotencyKey | None = None


class TokenPublic(BaseModel):
    """A stored credential; `credentials` shows each secret as "****" + its last 4 characters."""

    id: int
    idempotency_key: str
    source: str
    handle: str | None
    credentials: dict[str, str]
    enabled: bool
    data_access_expired: bool
    disabled_till: datetime | None
    validated_at: datetime | None
    scopes: list[str] | None
    expires_at: datetime | None
    data_access_expires_at: datetime | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime | None
    decrypt_error: str | None = Field(
        default=None, description="Why the configured BEAT_SECRET_KEY cannot read the secrets "
        "(null when it can); such a credential is never used")

    @classmethod
    def of(cls, info: CredentialInfo, decrypt_error: str | None = None) -> "TokenPublic":
        fields: dict[str, Any] = {name: getattr(info, name) for name in cls.model_fields
                                  if name not in ("credentials", "scopes", "decrypt_error")}
        scopes = None if info.scopes is None else list(info.scopes)
        return cls(**fields, credentials=info.masked, scopes=scopes, decrypt_error=decrypt_error)


class ValidationPublic(BaseModel):
    valid: bool
    reason: str | None
    scopes: list[str]
    expires_at: datetime | None
    data_access_expires_at: datetime | None
    exhausted_until: datetime | None
    token: TokenPublic


def get_crypto(request: Request, settings: SettingsDep) -> Crypto:
    """The app's Crypto, made on first use (creates the key file under BEAT_HOME if needed)."""
    crypto: Crypto | None = getattr(request.app.state, "credentials_crypto", None)
    if crypto is None:
        try:
            crypto = Crypto.from_settings(settings)
        except SecretKeyError as exc:
            raise HTTPException(status.HTTP_500_INTERNAL_SERVER_ERROR, detail=str(exc)) from None
        request.app.state.credentials_crypto = crypto
    return crypto


CryptoDep = Annotated[Crypto, Depends(get_crypto)]


@router.post("/tokens", response_model=TokenPublic, status_code=status.HTTP_201_CREATED,
             responses={200: {"model": TokenPublic, "description": "Replaced an existing one"}})
async def upsert_token(body: TokenCreate, queue: QueueDep, crypto: CryptoDep,
                       response: Response) -> TokenPublic:
    """Add a credential, or replace the one with the same idempotency key (201 / 200)."""
    info, created = await store.upsert(queue.pool, crypto, body.source, body.credentials,
                                       handle=body.handle, enabled=body.enabled,
                                       idempotency_key=body.idempotency_key)
    if not created:
        response.status_code = status.HTTP_200_OK
    return TokenPublic.of(info)


@router.get("/tokens", response_model=list[TokenPublic])
async def list_tokens(queue: QueueDep, crypto: CryptoDep,
                      source: SafeStr | None = None) -> list[TokenPublic]:
    problems = await store.unreadable(queue.pool, crypto, source)
    return [TokenPublic.of(info, problems.get(info.id))
            for info in await store.list_infos(queue.pool, source)]


@router.get("/tokens/{token_id}", response_model=TokenPublic)
async def get_token(token_id: RowId, queue: QueueDep, crypto: CryptoDep) -> TokenPublic:
    info = _found(await store.get_info(queue.pool, token_id), token_id)
    problems = await store.unreadable(queue.pool, crypto, info.source)
    return TokenPublic.of(info, problems.get(token_id))


@router.get("/token/validate", response_model=ValidationPublic)
async def validate_token(queue: QueueDep, crypto: CryptoDep, settings: SettingsDep,
                         token_id: Annotated[RowId, Query(alias="id")]) -> ValidationPublic:
    """Ask the platform about the credential and store the answer: an invalid one is taken out
    of use (data_access_expired) until it validates again."""
    try:
        outcome = await validate_and_record(queue.pool, crypto, Validator.from_settings(settings),
                                            token_id)
    except RateLimited as exc:  # the platform's words may echo the token: scrubbed
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, detail=redact.scrub(str(exc)),
                            headers={"Retry-After": str(int(exc.retry_after))}) from None
    except SourceUnavailable as exc:
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, detail=redact.scrub(str(exc))) from None
    except Unsupported as exc:
        raise invalid(["query", "id"], redact.scrub(str(exc))) from None
    except SecretKeyError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from None
    result, info = _found(outcome, token_id)
    reason = None if result.reason is None else redact.scrub(result.reason)
    return ValidationPublic(valid=result.valid, reason=reason, scopes=list(result.scopes),
                            expires_at=result.expires_at, exhausted_until=result.exhausted_until,
                            data_access_expires_at=result.data_access_expires_at,
                            token=TokenPublic.of(info))


@router.post("/tokens/{token_id}/disable", response_model=TokenPublic)
async def disable_token(token_id: RowId, queue: QueueDep,
                        ttl_s: Annotated[float | None, Query(gt=0, le=366 * 86400)] = None
                        ) -> TokenPublic:
    """With `ttl_s`: rest that many seconds; without: off until enabled."""
    return TokenPublic.of(_found(await store.disable(queue.pool, token_id, ttl_s), token_id))


@router.post("/tokens/{token_id}/enable", response_model=TokenPublic)
async def enable_token(token_id: RowId, queue: QueueDep) -> TokenPublic:
    """On again, rest ended (an expired one stays out of use until it validates)."""
    return TokenPublic.of(_found(await store.enable(queue.pool, token_id), token_id))


def _found(value: T | None, token_id: int) -> T:
    if value is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no token {token_id}")
    return value
