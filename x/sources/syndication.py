"""The keyless syndication source: the answer behind embedded tweets, as X's own embed
(react-tweet, platform.twitter.com) asks it.

    GET {syndication}/tweet-result?id={tweet id}&lang=en&token={token}

The token is computed from the id as the web does: (id / 1e15 * pi) in base 36, without its
zeros and point. A tweet answers its likes, replies (conversation_count), text and author,
without retweet, quote or view counts (None). A tombstone is a deleted tweet; a 404 (or an
empty answer) is a tweet no one may see: deleted, never posted, or a protected account's.
"""

import math
import re
import struct
from typing import Any, NoReturn

from core.config import Settings
from core.errors import RateLimited, SourceUnavailable
from core.http import JsonResponse, request_json
from x.models import SYNDICATION, Tweet
from x.settings import XSettings
from x.sources.errors import Deleted
from x.sources.http import reset_wait
from x.sources.syndication_parse import parse_syndication

DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def syndication_token(tweet_id: str) -> str:
    """The token the web sends with a tweet id: ((id / 1e15) * pi).toString(36) without
    its zeros and point."""
    return re.sub(r"0+|\.", "", js_radix((int(tweet_id) / 1e15) * math.pi, 36))


def js_radix(value: float, radix: int) -> str:
    """A positive float as JavaScript's Number.prototype.toString(radix) writes it (V8's
    DoubleToRadixCString: the fraction's digits until the double is told apart)."""
    integer, fraction = int(value), value - int(value)
    delta = max(0.5 * (_next_double(value) - value), _next_double(0.0))
    digits: list[int] = []
    if fraction >= delta:
        while True:
            fraction *= radix
            delta *= radix
            digit = int(fraction)
            digits.append(digit)
            fraction -= digit
            if (fraction > 0.5 or (fraction == 0.5 and digit & 1)) and fraction + delta > 1:
                integer = _round_up(digits, integer, radix)
                break
            if fraction < delta:
                break
    whole = _integer_digits(integer, radix)
    return whole + ("." + "".join(DIGITS[d] for d in digits) if digits else "")


def _round_up(digits: list[int], integer: int, radix: int) -> int:
    while digits:
        last = digits.pop()
        if last + 1 < radix:
            digits.append(last + 1)
            return integer
    return integer + 1


def _integer_digits(integer: int, radix: int) -> str:
    out = ""
    while True:
        integer, digit = divmod(integer, radix)
        out = DIGITS[digit] + out
        if not integer:
            return out


def _next_double(value: float) -> float:
    bits = struct.unpack("<q", struct.pack("<d", value))[0]
    return float(struct.unpack("<d", struct.pack("<q", bits + 1))[0])


class SyndicationSource:
    name = SYNDICATION
    capabilities = frozenset({"tweet"})
    needs_credential = False

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    async def call(self, capability: str, **params: Any) -> Any:
        if capability != "tweet":
            raise SourceUnavailable(f"{SYNDICATION}: no capability {capability}")
        return await self.tweet(str(params["tweet_id"]))

    async def tweet(self, tweet_id: str) -> Tweet:
        response = await request_json(SYNDICATION, "GET", f"{self.base_url}/tweet-result", params={
            "id": tweet_id, "lang": "en", "token": syndication_token(tweet_id)})
        if response.status == 200 and response.body:
            return parse_syndication(response.body)
        _classify(tweet_id, response)


def syndication_source(settings: Settings) -> SyndicationSource:
    return SyndicationSource(XSettings.of(settings).syndication_base_url(settings))


def _classify(tweet_id: str, response: JsonResponse) -> NoReturn:
    if response.status in (200, 404):
        raise Deleted(f"{SYNDICATION}: no public tweet {tweet_id} (deleted, never posted, or "
                      "its account is protected)")
    if response.status == 429:
        raise RateLimited(reset_wait(response.headers), f"{SYNDICATION}: HTTP 429")
    raise SourceUnavailable(f"{SYNDICATION}: HTTP {response.status}")
