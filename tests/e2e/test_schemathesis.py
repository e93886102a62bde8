"""Property-based run of every operation in the app's own OpenAPI (schemathesis) against the real
server, workers and the YouTube sandbox as processes: no answer may be a 5xx, and every answer
whose status the schema documents must match its schema. Valid and invalid inputs both;
deterministic (fixed seed, no example database), with long-poll and refresh waits kept short
so the run takes a few minutes."""

import asyncio
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.schemas import BaseSchema
from schemathesis.specs.openapi.checks import response_schema_conformance

from core.api.app import create_app
from core.config import Settings
from tests.e2e.procs import Launcher, free_port, wait_server_ready, wait_worker_ready

CALLER_KEY = "schemathesis-caller-key"
ADMIN_KEY = "schemathesis-admin-key"
HEADERS = {"Authorization": f"Bearer {ADMIN_KEY}"}
YOUTUBE_KEYS = "sandbox-key-1,sandbox-key-2"
# The flows the API enqueues by itself (refreshes) plus the two utility flows.
FLOWS = "noop,sleep,refresh_yt_profiles,refresh_yt_posts,refresh_yt_posts_by_channel_id"
WORKERS = len(FLOWS.split(","))
MAX_EXAMPLES = 50
MAX_WAIT_S = 0.5


@pytest.fixture(scope="module")
def api_url(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Sandbox, workers and server as processes, API keys on (caller and admin)."""
    workdir = tmp_path_factory.mktemp("schemathesis")
    launcher = Launcher(database_url, workdir)
    try:
        sandbox_port, api_port = free_port(), free_port()
        launcher.spawn("sandbox", ["sandbox", "--port", str(sandbox_port)], launcher.env())
        settings = _settings(workdir, f"http://127.0.0.1:{sandbox_port}")
        worker = launcher.worker(FLOWS, WORKER_PROCESS_CAP=1, **settings)
        server = launcher.server(api_port, **settings)
        asyncio.run(wait_server_ready(server, api_port))
        asyncio.run(wait_worker_ready(worker, database_url, workers=WORKERS))
        yield f"http://127.0.0.1:{api_port}"
    finally:
        launcher.stop_all()


def _settings(home: Path, sandbox_url: str) -> dict[str, str]:
    return {"SANDBOX_URL": sandbox_url, "YOUTUBE_API_KEYS": YOUTUBE_KEYS, "BEAT_HOME": str(home),
            "BEAT_API_KEYS": CALLER_KEY, "BEAT_ADMIN_KEYS": ADMIN_KEY,
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            "RATE_LIMIT_PREFIX": f"beat-schemathesis:{home.name}"}


def load_schema() -> BaseSchema:
    """The OpenAPI of the app as built by create_app (schemathesis needs it at collection time;
    the test checks the running server serves the same document)."""
    document = create_app(Settings(database_url="postgresql://127.0.0.1/unused")).openapi()
    loaded = schemathesis.openapi.from_dict(document)
    loaded.config.update(headers=HEADERS)
    loaded.config.seed = 20_240_101
    loaded.config.generation.update(modes=list(GenerationMode), max_examples=MAX_EXAMPLES,
                                    deterministic=True, database="none")
    return loaded


schema = load_schema()


@pytest.fixture(scope="module")
def served_schema_checked(api_url: str) -> str:
    served = httpx.get(f"{api_url}/openapi.json").json()
    assert served == schema.raw_schema, "the server serves another OpenAPI than create_app builds"
    return api_url


def shorten_waits(case: schemathesis.Case[Any]) -> None:
    """`wait` (long-poll, refresh) at most MAX_WAIT_S: the run checks answers, not patience."""
    query = case.query or {}
    try:
        wait = float(query["wait"])
    except (KeyError, TypeError, ValueError):
        return
    if math.isfinite(wait) and wait > MAX_WAIT_S:
        query["wait"] = MAX_WAIT_S


@schema.parametrize()
def test_every_operation_answers_without_server_errors_and_as_documented(
        case: schemathesis.Case[Any], served_schema_checked: str) -> None:
    api_url = served_schema_checked
    shorten_waits(case)
    try:
        case.call_and_validate(base_url=api_url, headers=HEADERS, timeout=30,
                               checks=[not_a_server_error, response_schema_conformance])
    finally:
        if case.operation.method.upper() == "PUT" and case.operation.path == "/heartbeat":
            # A drained server answers GET /heartbeat with 503 on purpose: undo it at once.
            httpx.put(f"{api_url}/heartbeat", params={"beat": "true"}, headers=HEADERS)
