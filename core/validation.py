"""Input types shared by every request model and parameter: text PostgreSQL can store, ids that
fit a bigint, and JSON objects without NUL, lone surrogates, non-finite numbers or integers
beyond 64 bits. Input is checked once, where it enters, so nothing deeper fails on it."""

import math
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any

from annotated_types import Interval
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StringConstraints,
    model_validator,
)

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
MAX_JSON_DEPTH = 64


def text_problem(text: str) -> str | None:
    """Why PostgreSQL (or UTF-8) cannot store `text`, or None when it can."""
    if "\x00" in text:
        return "contains a NUL character (\\u0000), which cannot be stored"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone surrogate (e.g. \\ud800), which is not valid Unicode"
    return None


def storable_text(text: str) -> str:
    """`text` with what PostgreSQL cannot store spelled out: NUL as `\\x00`, a lone surrogate
    as `\\udXXX` (for text meant to be read, such as an error message)."""
    if text_problem(text) is None:
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def check_text(text: Any) -> Any:
    """Refuse text PostgreSQL cannot store (before pydantic's own str checks, whose message for
    a lone surrogate is "unable to parse raw data")."""
    problem = text_problem(text) if isinstance(text, str) else None
    if problem:
        raise ValueError(problem)
    return text


def _children(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, child in value.items():
            problem = text_problem(str(key))
            if problem:
                raise ValueError(f"{path}: a key {problem}")
            yield f"{path}.{key}", child
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield f"{path}[{i}]", child


def _scalar_problem(value: Any) -> str | None:
    if isinstance(value, str):
        return text_problem(value)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            return "is an integer beyond 64 bits"
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else "is not a finite number (NaN, Infinity, 1e400)"
    return f"is not a JSON value ({type(value).__name__})"


def check_json(value: Any, path: str = "$") -> Any:
    """Raise ValueError naming the first place in `value` that is not portable JSON."""
    pending = [(path, value, 0)]
    while pending:
        where, item, depth = pending.pop()
        if isinstance(item, (dict, list)):
            if depth >= MAX_JSON_DEPTH:
                raise ValueError(f"{where}: nested deeper than {MAX_JSON_DEPTH} levels")
            pending.extend((p, child, depth + 1) for p, child in _children(item, where))
            continue
        problem = _scalar_problem(item)
        if problem:
            raise ValueError(f"{where} {problem}")
    return value


def check_timestamp(moment: datetime) -> datetime:
    """`moment` in UTC (a naive one is read as UTC, as PostgreSQL would), or ValueError when it
    falls outside the years 1-9999 there (it could be stored but never read back)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("is outside the years 1-9999 in UTC") from None


def _check_params(value: dict[str, Any]) -> dict[str, Any]:
    return check_json(value, "params")  # type: ignore[no-any-return]


TEXT_CHECK = BeforeValidator(check_text)

# Text a column or a query can hold.
SafeStr = Annotated[str, TEXT_CHECK]
# Who a task is for (scrape_request_log.account_id).
AccountId = Annotated[str, StringConstraints(max_length=256), TEXT_CHECK]
# A caller's dedupe key for a task or a credential.
IdempotencyKey = Annotated[str, StringConstraints(min_length=1, max_length=512), TEXT_CHECK]
# Idempotency keys Beat makes for itself (the live refreshes behind the profile and post
# endpoints); a caller's task key may not take one, or it could hold that refresh hostage.
RESERVED_KEY_PREFIX = "beat:"


def _not_reserved(key: str) -> str:
    if key.startswith(RESERVED_KEY_PREFIX):
        raise ValueError(f"keys starting with {RESERVED_KEY_PREFIX!r} are Beat's own")
    return key


# A caller's dedupe key for a task.
TaskKey = Annotated[IdempotencyKey, AfterValidator(_not_reserved)]
# A flow's registered name.
FlowName = Annotated[str, StringConstraints(min_length=1, max_length=256), TEXT_CHECK]
# A row id (bigserial): anything else cannot name a row, and must not reach PostgreSQL.
RowId = Annotated[int, Interval(ge=1, le=INT64_MAX)]
# A moment PostgreSQL can store and hand back.
Timestamp = Annotated[datetime, AfterValidator(check_timestamp)]
# A JSON object of flow params, storable as jsonb and readable by any JSON parser.
JsonParams = Annotated[dict[str, Any], AfterValidator(_check_params)]


class StrictModel(BaseModel):
    """A request body: unknown keys are an error naming them, not silently dropped."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _name_unknown_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = [key for key in data if key not in cls.model_fields]
            if unknown:
                raise ValueError(cls.unknown_keys_message(unknown))
        return data

    @classmethod
    def unknown_keys_message(cls, unknown: list[Any]) -> str:
        names = ", ".join(repr(key) for key in unknown)
        known = ", ".join(cls.model_fields)
        return f"unknown field {names}; the fields are: {known}"
