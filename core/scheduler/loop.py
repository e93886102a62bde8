"""The scheduler as the queue maintenance leader runs it (core/maintenance.py): a tick every
SCHEDULER_INTERVAL seconds, on a small pool of its own (the leader's connection holds the
election lock and runs the upkeep). A failing tick is logged and the next one tries again: the
upkeep must go on."""

import logging
import time
from typing import Any

from core import db
from core.config import Settings
from core.db import DB_ERRORS
from core.ratelimit import RateLimiterUnavailable, process_limiter
from core.scheduler.tick import run_tick

log = logging.getLogger(__name__)
TICK_ERRORS: tuple[type[BaseException], ...] = (*DB_ERRORS, RateLimiterUnavailable, OSError)


class SchedulerLoop:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.next_at = 0.0
        self.pool: Any = None

    @property
    def enabled(self) -> bool:
        return self.settings.scheduler_interval > 0 and bool(self.settings.database_url)

    async def maybe_tick(self) -> bool:
        """Run a tick when one is due; whether one ran."""
        now = time.monotonic()
        if not self.enabled or now < self.next_at:
            return False
        self.next_at = now + self.settings.scheduler_interval
        try:
            if self.pool is None:
                assert self.settings.database_url
                self.pool = await db.create_pool(self.settings.database_url, max_size=2)
            await run_tick(self.pool, self.settings, process_limiter(self.settings))
        except TICK_ERRORS as exc:
            log.warning("scheduler tick failed (%s): %s", type(exc).__name__, exc)
        return True

    async def close(self) -> None:
        if self.pool is not None:
            pool, self.pool = self.pool, None
            await pool.close()
