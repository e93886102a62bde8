"""Beat's AMQP listeners: the seed's credentials_validate, identity_token and keyword_collection;
registered packages add theirs (`Platform.listeners`: the enrichment's sentiment_analysis and
sentiment_report), run beside these by `beat listen`.

Queues and bindings (every exchange direct and durable; see core/consumers.py for the rest):

    listener              exchange     routing key              queue                   prefetch
    credentials_validate  beat.dx      credentials_validate_rk  credentials_validate_q  10
    identity_token        identity.dx  new_access_token_rk      identity_token_q        10
    keyword_collection    beat.dx      keyword_collection_rk    keyword_collection_q    1
    hashtags              beat.events  post.*.created (topic)   hashtags_q              50

The hashtags listener binds the events exchange the relay publishes to, AMQP_EXCHANGE
(beat.events above); on another exchange its queue is <exchange>.hashtags_q.

Each queue <q> also has <q>.retry (a failed message waits there before its next attempt: 30 s for
credentials_validate, 5 s for the others; 5 attempts) and <q>.dlq, bound with routing key <q> to
<exchange>.dlx (beat.dx.dlx, identity.dx.dlx). Give each message an `event_id` in the body or an
AMQP `message_id`, kept when the producer sends it again: a repeat is then skipped. A message
with neither is not handled: it goes to <q>.dlq at once, `x-beat-error` saying why.

Bodies (JSON objects; other fields are ignored):
    credentials_validate  {"id": 12}: validate stored credential 12 and record the outcome
    identity_token        {"source": "graphapi", "credentials": {"token": ..., "user_id": ...},
                           "handle"?, "idempotency_key"?, "enabled"?}: store it, encrypted
    keyword_collection    {"keyword": "lofi" | "keywords": [...], "platforms": [name, ...],
                           "max_videos"?: 50, "account_id"?}: one task of each platform's
                           keyword flow per keyword (`Platform.keyword_flow`; "platforms"
                           defaults to every platform that has one); platforms Beat cannot
                           search are skipped
    hashtags              an event of the relay: count the new post's hashtags in Redis
                           (core/hashtags/listener.py)
"""

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from core.config import ConfigError, Settings
from core.consumers import Listener, ListenerContext, Reject
from core.errors import Unsupported
from core.flows import Flow, load_flows
from core.hashtags.listener import hashtags_listener
from core.platforms import Platform, load_attribute, registry
from core.queue import NewTask
from credentials import store
from credentials.crypto import Crypto, SecretKeyError
from credentials.validator import Validator, validate_and_record

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


class ValidateRequest(BaseModel):
    id: int = Field(ge=1)


class IdentityToken(BaseModel):
    """An OAuth hand-over from the identity service; numbers among the secrets become strings."""

    model_config = ConfigDict(coerce_numbers_to_str=True)

    source: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")
    credentials: dict[str, str] = Field(min_length=1, max_length=32)
    handle: str | None = Field(default=None, max_length=256)
    enabled: bool = True
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=512)


class KeywordCollection(BaseModel):
    keyword: str | None = Field(default=None, min_length=1, max_length=256)
    keywords: list[str] = Field(default=[], max_length=500)
    platforms: list[str] | None = Field(default=None, min_length=1, max_length=50)
    max_videos: int = Field(default=50, ge=1, le=5000)
    account_id: str | None = Field(default=None, max_length=256)

    @model_validator(mode="after")
    def _some_keyword(self) -> "KeywordCollection":
        if not self.all_keywords():
            raise ValueError("give a keyword or keywords")
        return self

    def all_keywords(self) -> list[str]:
        """The distinct non-blank keywords, in order."""
        found = [k.strip() for k in [self.keyword or "", *self.keywords] if k.strip()]
        return list(dict.fromkeys(found))


def parse(model: type[M], body: dict[str, Any]) -> M:
    """The body as `model`; Reject (no retry) naming the bad fields, never their values."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
                             for e in exc.errors(include_input=False, include_url=False))
        raise Reject(f"invalid {model.__name__}: {problems}") from None


def _cached(ctx: ListenerContext, key: str, factory: Callable[[], T]) -> T:
    if key not in ctx.state:
        ctx.state[key] = factory()
    value: T = ctx.state[key]
    return value


def _crypto(ctx: ListenerContext) -> Crypto:
    try:
        return _cached(ctx, "crypto", lambda: Crypto.from_settings(ctx.settings))
    except SecretKeyError as exc:
        raise Reject(str(exc)) from None


async def credentials_validate(body: dict[str, Any], ctx: ListenerContext) -> None:
    """Ask the platform about a stored credential and record the verdict (rate limits and
    outages raise, so the message is retried)."""
    request = parse(ValidateRequest, body)
    validator = _cached(ctx, "validator", lambda: Validator.from_settings(ctx.settings))
    try:
        outcome = await validate_and_record(ctx.conn, _crypto(ctx), validator, request.id)
    except (Unsupported, SecretKeyError) as exc:
        raise Reject(str(exc)) from None
    if outcome is None:
        ctx.log.warning("credential %d does not exist: nothing to validate", request.id)


async def identity_token(body: dict[str, Any], ctx: ListenerContext) -> None:
    """Store (encrypted) the credential the identity service handed over."""
    token = parse(IdentityToken, body)
    await store.upsert(ctx.conn, _crypto(ctx), token.source, token.credentials,
                       handle=token.handle, enabled=token.enabled,
                       idempotency_key=token.idempotency_key)


async def keyword_collection(body: dict[str, Any], ctx: ListenerContext) -> None:
    """Enqueue a keyword search per keyword on each platform Beat can search."""
    request = parse(KeywordCollection, body)
    searchable = {p.name: p for p in registry(ctx.settings).values() if p.keyword_flow}
    wanted = list(dict.fromkeys(p.strip().lower() for p in request.platforms or searchable))
    skipped = [p for p in wanted if p not in searchable]
    if skipped:
        ctx.log.info("keyword collection: skipped %s (no keyword collection in Beat)",
                     ", ".join(skipped))
    for name in wanted:
        if name in searchable:
            for keyword in request.all_keywords():
                await _enqueue_keyword(ctx, searchable[name], keyword, request)


async def _enqueue_keyword(ctx: ListenerContext, platform: Platform, keyword: str,
                           request: KeywordCollection) -> None:
    params = platform.keyword_task_params(keyword, request.max_videos)
    flow_name = str(platform.keyword_flow)
    if params is None:
        ctx.log.info("keyword collection: %s cannot search %r", platform.name, keyword)
        return
    flow = _cached(ctx, "flows", lambda: load_flows(ctx.settings)).get(flow_name)
    if flow is None:
        raise Reject(f"keyword flow {flow_name} is not registered")
    task, created = await ctx.queue.enqueue(NewTask(
        flow=flow_name, params=_checked(flow, params), platform=flow.platform,
        priority=flow.priority, account_id=request.account_id, max_attempts=flow.max_attempts,
        idempotency_key=f"{flow_name}:{keyword.lower()}:{request.max_videos}"))
    ctx.log.info("keyword collection: task %d %s", task.id,
                 "enqueued" if created else "already pending")


def _checked(flow: Flow, params: dict[str, Any]) -> dict[str, Any]:
    """`params` as the flow's model accepts them."""
    try:
        return dict(flow.params_model.model_validate(params).model_dump(mode="json"))
    except ValidationError as exc:
        raise Reject(f"{flow.name} refuses its params: {exc.error_count()} errors") from None


LISTENERS: list[Listener] = [
    Listener("credentials_validate", "beat.dx", "direct", "credentials_validate_rk",
             "credentials_validate_q", 10, credentials_validate, retry_delay_s=30.0),
    Listener("identity_token", "identity.dx", "direct", "new_access_token_rk",
             "identity_token_q", 10, identity_token),
    Listener("keyword_collection", "beat.dx", "direct", "keyword_collection_rk",
             "keyword_collection_q", 1, keyword_collection),
]


def registered_listeners(settings: Settings) -> list[Listener]:
    """Core's listeners (the seed's, then the hashtags listener on AMQP_EXCHANGE), then those
    of the registered packages (`Platform.listeners`)."""
    found = [*LISTENERS, hashtags_listener(settings)]
    for platform in registry(settings).values():
        if platform.listeners:
            extra = load_attribute(platform.listeners)
            if not isinstance(extra, list) or not all(isinstance(x, Listener) for x in extra):
                raise ConfigError(f"{platform.listeners!r} is not a list of listeners")
            found += extra
    return found
