"""`beat parse --platform facebook`: a raw Graph API answer (a page, a post, a video or reel, an
`?ids=` batch, a feed page) as normalized records; an error body is refused with its message."""

from typing import Any

from core.normalized import Normalized
from core.parsing import UnknownShape, shape_errors
from facebook.sources.graph_parse import graph_document


@shape_errors
def normalize_document(document: Any) -> list[Normalized]:
    """Every page and post in `document`; UnknownShape when it is no Graph API answer."""
    found = graph_document(document)
    if found is None:
        raise UnknownShape("not a Facebook Graph API answer Beat knows")
    return [item.normalized() for item in found]
