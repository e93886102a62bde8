"""The name the platform registration (youtube/__init__.py) gives the Data API key import run at
worker start-up, which lives with the keys in youtube/sources/data_api/keys.py."""

from youtube.sources.data_api.keys import import_configured_keys

__all__ = ["import_configured_keys"]
