"""Asking the chat model through the OpenAI SDK against the sandbox (in process): a valid
answer with its token counts; an invalid one asked again once with the validation error in the
conversation; two invalid ones fail for good saying why; a 429 is a wait of the server's
retry-after; a 5xx is the source being unavailable; a missing key is refused."""

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI

from core.config import Settings
from core.errors import AllSourcesFailed, Permanent, RateLimited
from core.platforms import all_secrets
from core.sources import Director
from enrichment.chat import ChatSource, InvalidAnswer, ask
from enrichment.prompts import Prompt, pick
from enrichment.settings import EnrichmentSettings
from sandbox.app import create_sandbox_app
from tests.sandbox.helpers import client_for

USER = "Handle: ana.travels\nName: Ana\nBio: coffee, mountains and long trains"


@pytest.fixture
def app() -> FastAPI:
    return create_sandbox_app(seed=1)


@pytest.fixture
async def chain(app: FastAPI) -> AsyncIterator[Director]:
    settings = Settings(sandbox_url="http://test")
    own = EnrichmentSettings.of(settings).model_copy(update={"openai_timeout_s": 0.5})
    async with client_for(app) as client:
        yield Director([ChatSource(settings, own, http_client=client)])


@pytest.fixture
def prompt() -> Prompt:
    return pick("instagram_base_gender", [])


async def sandbox(app: FastAPI, method: str, path: str, **body: Any) -> dict[str, Any]:
    async with client_for(app) as client:
        answer = await client.request(method, path, json=body or None)
        return dict(answer.json())


async def test_a_valid_answer_comes_with_its_tokens(chain: Director, prompt: Prompt,
                                                    app: FastAPI) -> None:
    answer = await ask(chain, prompt, USER)
    assert answer.value["gender"] in ("male", "female", "organization", "unknown")
    assert 0 <= answer.value["confidence"] <= 1 and answer.calls == 1
    counted = await sandbox(app, "GET", "/_sandbox/openai")
    assert (answer.tokens_in, answer.tokens_out) == (counted["prompt_tokens"],
                                                     counted["completion_tokens"])
    assert answer.model == "gpt-4o-mini"
    sent = counted["recent"][0]
    assert sent["messages"][0]["content"] == prompt.system
    assert sent["messages"][1]["content"] == USER
    assert (await ask(chain, prompt, USER)).value == answer.value  # deterministic


@pytest.mark.parametrize("fault", ["invalid_json", "schema_invalid"])
async def test_an_invalid_answer_is_asked_again_with_the_error(
        chain: Director, prompt: Prompt, app: FastAPI, fault: str) -> None:
    await sandbox(app, "POST", "/_sandbox/openai/faults", next=[fault])
    answer = await ask(chain, prompt, USER)
    assert answer.calls == 2 and len(answer.errors) == 1
    assert answer.value["gender"] in ("male", "female", "organization", "unknown")
    counted = await sandbox(app, "GET", "/_sandbox/openai")
    assert answer.tokens_in == counted["prompt_tokens"]  # both calls are counted
    retry = counted["recent"][-1]["messages"]
    assert [m["role"] for m in retry] == ["system", "user", "assistant", "user"]
    assert retry[3]["content"].startswith("Your answer was not valid: " + answer.errors[0])
    expected = "not JSON" if fault == "invalid_json" else "does not fit the schema"
    assert answer.errors[0].startswith(expected)


async def test_two_invalid_answers_fail_for_good_saying_why(chain: Director, prompt: Prompt,
                                                           app: FastAPI) -> None:
    await sandbox(app, "POST", "/_sandbox/openai/faults", next=["schema_invalid", "invalid_json"])
    with pytest.raises(InvalidAnswer) as failed:
        await ask(chain, prompt, USER)
    assert isinstance(failed.value, Permanent) and failed.value.kind == "invalid_answer"
    message = str(failed.value)
    assert message.startswith("prompt instagram_base_gender 1.0: the model's answer was invalid "
                              "twice (")
    assert "last: not JSON" in message


async def test_a_429_is_a_wait_of_the_servers_retry_after(chain: Director, prompt: Prompt,
                                                         app: FastAPI) -> None:
    await sandbox(app, "POST", "/_sandbox/openai/faults", next=["rate_limit"], retry_after_s=7)
    with pytest.raises(RateLimited) as limited:
        await ask(chain, prompt, USER)
    assert limited.value.retry_after == 7
    assert (await ask(chain, prompt, USER)).calls == 1  # the next call is answered


async def test_a_5xx_leaves_the_task_to_be_retried(chain: Director, prompt: Prompt,
                                                  app: FastAPI) -> None:
    # (A timeout needs a real socket: the end-to-end test has one.)
    await sandbox(app, "POST", "/_sandbox/openai/faults", next=["server_error"], status=502)
    with pytest.raises(AllSourcesFailed, match="openai_chat: 502"):
        await ask(chain, prompt, USER)


async def test_without_a_key_or_sandbox_the_call_is_refused(prompt: Prompt) -> None:
    settings = Settings(sandbox_url=None)
    own = EnrichmentSettings.of(settings).model_copy(update={"openai_api_key": None})
    with pytest.raises(Permanent, match="OPENAI_API_KEY is not set"):
        await ask(Director([ChatSource(settings, own)]), prompt, USER)


def test_the_base_url_and_key_follow_sandbox_mode() -> None:
    sandboxed = Settings(sandbox_url="http://127.0.0.1:8900/")
    own = EnrichmentSettings.of(sandboxed)
    assert own.base_url(sandboxed) == "http://127.0.0.1:8900/v1"
    real = Settings(sandbox_url=None)
    assert EnrichmentSettings.of(real).base_url(real) == "https://api.openai.com/v1"
    keyed = Settings(sandbox_url=None, platform_settings={"enrichment": {
        "openai_api_key": "sk-live-abcdefghijklmnop", "openai_base_url": "http://llm:8000/v1"}})
    own = EnrichmentSettings.of(keyed)
    assert own.api_key(keyed) == "sk-live-abcdefghijklmnop"
    assert own.secrets() == ["sk-live-abcdefghijklmnop"]
    assert "sk-live" not in repr(own) and own.base_url(keyed) == "http://llm:8000/v1"
    assert "sk-live-abcdefghijklmnop" in all_secrets(keyed)  # masked in logs and errors
    assert own.cost_usd(1_000_000, 1_000_000) == pytest.approx(0.75)
    assert json.loads(json.dumps(own.cost_usd(1234, 56))) == pytest.approx(0.0002187)
