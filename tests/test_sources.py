"""The director tries sources best-first, falls back on the right errors, stops on permanent
ones, and stops asking a source that keeps failing; the HTTP layer turns transport failures
into Beat's errors."""

import asyncio
import uuid
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest

from core import http
from core.config import Settings
from core.errors import (
    AllSourcesFailed,
    CredentialInvalid,
    NotFound,
    NotVisible,
    RateLimited,
    SourceUnavailable,
)
from core.parsing import UnknownShape
from core.queue import NewTask, Queue
from core.sources import CircuitBreaker, Director


class FakeSource:
    def __init__(self, name: str, outcomes: list[Any], capabilities: tuple[str, ...] = ("get",)):
        self.name = name
        self.capabilities = frozenset(capabilities)
        self.needs_credential = False
        self.outcomes = outcomes
        self.calls = 0

    async def call(self, capability: str, **params: Any) -> Any:
        outcome = self.outcomes[min(self.calls, len(self.outcomes) - 1)]
        self.calls += 1
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


async def test_first_source_that_answers_wins() -> None:
    primary, fallback = FakeSource("primary", ["a"]), FakeSource("fallback", ["b"])
    result = await Director([primary, fallback]).fetch("get")
    assert (result.value, result.source) == ("a", "primary") and fallback.calls == 0


@pytest.mark.parametrize("error", [SourceUnavailable("down"), RateLimited(5),
                                   CredentialInvalid("quota spent")])
async def test_falls_back_on_temporary_errors(error: Exception) -> None:
    result = await Director([FakeSource("primary", [error]),
                             FakeSource("fallback", ["b"])]).fetch("get")
    assert (result.value, result.source) == ("b", "fallback")


async def test_permanent_error_stops_the_search() -> None:
    fallback = FakeSource("fallback", ["b"])
    with pytest.raises(NotFound):
        await Director([FakeSource("primary", [NotFound("no such video")]), fallback]).fetch("get")
    assert fallback.calls == 0


async def test_nothing_seen_is_final_only_when_no_better_source_was_resting() -> None:
    unseen = NotVisible("null media: deleted or hidden")
    with pytest.raises(NotVisible):  # the only source: its answer stands
        await Director([FakeSource("web", [unseen])]).fetch("get")
    with pytest.raises(RateLimited) as caught:  # the provider rests: wait for it
        await Director([FakeSource("provider", [RateLimited(3)]),
                        FakeSource("web", [unseen])]).fetch("get")
    assert caught.value.retry_after == 3 and "web: null media" in str(caught.value)
    later = FakeSource("later", ["seen"])  # a later source may see more: it is asked
    result = await Director([FakeSource("web", [unseen]), later]).fetch("get")
    assert (result.value, result.source) == ("seen", "later")
    with pytest.raises(NotVisible):  # a source that cannot serve at all is no better answer
        await Director([FakeSource("provider", [CredentialInvalid("no key")]),
                        FakeSource("web", [unseen])]).fetch("get")
    with pytest.raises(AllSourcesFailed):  # a source that is down may answer on a retry
        await Director([FakeSource("provider", [SourceUnavailable("HTTP 503")]),
                        FakeSource("web", [unseen])]).fetch("get")


async def test_only_sources_with_the_capability_are_asked() -> None:
    other = FakeSource("other", ["x"], capabilities=("comments",))
    result = await Director([other, FakeSource("videos", ["v"])]).fetch("get")
    assert result.source == "videos" and other.calls == 0
    with pytest.raises(AllSourcesFailed, match="no source can search"):
        await Director([other]).fetch("search")


async def test_all_rate_limited_raises_the_shortest_wait() -> None:
    with pytest.raises(RateLimited) as caught:
        await Director([FakeSource("a", [RateLimited(30)]),
                        FakeSource("b", [RateLimited(7)])]).fetch("get")
    assert caught.value.retry_after == 7


async def test_mixed_failures_raise_all_sources_failed_naming_each() -> None:
    with pytest.raises(AllSourcesFailed, match="a: down.*b: rate"):
        await Director([FakeSource("a", [SourceUnavailable("down")]),
                        FakeSource("b", [RateLimited(1, "rate")])]).fetch("get")


async def test_circuit_opens_after_repeated_failures_and_half_opens_later() -> None:
    now = [0.0]
    breaker = CircuitBreaker(threshold=3, cooldown=10, clock=lambda: now[0])
    flaky = FakeSource("flaky", [SourceUnavailable("down")] * 3 + ["ok"])
    director = Director([flaky, FakeSource("fallback", ["b"])], breaker)
    for _ in range(5):
        assert (await director.fetch("get")).source == "fallback"
    assert flaky.calls == 3, "an open circuit must not call the source"
    now[0] = 11.0
    assert (await director.fetch("get")).source == "flaky"  # the half-open trial succeeds
    assert (await director.fetch("get")).source == "flaky"


def answer(status: int, body: bytes, headers: dict[str, str] | None = None) -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: httpx.Response(status, content=body,
                                                               headers=headers or {}))


@pytest.mark.parametrize("transport, error, message", [
    (answer(503, b"{}"), SourceUnavailable, "HTTP 503"),
    (answer(200, b'{"items": [tru'), UnknownShape, "not JSON"),
    (answer(200, b"[" * 100_000 + b"]" * 100_000), UnknownShape, "not JSON.*RecursionError"),
    (answer(429, b"{}", {"Retry-After": "12"}), RateLimited, "429"),
])
async def test_http_failures_become_beat_errors(transport: httpx.MockTransport,
                                                error: type[Exception], message: str) -> None:
    http.use_client(httpx.AsyncClient(transport=transport))
    try:
        with pytest.raises(error, match=message) as caught:
            await http.get_json("src", "http://api.test/x")
        if isinstance(caught.value, RateLimited):
            assert caught.value.retry_after == 12
    finally:
        await http.close_client()


async def test_transport_errors_become_source_unavailable() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    http.use_client(httpx.AsyncClient(transport=httpx.MockTransport(refuse)))
    try:
        with pytest.raises(SourceUnavailable, match="ConnectError"):
            await http.get_json("src", "http://api.test/x")
    finally:
        await http.close_client()


async def test_client_statuses_are_left_to_the_source() -> None:
    http.use_client(httpx.AsyncClient(transport=answer(403, b'{"error": {"code": 403}}')))
    try:
        response = await http.get_json("src", "http://api.test/x")
        assert response.status == 403 and response.body == {"error": {"code": 403}}
    finally:
        await http.close_client()


async def test_a_source_past_its_rate_limit_hands_over_to_the_next() -> None:
    import uuid

    from core.ratelimit import RateLimiter, parse_limit
    from tests.conftest import REDIS_URL

    limiter = RateLimiter.from_url(REDIS_URL, prefix=f"test-sources-{uuid.uuid4().hex}")
    limited, fallback = FakeSource("limited", ["a"]), FakeSource("fallback", ["b"])
    director = Director([limited, fallback], limiter=limiter, max_wait_s=0.05,
                        limits={"limited": [parse_limit("limited:3/60s")]})
    try:
        sources = [(await director.fetch("get")).source for _ in range(5)]
    finally:
        await limiter.aclose()
    assert sources == ["limited"] * 3 + ["fallback"] * 2 and limited.calls == 3


async def test_an_unreachable_limiter_sends_no_call_and_opens_no_circuit() -> None:
    from core.ratelimit import RateLimiter, parse_limit

    limiter = RateLimiter.from_url("redis://127.0.0.1:1/0")  # nothing listens there
    limited = FakeSource("limited", ["a"])
    director = Director([limited, FakeSource("free", ["b"])], limiter=limiter,
                        limits={"limited": [parse_limit("limited:100/1s")]})
    try:
        for _ in range(6):
            assert (await director.fetch("get")).source == "free"
        assert limited.calls == 0 and director.breaker.allow("limited")
        with pytest.raises(RateLimited, match="rate limiter unreachable") as waits:
            await Director([limited], limiter=limiter, limiter_retry_s=4,
                           limits={"limited": [parse_limit("limited:100/1s")]}).fetch("get")
        assert 2 <= waits.value.retry_after <= 6 and limited.calls == 0
    finally:
        await limiter.aclose()


async def test_tasks_wait_out_a_limiter_outage_without_using_attempts(
        queue: Queue, pool: asyncpg.Pool, settings: Settings) -> None:
    """Redis (behind a proxy) refuses connections for a while: tasks whose only source is
    rate limited go back to PENDING, attempts untouched, saying why; once Redis is back they
    complete on their first counted attempt."""
    from bench.tcpproxy import TcpProxy
    from core.flows import Flow, NoopParams, TaskContext
    from core.ratelimit import RateLimiter, parse_limit
    from core.worker_runtime import WorkerRuntime
    from tests.conftest import REDIS_URL

    redis = urlsplit(REDIS_URL)
    with TcpProxy(redis.hostname or "127.0.0.1", redis.port or 6379) as proxy:
        limiter = RateLimiter.from_url(f"redis://{proxy.host}:{proxy.port}/0",
                                       prefix=f"test-sources-{uuid.uuid4().hex}")
        limited = FakeSource("limited", [{"ok": True}])
        director = Director([limited], limiter=limiter, limiter_retry_s=0.2,
                            limits={"limited": [parse_limit("limited:1000/1s")]})

        async def fetch(params: NoopParams, ctx: TaskContext) -> Any:
            return (await director.fetch("get")).value

        flow = Flow("limited_fetch", NoopParams, fetch, concurrency=10, max_attempts=2)
        runtime = WorkerRuntime(settings.model_copy(update={"queue_poll_interval": 0.1}), [flow])
        proxy.cut()
        ids = [(await queue.enqueue(NewTask(flow.name, {"i": i}, max_attempts=2)))[0].id
               for i in range(5)]
        running = asyncio.create_task(runtime.run())
        try:
            await asyncio.sleep(2.0)  # about ten rounds of 0.2 s: five times the attempts
            during = await pool.fetch("SELECT * FROM scrape_request_log WHERE id = ANY($1)", ids)
            proxy.restore()
            for _ in range(200):
                done = await pool.fetch("SELECT * FROM scrape_request_log WHERE id = ANY($1) "
                                        "AND status = 'COMPLETE'", ids)
                if len(done) == len(ids):
                    break
                await asyncio.sleep(0.05)
        finally:
            runtime.stop()
            await running
            await limiter.aclose()
    assert {r["status"] for r in during} <= {"PENDING", "PROCESSING"}, [dict(r) for r in during]
    assert all("rate limiter unreachable" in (r["last_error"] or "") for r in during)
    assert all(r["retry_count"] <= 1 for r in during)
    assert len(done) == len(ids) and all(r["retry_count"] == 1 for r in done)
    assert limited.calls == len(ids)


async def test_calls_about_one_target_wait_for_that_targets_limit() -> None:
    import time
    import uuid

    from core.ratelimit import RateLimiter
    from tests.conftest import REDIS_URL

    limiter = RateLimiter.from_url(REDIS_URL, prefix=f"test-target-{uuid.uuid4().hex}")
    source = FakeSource("api", ["a"])
    director = Director([source], limiter=limiter, target_limit="2/1s")
    try:
        started = time.monotonic()
        for _ in range(3):
            await director.fetch("get", target="@nasa")
        waited = time.monotonic() - started
        await director.fetch("get", target="@esa")  # another target has its own budget
        other = time.monotonic() - started - waited
    finally:
        await limiter.aclose()
    assert waited >= 0.9, "the third call about @nasa waits for the 1 s window"
    assert other < 0.5 and source.calls == 4
