"""Error answers that always render: validation errors and HTTP errors are made JSON-safe (no
NaN, no lone surrogates, no objects) before they are encoded, so a hostile input gets its 4xx
instead of a 500 raised while the 4xx was being written."""

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from core.validation import storable_text

ERROR_KEYS = ("type", "loc", "msg", "input", "ctx")
MAX_DEPTH = 8
MAX_INPUT_CHARS = 200


def json_safe(value: Any, depth: int = 0) -> Any:
    """`value` with every part JSON can carry kept and the rest turned into readable text."""
    if isinstance(value, str):
        return storable_text(value)
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if depth < MAX_DEPTH and isinstance(value, Mapping):
        return {str(json_safe(k, depth + 1)): json_safe(v, depth + 1) for k, v in value.items()}
    if depth < MAX_DEPTH and isinstance(value, (list, tuple)):
        return [json_safe(v, depth + 1) for v in value]
    return json_safe(str(value), depth)


def error_detail(errors: Iterable[Mapping[str, Any]],
                 loc_prefix: Sequence[str | int] = ()) -> list[dict[str, Any]]:
    """Pydantic-style errors as FastAPI's 422 shape; `input` kept only when it is a short scalar
    (a bulk body would otherwise be echoed whole)."""
    detail = []
    for error in errors:
        item = {key: error[key] for key in ERROR_KEYS if key in error}
        item["loc"] = [*loc_prefix, *item.get("loc", ())]
        given = item.get("input")
        if isinstance(given, (dict, list, tuple)) or (
                isinstance(given, str) and len(given) > MAX_INPUT_CHARS):
            item.pop("input")
        detail.append(json_safe(item))
    return detail


def invalid(loc: Sequence[str | int], msg: str, kind: str = "value_error") -> HTTPException:
    """A 422 shaped like a validation error, for checks a model cannot express."""
    return HTTPException(422, detail=[{"type": kind, "loc": list(loc), "msg": msg}])


async def on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"detail": error_detail(exc.errors())}, status_code=422)


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=exc.headers)
    return JSONResponse({"detail": json_safe(exc.detail)}, status_code=exc.status_code,
                        headers=exc.headers)


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
