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


def shape_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Report any failure to read the body as UnknownShape, never KeyError or TypeError."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except UnknownShape:
            raise
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
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
