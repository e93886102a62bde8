"""Where the worker processes' metrics go, and the optional exporter that serves them.

The supervisor writes every child's samples to one directory (PROMETHEUS_MULTIPROC_DIR, or a
private temporary one it removes on exit), drops a dead child's live gauges when it reaps it, and
with WORKER_METRICS_PORT set runs one more child that serves GET /metrics for the directory: a
host that runs workers but no server (many hosts against one database) is scraped there. On one
host with a server, setting the same PROMETHEUS_MULTIPROC_DIR for both (as `beat up` does) makes
the server's /metrics show the workers' samples too.
"""

import logging
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core import metrics
from core.config import Settings

log = logging.getLogger(__name__)


@contextmanager
def worker_metrics_dir(settings: Settings) -> Iterator[Path]:
    """The directory the supervisor's children write their samples to, set in the environment
    they inherit: PROMETHEUS_MULTIPROC_DIR when configured (kept as it is), else a private one,
    removed when the block ends."""
    configured = settings.prometheus_multiproc_dir
    if configured is not None:
        metrics.use_dir(configured)
        yield configured
        return
    private = Path(tempfile.mkdtemp(prefix="beat-metrics-"))
    metrics.use_dir(private)
    try:
        yield private
    finally:
        shutil.rmtree(private, ignore_errors=True)


def run_metrics_process(settings: Settings) -> None:
    """Child process: serve /metrics for the directory on WORKER_METRICS_HOST:PORT until
    SIGTERM or SIGINT."""
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector

    from core.logs import setup_logging

    setup_logging(settings.log_level, settings)
    directory = metrics.multiproc_dir()
    assert directory is not None and settings.worker_metrics_port is not None
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(directory))  # type: ignore[no-untyped-call]
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    server, thread = start_http_server(settings.worker_metrics_port,
                                       addr=settings.worker_metrics_host, registry=registry)
    log.info("worker metrics served on http://%s:%d/metrics", settings.worker_metrics_host,
             settings.worker_metrics_port)
    stop.wait()
    server.shutdown()
    thread.join(timeout=5)
