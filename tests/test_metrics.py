"""Prometheus metrics: samples of several processes add up through PROMETHEUS_MULTIPROC_DIR, a
dead process's live gauges go, the database gauges read real PostgreSQL, the limiter and the
director count what they do (real Redis), and GET /metrics serves it all."""

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from prometheus_client import REGISTRY

from core import metrics
from core.config import Settings
from core.errors import SourceUnavailable
from core.metrics_db import read_database
from core.queue import NewTask, Queue
from core.ratelimit import RateLimiter, parse_limit
from core.sources import Director
from tests.api.support import app, client
from tests.conftest import REDIS_URL

__all__ = ["app", "client"]
ROOT = Path(__file__).resolve().parents[1]


def in_process(code: str, directory: Path) -> subprocess.CompletedProcess[str]:
    """Run `code` (with `core.metrics` imported as m) in a fresh interpreter writing to
    `directory`."""
    env = {**os.environ, metrics.MULTIPROC_ENV: str(directory),
           "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", f"from core import metrics as m\n{code}"],
                            env=env, cwd=ROOT, capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode == 0, result.stderr
    return result


def scrape(directory: Path) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = in_process("import sys; sys.stdout.write(m.render().decode())", directory).stdout
    return metrics.parse(text)


def sample(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str,
           **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def test_the_samples_of_two_processes_add_up(tmp_path: Path) -> None:
    in_process("for _ in range(3): m.task_finished('f', 'COMPLETE', 0.2)\n"
               "m.task_enqueued('f', 5)\nm.flush()", tmp_path)
    in_process("for _ in range(4): m.task_finished('f', 'COMPLETE', 2.0)\n"
               "m.flush()\nm.task_finished('f', 'FAILED', 0.1)\nm.flush()", tmp_path)
    seen = scrape(tmp_path)
    assert sample(seen, "beat_tasks_finished_total", flow="f", status="COMPLETE") == 7
    assert sample(seen, "beat_tasks_finished_total", flow="f", status="FAILED") == 1
    assert sample(seen, "beat_tasks_enqueued_total", flow="f") == 5
    assert sample(seen, "beat_task_duration_seconds_count", flow="f") == 8
    assert sample(seen, "beat_task_duration_seconds_bucket", flow="f", le="0.25") == 4
    assert sample(seen, "beat_task_duration_seconds_bucket", flow="f", le="2.5") == 8
    assert sample(seen, "beat_task_duration_seconds_bucket", flow="f", le="+Inf") == 8
    assert sample(seen, "beat_task_duration_seconds_sum", flow="f") == pytest.approx(8.7)


def test_tallied_outcomes_show_only_once_flushed(tmp_path: Path) -> None:
    in_process("m.task_finished('f', 'COMPLETE', 0.2)\n"
               "m.task_finished('g', 'COMPLETE', 1000.0)", tmp_path)  # never flushed
    assert sample(scrape(tmp_path), "beat_tasks_finished_total", flow="f",
                  status="COMPLETE") is None
    in_process("m.task_finished('g', 'RETRY', 1000.0)\nm.task_finished('g', 'RETRY', 0.001)\n"
               "m.flush()\nm.flush()", tmp_path)
    seen = scrape(tmp_path)
    assert sample(seen, "beat_tasks_finished_total", flow="g", status="RETRY") == 2
    assert sample(seen, "beat_task_duration_seconds_bucket", flow="g", le="0.005") == 1
    assert sample(seen, "beat_task_duration_seconds_bucket", flow="g", le="900.0") == 1
    assert sample(seen, "beat_task_duration_seconds_bucket", flow="g", le="+Inf") == 2


def test_a_dead_process_running_tasks_leave_the_gauge_once_marked_dead(tmp_path: Path) -> None:
    pid = int(in_process("import os\nm.set_running('f', 2)\nm.set_running('g', 0)\n"
                         "print(os.getpid())", tmp_path).stdout)
    in_process("m.set_running('f', 1)", tmp_path)
    assert sample(scrape(tmp_path), "beat_tasks_running", flow="f") == 3
    in_process(f"m.process_gone({pid})", tmp_path)
    assert sample(scrape(tmp_path), "beat_tasks_running", flow="f") == 1
    assert sample(scrape(tmp_path), "beat_tasks_finished_total", flow="f",
                  status="COMPLETE") is None


@pytest.mark.parametrize(("name", "limit", "window", "label"), [
    ("global", 60, 60.0, "global:60/60s"),
    ("source:invidious", 10, 1.0, "source:invidious:10/1s"),
    ("target:invidious:nasa", 1, 1.0, "target:invidious:1/1s"),
    ("credential:42", 100, 30.0, "credential:100/30s"),
    ("handle:nasa", 1, 1.0, "handle:1/1s"),
])
def test_limit_labels_drop_the_subject(name: str, limit: int, window: float,
                                       label: str) -> None:
    assert metrics.limit_label(name, limit, window) == label


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_a_refused_acquire_and_each_wait_are_counted_by_limit() -> None:
    limiter = RateLimiter.from_url(REDIS_URL, prefix=f"beat-test:{uuid.uuid4().hex[:8]}")
    limit = parse_limit("target:src:someone:1/1s")
    refused = value("beat_ratelimit_refusals_total", limit="target:src:1/1s")
    waits = value("beat_ratelimit_wait_seconds_count", limit="target:src:1/1s")
    try:
        assert (await limiter.acquire([limit])).granted
        assert not (await limiter.acquire([limit])).granted
        await limiter.wait_and_acquire([limit], max_wait_s=5)
    finally:
        await limiter.aclose()
    assert value("beat_ratelimit_refusals_total", limit="target:src:1/1s") == refused + 2
    assert value("beat_ratelimit_wait_seconds_count", limit="target:src:1/1s") == waits + 1


class Answers:
    """A source that answers from a list: a value, or an exception to raise."""

    needs_credential = False
    capabilities = frozenset({"profile"})

    def __init__(self, name: str, answers: list[Any]) -> None:
        self.name = name
        self.answers = answers

    async def call(self, capability: str, **params: Any) -> Any:
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


async def test_the_director_counts_each_source_call_by_outcome() -> None:
    first, second = f"down-{uuid.uuid4().hex[:6]}", f"up-{uuid.uuid4().hex[:6]}"
    director = Director([Answers(first, [SourceUnavailable("503")] * 2),
                         Answers(second, [{"ok": 1}, {"ok": 2}])])
    for _ in range(2):
        assert (await director.fetch("profile")).source == second
    assert value("beat_upstream_calls_total", source=first, outcome="source_unavailable") == 2
    assert value("beat_upstream_calls_total", source=second, outcome="ok") == 2
    assert value("beat_upstream_call_seconds_count", source=second) == 2


async def test_the_database_gauges_read_the_queue_the_outbox_and_credentials(
        pool: asyncpg.Pool) -> None:
    await pool.execute("TRUNCATE event_outbox, credential RESTART IDENTITY")
    queue = Queue(pool)
    await queue.enqueue_many([NewTask("busy", {"n": n}) for n in range(3)])
    await pool.execute("UPDATE scrape_request_log SET created_at = now() - interval '90 s' "
                       "WHERE id = 1")
    await pool.execute("UPDATE scrape_request_log SET status = 'PROCESSING' WHERE id = 3")
    await pool.execute("INSERT INTO event_outbox (type, changes, occurred_at) VALUES "
                       "('x', '{}', now() - interval '40 s')")
    await pool.execute("INSERT INTO credential (source, enabled) VALUES ('s1', true), "
                       "('s1', false), ('s2', true)")
    await pool.execute("INSERT INTO credential (source, disabled_till) VALUES "
                       "('s2', now() + interval '1 hour')")
    seen = metrics.parse(metrics.render(await read_database(pool, ["busy", "idle"])).decode())
    assert sample(seen, "beat_queue_depth", flow="busy", status="PENDING") == 2
    assert sample(seen, "beat_queue_depth", flow="busy", status="PROCESSING") == 1
    assert sample(seen, "beat_queue_depth", flow="idle", status="PENDING") == 0
    assert 89 < (sample(seen, "beat_queue_oldest_pending_age_seconds", flow="busy") or 0) < 200
    assert sample(seen, "beat_queue_oldest_pending_age_seconds", flow="idle") == 0
    assert sample(seen, "beat_outbox_backlog", status="PENDING") == 1
    assert sample(seen, "beat_outbox_backlog", status="PARKED") == 0
    assert 39 < (sample(seen, "beat_relay_lag_seconds") or 0) < 200
    assert sample(seen, "beat_credentials", source="s1", state="usable") == 1
    assert sample(seen, "beat_credentials", source="s1", state="disabled") == 1
    assert sample(seen, "beat_credentials", source="s2", state="resting") == 1
    assert sample(seen, "beat_credentials", source="s2", state="usable") == 1


async def test_get_metrics_serves_the_process_and_database_metrics(
        client: httpx.AsyncClient, settings: Settings) -> None:
    flow = "noop"
    before = value("beat_tasks_enqueued_total", flow=flow)
    answer = await client.post(f"/scrape_request_log/flow/{flow}", json={"params": {}})
    assert answer.status_code in (200, 201), answer.text
    page = await client.get("/metrics")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/plain")
    seen = metrics.parse(page.text)
    assert sample(seen, "beat_tasks_enqueued_total", flow=flow) == before + 1
    assert sample(seen, "beat_queue_depth", flow=flow, status="PENDING") == 1
