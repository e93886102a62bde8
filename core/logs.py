"""Logging set-up shared by every Beat process: one line per event, with process id, and no
secret in any line (credentials.redact masks known secrets and pieces of them)."""

import logging

from core.config import Settings, get_settings
from credentials import redact


def setup_logging(level: str = "INFO", settings: Settings | None = None) -> None:
    logging.basicConfig(
        level=level.upper(), force=True,
        format="%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s")
    for noisy in ("asyncio", "alembic.runtime.migration", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
    # During a database outage the pool logs a traceback a second; Beat's own lines say enough.
    logging.getLogger("asyncpg.pool").setLevel(logging.ERROR)
    # aiormq and aio_pika log whole frames (secrets included) at DEBUG, and a traceback per
    # reconnect attempt: the relay and the listeners log one line per state change themselves.
    for noisy in ("aio_pika", "aiormq"):
        logging.getLogger(noisy).setLevel(logging.CRITICAL)
    redact.remember_settings(settings or get_settings())
    redact.install_on_handlers()
