"""`beat parse --platform instagram`: a raw answer of any Instagram source (Graph API, web JSON,
the RapidAPI-style provider) as normalized records, the shape recognised from the document."""

from typing import Any

from core.normalized import Normalized
from core.parsing import UnknownShape, shape_errors
from instagram.sources.graph_api.parse import graph_document
from instagram.sources.rapidapi_parse import rapidapi_document
from instagram.sources.web_parse import web_document

READERS = (graph_document, web_document, rapidapi_document)


@shape_errors
def normalize_document(document: Any) -> list[Normalized]:
    """Every profile and post in `document`; UnknownShape when no source's shape fits."""
    for read in READERS:
        found = read(document)
        if found is not None:
            return found
    if _is_insights(document):
        raise UnknownShape("a Graph API insights answer: metrics of one account or media, no "
                           "post or profile to print")
    raise UnknownShape("not an Instagram Graph API, web JSON or provider answer Beat knows")


def _is_insights(document: Any) -> bool:
    data = document.get("data") if isinstance(document, dict) else None
    return isinstance(data, list) and bool(data) and all(
        isinstance(item, dict) and "name" in item and ("values" in item or "total_value" in item)
        for item in data)
