"""Logging set-up shared by every Beat process: one line per event, with process id."""

import logging


def setup_logging(level: str = "INFO") -> None:
    logging.basicConfig(
        level=level.upper(), force=True,
        format="%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s")
    # aiormq and aio_pika log whole frames (secrets included) at DEBUG.
    for noisy in ("asyncio", "alembic.runtime.migration", "httpx", "httpcore", "aiormq",
                  "aio_pika"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
    # During a database outage the pool logs a traceback a second; Beat's own lines say enough.
    logging.getLogger("asyncpg.pool").setLevel(logging.ERROR)
