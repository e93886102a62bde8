"""YouTube's parser for `beat parse`: a Data API v3 response (by its `kind`) or a YouTube
Analytics reports.query answer (a youtubeAnalytics#resultTable)."""

from typing import Any

from core.normalized import Normalized
from youtube.sources.analytics.parse import REPORT, normalize_report
from youtube.sources.data_api.parse import normalize_document as normalize_data_api


def normalize_document(document: Any) -> list[Normalized]:
    if isinstance(document, dict) and document.get("kind") == REPORT:
        return normalize_report(document)
    return normalize_data_api(document)
