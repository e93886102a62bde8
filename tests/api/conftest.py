"""HTTP API test fixtures."""

from tests.api.support import app, client

__all__ = ["app", "client"]
