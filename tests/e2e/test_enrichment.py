"""GPT enrichment end to end: the sandbox (Instagram and the chat model), the server and the
workers as real processes. An account refreshed from the Graph API is enriched by all six
flows (stored results, prompt versions, token accounting against the model's own counts, cost,
events, `?include=enrichment`); a new prompt version stores a second result beside the first;
an invalid JSON answer is asked again once, and fails the task saying why when it comes twice;
a 429 is waited out; a timed-out call is retried."""

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import yaml

from core import db
from enrichment.flows import ASPECTS
from enrichment.prompts import BUILT_IN
from instagram.settings import SANDBOX_GRAPH_TOKENS
from sandbox.instagram.world import build_world
from tests.e2e.procs import Launcher, free_port, wait_server_ready, wait_worker_ready
from tests.e2e.support import TaskApi

FLOWS = ",".join(["refresh_profile_by_handle", *ASPECTS])
REDIS_URL = "redis://127.0.0.1:6379/0"
PRICES = (0.15, 0.60)  # the default USD per million tokens in and out
GENDER, LOCATION = ("refresh_instagram_gpt_data_base_gender",
                    "refresh_instagram_gpt_data_base_location")


class Stack(TaskApi):
    def __init__(self, api: httpx.AsyncClient, sandbox: httpx.AsyncClient, pool: asyncpg.Pool,
                 prompt_dir: Path) -> None:
        self.api, self.sandbox, self.pool, self.prompt_dir = api, sandbox, pool, prompt_dir

    async def model(self) -> dict[str, Any]:
        return dict((await self.sandbox.get("/_sandbox/openai")).json())

    async def queue_faults(self, *kinds: str, **options: float) -> None:
        answer = await self.sandbox.post("/_sandbox/openai/faults",
                                         json={"next": list(kinds), **options})
        assert answer.status_code == 200, answer.text


@pytest.fixture(scope="module")
async def stack(launcher: Launcher, database_url: str,
                tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    sandbox_port, api_port = free_port(), free_port()
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    prompt_dir = tmp_path_factory.mktemp("prompts")
    launcher.spawn("sandbox", ["sandbox", "--port", str(sandbox_port)], launcher.env())
    settings = {"SANDBOX_URL": sandbox_url, "REDIS_URL": REDIS_URL,
                "INSTAGRAM_GRAPH_TOKENS": ",".join(SANDBOX_GRAPH_TOKENS)}
    worker = launcher.worker(FLOWS, WORKER_PROCESS_CAP=1, QUEUE_POLL_INTERVAL=0.5,
                             ENRICHMENT_PROMPT_DIRS=str(prompt_dir), OPENAI_TIMEOUT_S=1,
                             **settings)
    server = launcher.server(api_port, **settings)
    await wait_server_ready(server, api_port)
    await wait_worker_ready(worker, database_url, workers=len(FLOWS.split(",")))
    pool = await db.create_pool(database_url)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_port}", timeout=30) as api, \
            httpx.AsyncClient(base_url=sandbox_url, timeout=30) as sandbox:
        yield Stack(api, sandbox, pool, prompt_dir)
    await pool.close()


@pytest.fixture(scope="module")
async def account(stack: Stack) -> dict[str, Any]:
    """A business account refreshed from the sandbox's Graph API, with two comments stored on
    its newest post."""
    [handle] = build_world(1).business_handles(1)
    task = await stack.run("refresh_profile_by_handle", {"handle": handle})
    assert task["status"] == "COMPLETE", task["last_error"]
    row = dict(await stack.pool.fetchrow("SELECT * FROM instagram_account WHERE handle = $1",
                                         handle))
    newest = await stack.pool.fetchval(
        "SELECT post_id FROM instagram_post WHERE profile_id = $1 "
        "ORDER BY publish_time DESC LIMIT 1", row["profile_id"])
    await stack.pool.execute(
        "INSERT INTO instagram_comment (comment_id, post_id, text, likes) VALUES "
        "('e2e-c1', $1, 'Greetings from Porto, love this', 3), "
        "('e2e-c2', $1, 'Need this in Chennai too', 1)", newest)
    return row


async def test_all_six_flows_store_their_results_with_prompt_versions_and_tokens(
        stack: Stack, account: dict[str, Any]) -> None:
    before = await stack.model()
    ids = {flow: await stack.enqueue(flow, {"handle": account["handle"]}) for flow in ASPECTS}
    tasks = {flow: await stack.finished(task_id) for flow, task_id in ids.items()}
    for flow, task in tasks.items():
        assert task["status"] == "COMPLETE", (flow, task["last_error"])
        assert task["data"]["calls"] == 1 and task["data"]["prompt_version"] == "1.0"
    rows = {r["flow"]: dict(r) for r in await stack.pool.fetch(
        "SELECT * FROM gpt_enrichment WHERE profile_id = $1", account["profile_id"])}
    assert set(rows) == set(ASPECTS)
    after = await stack.model()
    # Token accounting: what the rows record is what the model counted, call by call.
    assert sum(r["tokens_in"] for r in rows.values()) == \
        after["prompt_tokens"] - before["prompt_tokens"]
    assert sum(r["tokens_out"] for r in rows.values()) == \
        after["completion_tokens"] - before["completion_tokens"]
    for flow, (aspect, prompt) in ASPECTS.items():
        row = rows[flow]
        assert (row["aspect"], row["prompt_name"], row["prompt_version"], row["model"]) == (
            aspect, prompt, "1.0", "gpt-4o-mini")
        assert row["tokens_in"] > 0 and row["tokens_out"] > 0
        cost = (row["tokens_in"] * PRICES[0] + row["tokens_out"] * PRICES[1]) / 1e6
        assert float(row["cost_usd"]) == pytest.approx(cost, abs=1e-8)
        assert row["result"] == tasks[flow]["data"]["result"]
    # The prompts saw the stored bio, captions and comments.
    sent = [r["messages"][1]["content"] for r in after["recent"][-6:]]
    assert all(f"Handle: {account['handle']}" in text for text in sent)
    assert any("Greetings from Porto, love this" in text for text in sent)
    events = await stack.pool.fetch(
        "SELECT * FROM event_outbox WHERE type = 'enrichment.instagram.created' "
        "AND entity_key = $1", account["profile_id"])
    assert len(events) == 6
    answer = await stack.api.get(f"/profiles/INSTAGRAM/byhandle/{account['handle']}",
                                 params={"include": "enrichment"})
    assert answer.status_code == 200, answer.text
    included = answer.json()["enrichment"]
    assert set(included) == {aspect for aspect, _ in ASPECTS.values()}
    assert included["audience_cities"][0]["result"] == \
        rows["refresh_instagram_gpt_data_audience_cities"]["result"]


async def test_a_new_prompt_version_stores_a_second_result_beside_the_first(
        stack: Stack, account: dict[str, Any]) -> None:
    first = await stack.run(GENDER, {"handle": account["handle"]})
    assert first["status"] == "COMPLETE", first["last_error"]
    raw = yaml.safe_load((BUILT_IN / "base_gender.yaml").read_text())
    raw.update(version="1.1", system=raw["system"] + "Prefer unknown when in doubt.\n")
    (stack.prompt_dir / "base_gender-1.1.yaml").write_text(yaml.safe_dump(raw))
    second = await stack.run(GENDER, {"handle": account["handle"]})
    assert second["status"] == "COMPLETE", second["last_error"]
    assert second["data"]["prompt_version"] == "1.1" and second["data"]["created"]
    versions = await stack.pool.fetch(
        "SELECT prompt_version, result FROM gpt_enrichment WHERE profile_id = $1 "
        "AND aspect = 'base_gender' ORDER BY prompt_version", account["profile_id"])
    assert [v["prompt_version"] for v in versions] == ["1.0", "1.1"]
    answer = await stack.api.get(f"/profiles/INSTAGRAM/byhandle/{account['handle']}",
                                 params={"include": "enrichment"})
    runs = answer.json()["enrichment"]["base_gender"]
    assert [r["prompt_version"] for r in runs] == ["1.1", "1.0"]


async def test_an_invalid_json_answer_is_asked_again_once(stack: Stack,
                                                          account: dict[str, Any]) -> None:
    await stack.queue_faults("invalid_json")
    before = (await stack.model())["requests"]
    task = await stack.run(LOCATION, {"handle": account["handle"]})
    assert task["status"] == "COMPLETE", task["last_error"]
    assert task["data"]["calls"] == 2 and task["data"]["invalid_answers"][0].startswith(
        "not JSON")
    model = await stack.model()
    assert model["requests"] == before + 2
    assert model["recent"][-1]["messages"][-1]["content"].startswith("Your answer was not valid")


async def test_two_invalid_json_answers_fail_the_task_with_a_reason(
        stack: Stack, account: dict[str, Any]) -> None:
    await stack.queue_faults("invalid_json", "invalid_json")
    before = (await stack.model())["requests"]
    task = await stack.run(LOCATION, {"handle": account["handle"]})
    assert task["status"] == "FAILED" and task["error_kind"] == "invalid_answer"
    assert "the model's answer was invalid twice" in task["last_error"]
    assert "last: not JSON" in task["last_error"]
    await asyncio.sleep(1)  # a retry, had there been one, would have asked again by now
    assert (await stack.model())["requests"] == before + 2  # retried once, then not again


async def test_a_429_is_waited_out(stack: Stack, account: dict[str, Any]) -> None:
    await stack.queue_faults("rate_limit", retry_after_s=2)
    before = (await stack.model())["requests"]
    started = time.monotonic()
    task_id = await stack.enqueue(GENDER, {"handle": account["handle"]})
    task = await stack.finished(task_id)
    assert task["status"] == "COMPLETE", task["last_error"]
    assert time.monotonic() - started >= 2  # the retry-after was kept
    model = await stack.model()
    assert model["faulted"]["rate_limit"] == 1 and model["requests"] == before + 2
    assert task["data"]["calls"] == 1  # the answer's own call
    retries = await stack.pool.fetchval(
        "SELECT retry_count FROM scrape_request_log WHERE id = $1", task_id)
    assert retries == 1  # run twice, but the wait used no attempt


async def test_a_timed_out_call_is_retried(stack: Stack, account: dict[str, Any]) -> None:
    await stack.queue_faults("timeout", timeout_s=3)  # the workers give a call 1 s
    task_id = await stack.enqueue(GENDER, {"handle": account["handle"]})
    task = await stack.finished(task_id)
    assert task["status"] == "COMPLETE", task["last_error"]
    assert (await stack.model())["faulted"]["timeout"] == 1
    retries = await stack.pool.fetchval(
        "SELECT retry_count FROM scrape_request_log WHERE id = $1", task_id)
    assert retries == 2
