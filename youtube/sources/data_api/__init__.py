"""The YouTube Data API v3 source: its calls and key check (source.py), the parsers of its bodies
(parse.py) and the API keys it spends (keys.py)."""

from youtube.sources.data_api.source import (
    MAX_IDS,
    CommentsDisabled,
    DataApiSource,
    check_key,
)

__all__ = ["MAX_IDS", "CommentsDisabled", "DataApiSource", "check_key"]
