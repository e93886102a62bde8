"""What `beat bench schedule` simulates: a clock the benchmark advances and the sandbox reads
(its quota days follow it), the sandbox served from a thread of the benchmark's process with
that clock, and the watchlist (videos and channels of the sandbox world, importances drawn
from a Zipf distribution: the item of rank k weighs N / k)."""

import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import uvicorn

from core.services import free_port
from core.watchlists.items import Item

SEED = 1
DAY_S = 86_400
# A Monday, at midnight in Los Angeles (PST): the sandbox's and the limiter's quota days start
# here, and it is long before any real time the workers stamp.
START = datetime(2026, 1, 5, 8, tzinfo=UTC)


class SimClock:
    """The simulated time: read by the sandbox (its quota days) and given to the scheduler."""

    def __init__(self, start: datetime = START) -> None:
        self.at = start
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self.at

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.at += timedelta(seconds=seconds)

    def set(self, at: datetime) -> None:
        with self._lock:
            self.at = at


@contextmanager
def sandbox_thread(clock: SimClock, keys: dict[str, int], quiet_channels: int
                   ) -> Iterator[str]:
    """The sandbox on a free port, from a thread of this process, on `clock`; its URL."""
    from sandbox.app import create_sandbox_app
    from sandbox.faults import Faults

    # The keyless fallback is closed: every refresh must be paid for in quota units.
    closed = Faults(prefix="/invidious", error_rate=1.0, error_status=503)
    app = create_sandbox_app(SEED, keys=keys, faults=closed, clock=clock.now,
                             quiet_channels=quiet_channels)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, name="sandbox", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the sandbox did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass(frozen=True)
class Watchlist:
    items: list[Item]
    on_demand: list[str]  # channels outside the watchlist, refreshed on demand
    need_per_day: int  # units to refresh every item once per target age, calls full
    quiet_channels: int  # channels without videos the sandbox world needs for these


def watchlist(videos: int, channels: int, on_demand: int, video_max_age_s: int,
              channel_max_age_s: int) -> Watchlist:
    """`videos` and `channels` of the sandbox world with Zipf importances, in a shuffled order
    of rank; the world is built with the quiet channels this needs."""
    from sandbox.youtube.world import CHANNELS, build_world

    quiet = max(0, channels + on_demand - CHANNELS)
    world = build_world(SEED, quiet)
    video_ids = [v for c in world.channels for v in world.videos_of(c.channel_id)][:videos]
    if len(video_ids) < videos:
        raise ValueError(f"the sandbox world has {len(video_ids)} videos; ask for fewer")
    channel_ids = [c.channel_id for c in world.channels]
    entries = [("video", v, video_max_age_s) for v in video_ids] + \
        [("profile", c, channel_max_age_s) for c in channel_ids[:channels]]
    ranks = list(range(1, len(entries) + 1))
    random.Random(SEED).shuffle(ranks)
    items = [Item("youtube", kind, ident, importance=len(entries) / rank, max_age_s=age)
             for (kind, ident, age), rank in zip(entries, ranks, strict=True)]
    need = videos * DAY_S / video_max_age_s / 50 + channels * DAY_S / channel_max_age_s
    return Watchlist(items, channel_ids[channels:channels + on_demand], round(need), quiet)


def initial_ages(items: list[Item], at: datetime) -> list[tuple[str, str, datetime]]:
    """A steady state to start from, the same for every system: each item last refreshed at a
    random moment within its target age."""
    rand = random.Random(SEED + 1)
    return [(item.kind, item.id, at - timedelta(seconds=rand.uniform(0, item.max_age_s)))
            for item in items]
