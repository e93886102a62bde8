"""Turn a platform's decoded JSON response into Normalized records (backs `beat parse`).

Each platform names one "module:function" (`Platform.parser`) taking the document and returning
its records.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any, ParamSpec, TypeVar, cast

from core.config import Settings, get_settings
from core.errors import SourceUnavailable
from core.normalized import Normalized
from core.platforms import UnknownPlatform, get, load_attribute

DocumentParser = Callable[[Any], list[Normalized]]
P = ParamSpec("P")
R = TypeVar("R")


class UnknownShape(SourceUnavailable, ValueError):
    """The document is not a response shape the platform's parser knows (or is an error body).

    From a source, that is the source failing (it answered something unreadable): the director
    asks the next source and counts it against the source's circuit."""

    kind = "unknown_shape"


# What reading a decoded body can raise when the body is not what the parser expects: a missing
# key or index, a wrong type, a malformed value (a duration, a date, a count), a number too large
# for its type (an Infinity count, a year out of range; OSError from a timestamp the C library
# cannot hold) or nesting too deep to walk. Parsers do no I/O, so an OSError is never more.
READ_ERRORS = (LookupError, TypeError, ValueError, AttributeError, ArithmeticError, OSError,
               RecursionError)


def shape_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Report any failure to read the body as UnknownShape, never KeyError or OverflowError."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except UnknownShape:
            raise
        except READ_ERRORS as exc:
            raise UnknownShape(f"{func.__name__}: {type(exc).__name__}: {exc}") from exc

    return wrapper


def parser_for(platform: str, settings: Settings | None = None) -> DocumentParser:
    """The document parser of `platform` (any case); UnknownShape when there is no such
    platform or it has no parser."""
    try:
        found = get(settings or get_settings(), platform)
    except UnknownPlatform as exc:
        raise UnknownShape(str(exc)) from None
    if found.parser is None:
        raise UnknownShape(f"platform {found.name} has no document parser")
    return cast(DocumentParser, load_attribute(found.parser))


def parse_document(platform: str, document: Any,
                   settings: Settings | None = None) -> list[Normalized]:
    """Every post/profile in `document`, in order; UnknownShape for anything unrecognised."""
    return parser_for(platform, settings)(document)
