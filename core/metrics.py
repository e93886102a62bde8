"""Beat's Prometheus metrics: every metric object, behind a small API the rest of the code calls
(`task_finished(flow, status, seconds)`, `upstream_call(source, outcome, seconds)`, ...).

Labels come from what the code at hand knows (flow names from the flow registry, source names
from the sources, limits from their specs): this module names no platform, source or limit.

Processes. With PROMETHEUS_MULTIPROC_DIR set, every process writes its samples to files there
(prometheus_client's multiprocess mode) and `render()` adds up the files of every process, live
or dead: one host's server, workers and CLI commands share one directory. prometheus_client
picks its mode when it is first imported, so this module imports it lazily, on the first
sample: the worker supervisor sets the directory before forking its children and records no
sample itself. Without the directory, each process counts for itself (one `beat server`).
"""

import os
from bisect import bisect_left
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prometheus_client import Counter, Gauge, Histogram

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
TASK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900)
CALL_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
WAIT_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
# A task attempt that ends without finishing the task (it goes back to PENDING after a backoff).
RETRY = "RETRY"


@dataclass(frozen=True)
class _Metrics:
    tasks_enqueued: "Counter"
    tasks_claimed: "Counter"
    tasks_finished: "Counter"
    tasks_running: "Gauge"
    task_duration: "Histogram"
    upstream_calls: "Counter"
    upstream_duration: "Histogram"
    ratelimit_refusals: "Counter"
    ratelimit_wait: "Histogram"
    outbox_published: "Counter"
    asset_bytes: "Counter"
    assets_stored: "Counter"


@cache
def _metrics() -> _Metrics:
    from prometheus_client import Counter, Gauge, Histogram, values

    if multiproc_dir() is not None and not getattr(values.ValueClass, "_multiprocess", False):
        # prometheus_client was imported (by someone) before the directory was set.
        values.ValueClass = values.MultiProcessValue()  # type: ignore[no-untyped-call]

    return _Metrics(
        tasks_enqueued=Counter("beat_tasks_enqueued", "Tasks inserted into the queue "
                               "(a deduplicated repeat is not counted)", ["flow"]),
        tasks_claimed=Counter("beat_tasks_claimed", "Task attempts claimed by workers",
                              ["flow"]),
        tasks_finished=Counter("beat_tasks_finished", "Task attempts ended, by the status they "
                               "left the task in (RETRY: back to PENDING)", ["flow", "status"]),
        tasks_running=Gauge("beat_tasks_running", "Tasks running now in worker processes",
                            ["flow"], multiprocess_mode="livesum"),
        task_duration=Histogram("beat_task_duration_seconds", "Run time of task attempts",
                                ["flow"], buckets=TASK_BUCKETS),
        upstream_calls=Counter("beat_upstream_calls", "Calls of a source, by outcome",
                               ["source", "outcome"]),
        upstream_duration=Histogram("beat_upstream_call_seconds", "Time of source calls that "
                                    "went out (rate-limit waits included)", ["source"],
                                    buckets=CALL_BUCKETS),
        ratelimit_refusals=Counter("beat_ratelimit_refusals", "Acquires a rate limit refused",
                                   ["limit"]),
        ratelimit_wait=Histogram("beat_ratelimit_wait_seconds", "Waits for a refusing rate "
                                 "limit to free a slot", ["limit"], buckets=WAIT_BUCKETS),
        outbox_published=Counter("beat_outbox_published", "Outbox rows the relay published "
                                 "(every event of the row confirmed by the broker)", []),
        asset_bytes=Counter("beat_asset_bytes", "Bytes of assets stored", ["platform"]),
        assets_stored=Counter("beat_assets_stored", "Assets stored", ["platform"]),
    )


# -- The API the rest of Beat calls ------------------------------------------------------------

def task_enqueued(flow: str, count: int = 1) -> None:
    if count:
        _metrics().tasks_enqueued.labels(flow).inc(count)


def tasks_claimed(flow: str, count: int) -> None:
    if count:
        _metrics().tasks_claimed.labels(flow).inc(count)


def set_running(flow: str, count: int) -> None:
    """How many tasks of `flow` this process runs now (worker runtimes set it periodically)."""
    _metrics().tasks_running.labels(flow).set(count)


def task_finished(flow: str, status: str, seconds: float) -> None:
    """An attempt ended with `status` (COMPLETE, FAILED, TIMEOUT or RETRY) after `seconds`.
    Tallied in plain Python: `flush()` (which worker runtimes call twice a second, and
    `render()` calls) hands the tally to the metrics."""
    _TALLY.finished(flow, status, seconds)


def flush() -> None:
    """Publish what `task_finished` tallied since the last flush."""
    _TALLY.flush()


class _TaskTally:
    """Task outcomes counted in dicts and ints, published in one go: a metric update costs a
    lock and (with a multiprocess directory) a write to a memory-mapped file per value, several
    microseconds; the queue drains tens of thousands of no-op tasks a second."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], int] = {}
        self.buckets: dict[str, list[int]] = {}  # per flow: one count per TASK_BUCKETS + inf
        self.sums: dict[str, float] = {}

    def finished(self, flow: str, status: str, seconds: float) -> None:
        key = (flow, status)
        self.counts[key] = self.counts.get(key, 0) + 1
        buckets = self.buckets.get(flow)
        if buckets is None:
            buckets = self.buckets[flow] = [0] * (len(TASK_BUCKETS) + 1)
        buckets[bisect_left(TASK_BUCKETS, seconds)] += 1  # the first bound >= seconds
        self.sums[flow] = self.sums.get(flow, 0.0) + seconds

    def flush(self) -> None:
        counts, buckets, sums = self.counts, self.buckets, self.sums
        if not counts:
            return
        self.counts, self.buckets, self.sums = {}, {}, {}
        for (flow, status), count in counts.items():
            _finished(flow, status).inc(count)
        for flow, per_bucket in buckets.items():
            # Histogram.observe takes one value; a batch goes to the child's bucket and sum
            # values (prometheus_client keeps one value per bucket and adds them up on output).
            child = _duration(flow)
            for value, count in zip(child._buckets, per_bucket, strict=True):
                if count:
                    value.inc(count)
            child._sum.inc(sums[flow])


_TALLY = _TaskTally()


# Labelled children are looked up once per label set.

@cache
def _finished(flow: str, status: str) -> Any:
    return _metrics().tasks_finished.labels(flow, status)


@cache
def _duration(flow: str) -> Any:
    return _metrics().task_duration.labels(flow)


def upstream_call(source: str, outcome: str, seconds: float | None = None) -> None:
    """One call of `source`: outcome `ok` or the error's kind (core/errors.py)."""
    metrics = _metrics()
    metrics.upstream_calls.labels(source, outcome).inc()
    if seconds is not None:
        metrics.upstream_duration.labels(source).observe(seconds)


def ratelimit_refused(limit: str) -> None:
    """An acquire refused by `limit` (see `limit_label`)."""
    _metrics().ratelimit_refusals.labels(limit).inc()


def ratelimit_waited(limit: str, seconds: float) -> None:
    """A caller sleeps `seconds` for `limit` to free a slot."""
    _metrics().ratelimit_wait.labels(limit).observe(seconds)


def outbox_published(count: int) -> None:
    if count:
        _metrics().outbox_published.inc(count)


def asset_stored(platform: str | None, nbytes: int) -> None:
    """One asset stored, of `nbytes` bytes (the assets worker calls this)."""
    metrics = _metrics()
    metrics.assets_stored.labels((platform or "none").lower()).inc()
    metrics.asset_bytes.labels((platform or "none").lower()).inc(nbytes)


_SUBJECT_KINDS = ("source", "target")  # limits whose second part names a source


def limit_label(name: str, limit: int, window_s: float) -> str:
    """A limit as a label of bounded cardinality: the subject of per-handle, per-target and
    per-credential limits is dropped (`target:invidious:nasa` -> `target:invidious`), the
    rate kept: `target:invidious:1/1s`, `global:60/60s`, `credential:100/30s`."""
    parts = name.split(":")
    keep = 2 if parts[0] in _SUBJECT_KINDS and len(parts) > 1 else 1
    return f"{':'.join(parts[:keep])}:{limit}/{window_s:g}s"


# -- Exposition --------------------------------------------------------------------------------

def multiproc_dir() -> Path | None:
    """Where this process's samples go (PROMETHEUS_MULTIPROC_DIR), if anywhere."""
    value = os.environ.get(MULTIPROC_ENV)
    return Path(value) if value else None


def use_dir(directory: Path) -> None:
    """Make this process and the processes it starts from now on write their samples to
    `directory` (created if missing). Call before any sample is recorded in this process."""
    directory.mkdir(parents=True, exist_ok=True)
    os.environ[MULTIPROC_ENV] = str(directory)


def clear_dir(directory: Path) -> None:
    """Remove the sample files of earlier runs (prometheus_client's files end in .db)."""
    for path in directory.glob("*.db"):
        path.unlink(missing_ok=True)


def process_gone(pid: int) -> None:
    """A worker process `pid` has exited: drop its live gauges (running tasks). Its counters stay:
    totals must not fall when a process is restarted."""
    directory = multiproc_dir()
    if directory is None:
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid, str(directory))  # type: ignore[no-untyped-call]


def render(*extra: Any) -> bytes:
    """The exposition text of every process's samples (or this process's, without a directory),
    plus the families `extra` collectors yield."""
    from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess

    _metrics()  # declared families show even before their first sample
    flush()
    directory = multiproc_dir()
    registry: CollectorRegistry
    if directory is not None:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(  # type: ignore[no-untyped-call]
            registry, path=str(directory))
    else:
        registry = REGISTRY
    text = generate_latest(registry)
    if extra:
        own = CollectorRegistry()
        for collector in extra:
            own.register(collector)
        text += generate_latest(own)
    return text


def parse(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Samples of an exposition text by (name, labels): for tests and `beat` commands that read
    a /metrics page."""
    from prometheus_client.parser import text_string_to_metric_families

    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}

