"""POST /v1/chat/completions in the shape of OpenAI's API (id, object, created, model, choices,
usage, system_fingerprint; its error bodies), and its control under /_sandbox/openai (never
faulted, never counted):

    GET    /_sandbox/openai            requests answered, tokens counted, faults still queued,
                                       the last requests' messages (newest last)
    POST   /_sandbox/openai/faults     {"next": ["rate_limit"|"server_error"|"timeout"|
                                       "invalid_json"|"schema_invalid", ...], "retry_after_s"?,
                                       "status"?, "timeout_s"?}: the next requests, one each,
                                       get these faults in order (appended to those queued)
    DELETE /_sandbox/openai/faults     drop the queued faults

A request needs `Authorization: Bearer <any key>` (401 invalid_api_key without). With
`response_format` {"type": "json_schema", "json_schema": {"schema": ...}} the content is JSON
valid against that schema; {"type": "json_object"} any JSON object; otherwise text.
"""

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from sandbox.openai.answers import (
    breaking,
    conversation_digest,
    json_answer,
    text_answer,
    tokens,
)

router = APIRouter(prefix="/v1")
control = APIRouter(prefix="/_sandbox/openai")
FaultKind = Literal["rate_limit", "server_error", "timeout", "invalid_json", "schema_invalid"]
KEPT_REQUESTS = 50


class FaultQueue(BaseModel):
    next: list[FaultKind] = Field(min_length=1, max_length=1000)
    retry_after_s: float = Field(default=1.0, ge=0, le=3600)
    status: int = Field(default=503, ge=500, le=599)
    timeout_s: float = Field(default=30.0, ge=0, le=600)


@dataclass
class OpenAIState:
    faults: deque[tuple[FaultKind, FaultQueue]] = field(default_factory=deque)
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    faulted: dict[str, int] = field(default_factory=dict)
    recent: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=KEPT_REQUESTS))

    def snapshot(self) -> dict[str, Any]:
        return {"requests": self.requests, "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens, "faulted": dict(self.faulted),
                "queued": [kind for kind, _ in self.faults], "recent": list(self.recent)}


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    model: str = Field(min_length=1)
    messages: list[dict[str, Any]] = Field(min_length=1)
    response_format: dict[str, Any] | None = None


def state_of(request: Request) -> OpenAIState:
    return cast(OpenAIState, request.app.state.openai)


def error(status: int, message: str, kind: str, code: str | None,
          headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return JSONResponse(body, status_code=status, headers=headers)


@router.post("/chat/completions")
async def chat_completions(request: Request, chat: ChatRequest) -> JSONResponse:
    if not request.headers.get("authorization", "").removeprefix("Bearer ").strip():
        return error(401, "You didn't provide an API key.", "invalid_request_error",
                     "invalid_api_key")
    state = state_of(request)
    state.requests += 1
    state.recent.append({"model": chat.model, "messages": chat.messages})
    fault = state.faults.popleft() if state.faults else None
    if fault is not None:
        state.faulted[fault[0]] = state.faulted.get(fault[0], 0) + 1
        refused = await _refusal(*fault)
        if refused is not None:
            return refused
    content = _content(chat, fault[0] if fault else None)
    return JSONResponse(_completion(state, chat, content))


async def _refusal(kind: FaultKind, queued: FaultQueue) -> JSONResponse | None:
    if kind == "rate_limit":
        wait = f"{queued.retry_after_s:g}"
        return error(429, f"Rate limit reached for requests. Please try again in {wait}s.",
                     "requests", "rate_limit_exceeded", {"retry-after": wait})
    if kind == "server_error":
        return error(queued.status, "The server had an error while processing your request.",
                     "server_error", None)
    if kind == "timeout":
        await asyncio.sleep(queued.timeout_s)
    return None


def _schema(chat: ChatRequest) -> dict[str, Any] | None:
    form = chat.response_format or {}
    if form.get("type") == "json_schema":
        return dict(form.get("json_schema", {}).get("schema") or {"type": "object"})
    return None


def _content(chat: ChatRequest, fault: FaultKind | None) -> str:
    schema = _schema(chat)
    wants_json = schema is not None or (chat.response_format or {}).get("type") == "json_object"
    if fault == "invalid_json":
        return '{"answer": "cut off in the midd'
    if fault == "schema_invalid":
        return breaking(schema)
    return json_answer(chat.messages, schema) if wants_json else text_answer(chat.messages)


def _completion(state: OpenAIState, chat: ChatRequest, content: str) -> dict[str, Any]:
    prompt = sum(4 + tokens(str(m.get("content") or "")) for m in chat.messages) + 3
    completion = tokens(content)
    state.prompt_tokens += prompt
    state.completion_tokens += completion
    digest = conversation_digest(chat.messages).hex()
    return {
        "id": f"chatcmpl-sbx{digest[:26]}", "object": "chat.completion",
        "created": int(time.time()), "model": chat.model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content,
                                             "refusal": None},
                     "logprobs": None, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                  "total_tokens": prompt + completion},
        "system_fingerprint": "fp_sandbox",
    }


@control.get("")
async def get_state(request: Request) -> dict[str, Any]:
    return state_of(request).snapshot()


@control.post("/faults")
async def queue_faults(request: Request, queued: FaultQueue) -> dict[str, Any]:
    state = state_of(request)
    state.faults.extend((kind, queued) for kind in queued.next)
    return state.snapshot()


@control.delete("/faults")
async def clear_faults(request: Request) -> dict[str, Any]:
    state = state_of(request)
    state.faults.clear()
    return state.snapshot()
