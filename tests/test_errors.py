"""The error tree's retry schedule: exponential, capped, jittered, defined for any attempt."""

import pytest

from core.errors import backoff_seconds


@pytest.mark.parametrize("attempt, low, high", [
    (1, 1.0, 3.0), (2, 2.0, 6.0), (3, 4.0, 12.0), (20, 300.0, 900.0),
    (1025, 300.0, 900.0), (10**9, 300.0, 900.0)])
def test_backoff_doubles_up_to_its_cap_for_any_attempt(attempt: int, low: float,
                                                       high: float) -> None:
    assert all(low <= backoff_seconds(attempt) <= high for _ in range(50))
