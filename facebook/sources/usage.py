"""The Graph API's usage headers: x-app-usage {"call_count", "total_cputime", "total_time"} and
x-business-use-case-usage {"<page-id>": [{"type", "call_count", ...,
"estimated_time_to_regain_access"}]}, figures in percent, the wait in minutes."""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SLOW_DOWN_PCT = 80.0
SECONDS_PER_PCT = 36.0  # usage is counted over a rolling hour: 1 % above the mark ~ 36 s
MIN_REST_S = 60.0
_FIGURES = ("call_count", "total_cputime", "total_time")


@dataclass(frozen=True)
class Usage:
    highest_pct: float  # the fullest figure of either header
    regain_s: float  # estimated_time_to_regain_access in seconds (0: none given)

    @property
    def slow_down(self) -> bool:
        return self.highest_pct >= SLOW_DOWN_PCT

    def rest_s(self) -> float:
        """How long a token at this usage rests: the platform's estimate, else a wait growing
        with how far past the slow-down mark it is."""
        return max(self.regain_s, MIN_REST_S,
                   (self.highest_pct - SLOW_DOWN_PCT) * SECONDS_PER_PCT)


def read_usage(headers: Mapping[str, str]) -> Usage:
    """Both headers (missing or malformed ones count as 0)."""
    app = _json(headers.get("x-app-usage"))
    figures = [_pct(app.get(k)) for k in _FIGURES] if isinstance(app, dict) else []
    regain = 0.0
    business = _json(headers.get("x-business-use-case-usage"))
    for entries in business.values() if isinstance(business, dict) else []:
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict):
                figures += [_pct(entry.get(k)) for k in _FIGURES]
                regain = max(regain, 60.0 * _pct(entry.get("estimated_time_to_regain_access")))
    return Usage(max(figures, default=0.0), regain)


def _json(value: str | None) -> Any:
    try:
        return json.loads(value) if value else None
    except ValueError:
        return None


def _pct(value: Any) -> float:
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return 0.0
