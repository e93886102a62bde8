"""Asking the chat model: one Source ("openai_chat") behind the shared rate limiter and circuit
breaker like every platform source, the OpenAI SDK's errors translated into Beat's at the
boundary, and the answer checked against the prompt's schema.

An answer that is not JSON, or not valid against the schema, is asked again once with the
validation error in the conversation; a second bad answer fails the task for good
(InvalidAnswer), saying what was wrong. A 429 is RateLimited with the server's retry-after
(the task runs again after it, without using an attempt); 5xx, timeouts and connection errors
are SourceUnavailable; a refused key is CredentialInvalid; any other 4xx is Permanent."""

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from core.config import Settings
from core.errors import CredentialInvalid, Permanent, RateLimited, SourceUnavailable
from core.ratelimit import process_limiter, source_limits
from core.sources import Director
from enrichment.prompts import Prompt
from enrichment.settings import SOURCE, EnrichmentSettings

if TYPE_CHECKING:
    import openai

DEFAULT_RETRY_AFTER_S = 20.0
FIX_REQUEST = ("Your answer was not valid: {error}\nAnswer again with only the JSON object, "
               "valid against the schema.")


class InvalidAnswer(Permanent):
    """The model answered twice with JSON that does not fit the prompt's schema."""

    kind = "invalid_answer"


@dataclass(frozen=True)
class Completion:
    content: str
    model: str
    tokens_in: int
    tokens_out: int


@dataclass
class Answer:
    """A validated answer with what it took: calls, tokens in and out, the model that said."""

    value: dict[str, Any]
    model: str
    calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    errors: list[str] = field(default_factory=list)


class ChatSource:
    name = SOURCE
    capabilities = frozenset({"chat"})
    needs_credential = False  # one key from the settings, not the credential table

    def __init__(self, settings: Settings, own: EnrichmentSettings,
                 http_client: Any = None) -> None:
        """`http_client`: an httpx-style AsyncClient for the SDK to send through (the tests
        reach the sandbox in process with one); the SDK's own by default."""
        # The SDK takes 0.4 s to import: loaded by the first chat source, not by every process
        # that loads the flows.
        from openai import AsyncOpenAI

        key = own.api_key(settings)
        self.model = own.openai_model
        self.client = None if key is None else AsyncOpenAI(
            api_key=key, base_url=own.base_url(settings), timeout=own.openai_timeout_s,
            max_retries=0,  # retries are the queue's: with backoff, limits and accounting
            http_client=http_client)

    async def call(self, capability: str, **params: Any) -> Completion:
        if self.client is None:
            raise Permanent("OPENAI_API_KEY is not set (and no SANDBOX_URL)")
        import openai  # imported by __init__ already

        try:
            reply = await self.client.chat.completions.create(model=self.model, **params)
        except openai.APIStatusError as exc:
            raise translate(exc) from None
        except (openai.APITimeoutError, openai.APIConnectionError) as exc:
            raise SourceUnavailable(f"{SOURCE}: {type(exc).__name__}: {exc}") from None
        if not reply.choices or reply.usage is None:
            raise SourceUnavailable(f"{SOURCE}: an answer without choices or usage")
        return Completion(reply.choices[0].message.content or "", reply.model,
                          reply.usage.prompt_tokens, reply.usage.completion_tokens)


def translate(exc: "openai.APIStatusError") -> Exception:
    status, message = exc.status_code, f"{SOURCE}: {exc.status_code} {exc.message}"
    if status == 429:
        return RateLimited(retry_after(exc.response.headers), message)
    if status >= 500:
        return SourceUnavailable(message)
    if status in (401, 403):
        return CredentialInvalid(message)
    return Permanent(message)


def retry_after(headers: Any) -> float:
    """Seconds from retry-after-ms or retry-after (OpenAI sends both); 20 s without."""
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        try:
            return max(0.0, float(headers.get(name, "")) / scale)
        except ValueError:
            continue
    return DEFAULT_RETRY_AFTER_S


_directors: dict[int, tuple[Settings, Director]] = {}


def director(settings: Settings, http_client: Any = None) -> Director:
    """One per process and settings: the client's connections and the breaker are reused."""
    if id(settings) not in _directors:
        own = EnrichmentSettings.of(settings)
        chain = Director([ChatSource(settings, own, http_client)],
                         limiter=process_limiter(settings), limits=source_limits(settings))
        _directors[id(settings)] = (settings, chain)
    return _directors[id(settings)][1]


async def ask(chain: Director, prompt: Prompt, user: str) -> Answer:
    """The prompt's answer to `user`, validated; one more try with the error when invalid."""
    messages: list[dict[str, str]] = [{"role": "system", "content": prompt.system},
                                      {"role": "user", "content": user}]
    answer = Answer({}, "")
    for _ in range(2):
        got = (await chain.fetch("chat", messages=messages, temperature=prompt.temperature,
                                 response_format=prompt.response_format())).value
        answer.calls += 1
        answer.tokens_in += got.tokens_in
        answer.tokens_out += got.tokens_out
        answer.model = got.model
        try:
            answer.value = validated(prompt.answer_model, got.content)
            return answer
        except ValueError as exc:
            answer.errors.append(str(exc))
            messages += [{"role": "assistant", "content": got.content},
                         {"role": "user", "content": FIX_REQUEST.format(error=exc)}]
    raise InvalidAnswer(f"prompt {prompt.name} {prompt.version}: the model's answer was invalid "
                        f"twice ({answer.tokens_in} tokens in, {answer.tokens_out} out); "
                        f"last: {answer.errors[-1]}")


def validated(model: type[BaseModel], content: str) -> dict[str, Any]:
    """The answer as a dict; ValueError saying in one line what is wrong with it."""
    try:
        json.loads(content)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc})") from None
    try:
        return model.model_validate_json(content).model_dump()
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'answer'}: {e['msg']}"
                             for e in exc.errors()[:5])
        raise ValueError(f"does not fit the schema ({problems})") from None
