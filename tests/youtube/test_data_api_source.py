"""The Data API source behind the director: an answer in a shape its parser does not know, or
one it cannot read at all (not JSON, a malformed value), is the source failing (the next source
is asked, the circuit counts it), never an error that escapes the source framework."""

import json

import httpx
import pytest

from core import http
from core.errors import AllSourcesFailed
from core.parsing import UnknownShape
from core.sources import CircuitBreaker, Director
from tests.test_sources import FakeSource
from youtube.sources.data_api import DataApiSource
from youtube.sources.data_api.keys import KeyPool

WRONG_SHAPE = json.dumps({"kind": "youtube#videoListResponse",
                          "items": [{"kind": "youtube#video", "snippet": "not an object"}]})


async def test_a_body_of_a_shape_the_parser_does_not_know_falls_back() -> None:
    http.use_client(httpx.AsyncClient(transport=httpx.MockTransport(
        lambda request: httpx.Response(200, content=WRONG_SHAPE.encode()))))
    data_api = DataApiSource("http://api.test/youtube/v3", KeyPool(["key-1"]))
    fallback = FakeSource("fallback", [["from the fallback"]], capabilities=("videos",))
    breaker = CircuitBreaker(threshold=2, cooldown=60)
    director = Director([data_api, fallback], breaker)
    try:
        result = await director.fetch("videos", ids=["dQw4w9WgXcQ"])
        assert (result.value, result.source) == (["from the fallback"], "fallback")
        await director.fetch("videos", ids=["dQw4w9WgXcQ"])
        assert not breaker.allow(data_api.name), "two unreadable answers open the circuit"
        with pytest.raises(AllSourcesFailed, match="youtube_data_api: circuit open"):
            await Director([data_api], breaker).fetch("videos", ids=["dQw4w9WgXcQ"])
    finally:
        await http.close_client()


def video_list(**item: object) -> bytes:
    video = {"kind": "youtube#video", "id": "dQw4w9WgXcQ", "snippet": {"title": "a video"},
             "contentDetails": {"duration": "PT3M33S"}, "statistics": {"viewCount": "7"}}
    return json.dumps({"kind": "youtube#videoListResponse",
                       "items": [{**video, **item}]}).encode()


MALFORMED = {
    "a malformed duration": video_list(contentDetails={"duration": "three minutes"}),
    "a body that is not JSON": b"<html><body>502 Bad Gateway</body></html>",
    "an Infinity count": video_list(statistics={"viewCount": 1e400}),
    "a count no bigint holds": video_list(statistics={"viewCount": "9" * 30}),
    "a date out of range": video_list(snippet={"publishedAt": "0001-01-01T00:00:00+05:00"}),
    "nesting deeper than JSON is read": b"[" * 100_000 + b"]" * 100_000,
}


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
async def test_a_malformed_body_is_an_unknown_shape_and_the_fallback_answers(body: bytes) -> None:
    http.use_client(httpx.AsyncClient(transport=httpx.MockTransport(
        lambda request: httpx.Response(200, content=body))))
    data_api = DataApiSource("http://api.test/youtube/v3", KeyPool(["key-1"]))
    fallback = FakeSource("fallback", [["from the fallback"]], capabilities=("videos",))
    try:
        with pytest.raises(UnknownShape):
            await data_api.call("videos", ids=["dQw4w9WgXcQ"])
        result = await Director([data_api, fallback]).fetch("videos", ids=["dQw4w9WgXcQ"])
        assert (result.value, result.source) == (["from the fallback"], "fallback")
    finally:
        await http.close_client()
