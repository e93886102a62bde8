"""Parsers report a body they cannot read as UnknownShape, whatever failed while reading it, so
that a source answering something unreadable is a source failing (the director asks the next)."""

import math
from typing import Any

import pytest

from core.normalized import MAX_COUNT, to_int
from core.parsing import UnknownShape, shape_errors


@shape_errors
def read_views(body: Any) -> int | None:
    return to_int(body["statistics"]["viewCount"])


@pytest.mark.parametrize("body, failure", [
    ({}, "KeyError"),
    ({"statistics": []}, "TypeError"),
    ({"statistics": {"viewCount": "seven"}}, "ValueError"),
    ({"statistics": {"viewCount": math.inf}}, "OverflowError"),
    ({"statistics": {"viewCount": str(MAX_COUNT + 1)}}, "OverflowError"),
    ({"statistics": {"viewCount": True}}, "TypeError"),
])
def test_any_failure_to_read_a_body_is_an_unknown_shape(body: Any, failure: str) -> None:
    with pytest.raises(UnknownShape, match=f"read_views: {failure}"):
        read_views(body)


@pytest.mark.parametrize("failure", [OSError(75, "Value too large"), RecursionError()])
def test_what_reading_a_timestamp_or_deep_nesting_raises_is_an_unknown_shape(
        failure: BaseException) -> None:
    @shape_errors
    def parse(body: Any) -> None:
        raise failure

    with pytest.raises(UnknownShape):
        parse({})


def test_a_count_a_bigint_holds_is_read_as_is() -> None:
    assert to_int(str(MAX_COUNT)) == MAX_COUNT and to_int("-7") == -7
    assert to_int(None) is None and to_int("") is None
