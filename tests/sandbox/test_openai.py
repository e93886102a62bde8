"""The sandbox's OpenAI-compatible chat completions: the real response shape, answers valid
against the request's JSON schema and derived from its messages (same conversation, same
answer), usage counts, and the faults its control API queues."""

import json
import time
from typing import Any

import httpx
import jsonschema
import pytest

from sandbox.app import create_sandbox_app
from tests.sandbox.helpers import client_for

AUTH = {"authorization": "Bearer sk-sandbox"}
SCHEMA = {
    "type": "object", "additionalProperties": False,
    "required": ["gender", "confidence", "cities", "topics", "verified", "note"],
    "properties": {
        "gender": {"type": "string", "enum": ["male", "female", "mixed"]},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "cities": {"type": "array", "minItems": 1, "maxItems": 5,
                   "items": {"$ref": "#/$defs/city"}},
        "topics": {"type": "array", "items": {"type": "string", "maxLength": 40}},
        "verified": {"type": "boolean"},
        "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
    },
    "$defs": {"city": {"type": "object", "additionalProperties": False,
                       "required": ["name", "share"],
                       "properties": {"name": {"type": "string"},
                                      "share": {"type": "integer", "minimum": 0,
                                                "maximum": 100}}}},
}


def chat(user: str, schema: dict[str, Any] | None = SCHEMA) -> dict[str, Any]:
    body: dict[str, Any] = {"model": "gpt-4o-mini", "messages": [
        {"role": "system", "content": "You analyse Instagram profiles."},
        {"role": "user", "content": user}]}
    if schema is not None:
        body["response_format"] = {"type": "json_schema",
                                   "json_schema": {"name": "answer", "strict": True,
                                                   "schema": schema}}
    return body


@pytest.fixture
async def client() -> Any:
    async with client_for(create_sandbox_app(seed=1)) as c:
        yield c


async def ask(client: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    return await client.post("/v1/chat/completions", json=body, headers=AUTH)


async def test_an_answer_has_the_real_shape_and_usage(client: httpx.AsyncClient) -> None:
    answer = await ask(client, chat("Handle: travel.with.ana Bio: coffee and mountains"))
    assert answer.status_code == 200
    body = answer.json()
    assert body["object"] == "chat.completion" and body["id"].startswith("chatcmpl-")
    assert body["model"] == "gpt-4o-mini" and abs(body["created"] - time.time()) < 60
    [choice] = body["choices"]
    assert choice["index"] == 0 and choice["finish_reason"] == "stop"
    assert choice["message"]["role"] == "assistant"
    usage = body["usage"]
    assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


async def test_answers_are_schema_valid_and_follow_the_messages(
        client: httpx.AsyncClient) -> None:
    contents = []
    for user in ("Bio: coffee and mountains", "Bio: football every sunday",
                 "Bio: coffee and mountains"):
        answer = (await ask(client, chat(user))).json()
        content = json.loads(answer["choices"][0]["message"]["content"])
        jsonschema.validate(content, SCHEMA)
        contents.append(content)
    assert contents[0] == contents[2]  # the same conversation: the same answer
    assert contents[0] != contents[1]


async def test_listed_items_get_one_judgement_each(client: httpx.AsyncClient) -> None:
    schema = {"type": "object", "additionalProperties": False, "required": ["comments"],
              "properties": {"comments": {"type": "array", "items": {
                  "type": "object", "additionalProperties": False, "required": ["id", "label"],
                  "properties": {"id": {"type": "string"},
                                 "label": {"type": "string", "enum": ["positive", "negative"]}}}}}}
    user = "Comments:\nc1: love it\nc2: hate it\nc10: meh"
    content = (await ask(client, chat(user, schema))).json()["choices"][0]["message"]["content"]
    assert [item["id"] for item in json.loads(content)["comments"]] == ["c1", "c2", "c10"]


async def test_without_a_schema_the_answer_is_text_or_a_json_object(
        client: httpx.AsyncClient) -> None:
    text = (await ask(client, chat("hello there", schema=None))).json()
    assert text["choices"][0]["message"]["content"].startswith("Sandbox answer")
    body = {**chat("hello", schema=None), "response_format": {"type": "json_object"}}
    content = (await ask(client, body)).json()["choices"][0]["message"]["content"]
    assert isinstance(json.loads(content), dict)


async def test_a_request_without_a_key_is_refused(client: httpx.AsyncClient) -> None:
    answer = await client.post("/v1/chat/completions", json=chat("x"))
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "invalid_api_key"


async def test_queued_faults_hit_the_next_requests_in_order(client: httpx.AsyncClient) -> None:
    queued = await client.post("/_sandbox/openai/faults", json={
        "next": ["rate_limit", "server_error", "invalid_json", "schema_invalid"],
        "retry_after_s": 7, "status": 502})
    assert queued.json()["queued"] == ["rate_limit", "server_error", "invalid_json",
                                       "schema_invalid"]
    limited = await ask(client, chat("a"))
    assert limited.status_code == 429 and limited.headers["retry-after"] == "7"
    assert limited.json()["error"]["code"] == "rate_limit_exceeded"
    failed = await ask(client, chat("a"))
    assert failed.status_code == 502 and failed.json()["error"]["type"] == "server_error"
    broken = (await ask(client, chat("a"))).json()["choices"][0]["message"]["content"]
    with pytest.raises(json.JSONDecodeError):
        json.loads(broken)
    wrong = json.loads((await ask(client, chat("a"))).json()["choices"][0]["message"]["content"])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(wrong, SCHEMA)
    jsonschema.validate(json.loads((await ask(client, chat("a"))).json()[
        "choices"][0]["message"]["content"]), SCHEMA)  # the queue is spent
    state = (await client.get("/_sandbox/openai")).json()
    assert state["requests"] == 5 and state["queued"] == []
    assert state["faulted"] == {"rate_limit": 1, "server_error": 1, "invalid_json": 1,
                                "schema_invalid": 1}
    assert state["recent"][-1]["messages"][1]["content"] == "a"


async def test_a_timeout_fault_holds_the_answer(client: httpx.AsyncClient) -> None:
    await client.post("/_sandbox/openai/faults", json={"next": ["timeout"], "timeout_s": 0.3})
    started = time.monotonic()
    answer = await ask(client, chat("slow"))
    assert answer.status_code == 200 and time.monotonic() - started >= 0.3


async def test_rate_faults_answer_in_openai_error_shape(client: httpx.AsyncClient) -> None:
    await client.post("/_sandbox/faults", json={"prefix": "/v1/", "rate_limit_rate": 1.0,
                                                "retry_after_s": 3})
    answer = await ask(client, chat("b"))
    assert answer.status_code == 429 and answer.headers["retry-after"] == "3"
    assert answer.json()["error"]["code"] == "rate_limit_exceeded"
