"""The two fallbacks built from settings, as a worker builds them, behind the director: sandboxed
URLs, the provider's default limits in the limiter's syntax, and the keyless web answering
when the provider's only key is throttled."""

import pytest

from core.config import Settings
from core.errors import RateLimited
from core.ratelimit import parse_limit
from core.sources import Director
from instagram import SOURCE_LIMITS
from instagram.models import RAPIDAPI, WEB
from instagram.sources.rapidapi import RapidApiSource
from instagram.sources.rapidapi_keys import KeyPool
from instagram.sources.web import web_source
from sandbox.instagram.world import MILLION_HANDLE
from tests.instagram.conftest import HOST, KEY, RAPIDAPI_URL, SANDBOX, Sandbox


def test_sandboxed_urls() -> None:
    settings = Settings(sandbox_url=SANDBOX)
    assert web_source(settings).base_url == f"{SANDBOX}/instagram-web"
    real = web_source(Settings(sandbox_url=None))
    assert real.base_url == "https://www.instagram.com"


def test_source_limits_are_limiter_specs() -> None:
    limits = [parse_limit(f"source:{RAPIDAPI}:{spec}") for spec in SOURCE_LIMITS[RAPIDAPI]]
    assert [(limit.limit, limit.window_s) for limit in limits] == [(2, 1.0), (100, 30.0)]


async def test_the_web_answers_while_the_provider_is_throttled(sandbox: Sandbox) -> None:
    sandbox.app.state.instagram_rapidapi.clock = lambda: 7.0
    rapidapi = RapidApiSource(RAPIDAPI_URL, HOST, KeyPool([KEY]))
    director = Director([rapidapi, web_source(Settings(sandbox_url=SANDBOX))])
    sources = [(await director.fetch("profile_by_handle", handle=MILLION_HANDLE)).source
               for _ in range(2)]
    assert sources == [RAPIDAPI, WEB]
    with pytest.raises(RateLimited) as waiting:  # only the provider lists followers: a wait
        await director.fetch("followers", handle=MILLION_HANDLE)
    assert 0 < waiting.value.retry_after <= 1.0
