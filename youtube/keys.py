"""API keys for the YouTube Data API: pick one with quota left; a key whose daily quota is
spent rests until the quota resets (midnight Pacific time), an invalid key until restart."""

import random
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

PACIFIC = ZoneInfo("America/Los_Angeles")


def next_quota_reset(now: datetime | None = None) -> float:
    """Epoch seconds of the next midnight in Pacific time."""
    local = (now or datetime.now(PACIFIC)).astimezone(PACIFIC)
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight.timestamp()


class KeyPool:
    def __init__(self, keys: list[str]) -> None:
        self.keys = list(dict.fromkeys(k for k in keys if k))
        self.resting: dict[str, float] = {}  # key -> epoch seconds when it may be used again

    def available(self) -> list[str]:
        now = time.time()
        return [k for k in self.keys if self.resting.get(k, 0.0) <= now]

    def pick(self) -> str | None:
        keys = self.available()
        return random.choice(keys) if keys else None

    def quota_spent(self, key: str) -> None:
        self.resting[key] = next_quota_reset()

    def invalid(self, key: str) -> None:
        self.resting[key] = float("inf")
