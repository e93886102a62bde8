"""Logging set-up shared by every Beat process: one line per event, with process id."""

import logging


def setup_logging(level: str = "INFO") -> None:
    logging.basicConfig(
        level=level.upper(), force=True,
        format="%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s")
    for noisy in ("asyncio", "alembic.runtime.migration"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
