"""The name the platform registration (youtube/__init__.py) gives YouTube's document parser for
`beat parse`, which lives with the Data API parsers it dispatches to."""

from youtube.sources.data_api.parse import normalize_document

__all__ = ["normalize_document"]
