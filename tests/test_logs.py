"""Log lines: JSON objects (or Beat's text layout) through one structlog pipeline, stdlib
`logging` calls included, with the task and source bound on every line while they run, and no
known secret in any line."""

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from core.config import Settings
from core.logcontext import bind_source, bind_task
from core.logs import setup_logging
from credentials import redact

SECRET = "sk-live-abcdefghijklmnopqrstuvwxyz"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()


def lines_of(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def run_task(task_id: int, flow: str) -> None:
    log = logging.getLogger("core.worker_runtime")
    with bind_task(task_id, flow, attempt=task_id % 3 + 1):
        log.info("task %d starts", task_id)
        await asyncio.sleep(0.01)  # the other task runs meanwhile: contexts must not mix
        with bind_source(f"source-{task_id}"):
            structlog.get_logger("core.sources").info("calling", capability="profile")
        log.info("task %d ends", task_id)


def test_json_lines_carry_the_fields_bound_while_a_task_runs(restore_logging: None) -> None:
    stream = io.StringIO()
    setup_logging("INFO", Settings(), "json", stream)

    async def both() -> None:
        await asyncio.gather(run_task(1, "flow_a"), run_task(2, "flow_b"))
        logging.getLogger("core.worker_runtime").info("idle")

    asyncio.run(both())
    lines = lines_of(stream)
    assert len(lines) == 7
    for line in lines[:-1]:
        task = line["task_id"]
        assert (line["flow"], line["attempt"]) == ({1: "flow_a", 2: "flow_b"}[task], task % 3 + 1)
        assert line["level"] == "info" and isinstance(line["pid"], int) and line["timestamp"]
    calls = [line for line in lines if line["event"] == "calling"]
    assert {(c["task_id"], c["source"], c["capability"]) for c in calls} == {
        (1, "source-1", "profile"), (2, "source-2", "profile")}
    assert all("source" not in line for line in lines if line["event"] != "calling")
    assert lines[-1]["event"] == "idle" and "task_id" not in lines[-1]
    assert {line["logger"] for line in lines} == {"core.worker_runtime", "core.sources"}


def test_tracebacks_and_secrets_in_json_lines(restore_logging: None) -> None:
    stream = io.StringIO()
    setup_logging("INFO", Settings(), "json", stream)
    redact.remember([SECRET])
    log = logging.getLogger("beat.test")
    try:
        raise ValueError(f"upstream said {SECRET}")
    except ValueError:
        log.exception("call failed with token %s", SECRET)
    structlog.get_logger("beat.test").warning("bound", token=SECRET)
    text = stream.getvalue()
    assert SECRET not in text and SECRET[:12] not in text
    failed, bound = lines_of(stream)
    assert failed["level"] == "error" and "ValueError: upstream said ***" in failed["exception"]
    assert failed["event"] == "call failed with token ***" and bound["token"] == "***"


def test_text_lines_keep_beats_layout_with_the_bound_fields(restore_logging: None) -> None:
    stream = io.StringIO()
    setup_logging("INFO", Settings(), "text", stream)

    async def one() -> None:
        with bind_task(7, "flow_a", 2):
            logging.getLogger("core.relay").warning("slow %s", "broker")

    asyncio.run(one())
    logging.getLogger("core.relay").debug("not shown at INFO")
    (line,) = stream.getvalue().splitlines()
    head, _, rest = line.partition(" WARNING ")
    assert len(head) == 23 and head[4] == "-" and head[19] == ","  # 2026-01-02 03:04:05,678
    assert rest.endswith("core.relay: slow broker (task_id=7 flow=flow_a attempt=2)")


def test_auto_is_json_unless_the_stream_is_a_terminal(restore_logging: None) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    piped, terminal = io.StringIO(), Terminal()
    setup_logging("INFO", Settings(log_format="auto"), stream=piped)
    logging.getLogger("x").info("hello")
    setup_logging("INFO", Settings(log_format="auto"), stream=terminal)
    logging.getLogger("x").info("hello")
    assert json.loads(piped.getvalue())["event"] == "hello"
    assert terminal.getvalue().rstrip().endswith("] x: hello")
