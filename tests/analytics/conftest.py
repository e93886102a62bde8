"""Generated snapshots for the analytics tests, and the HTTP client over a started app."""

from tests.api.support import app, client

__all__ = ["app", "client"]
