"""The Graph API's usage headers, read the same for every Graph-based platform: x-app-usage
{"call_count", "total_cputime", "total_time"} and x-business-use-case-usage {"<object id>":
[{"type", "call_count", ..., "estimated_time_to_regain_access"}]}, figures in percent, the wait
in minutes. A token whose fullest figure reaches SLOW_DOWN_PCT rests before the platform
throttles it."""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

SLOW_DOWN_PCT = 80.0
# Usage is counted over a rolling hour: each percent above the slow-down mark is ~36 s of it.
SECONDS_PER_PCT = 36.0
MIN_REST_S = 60.0
_FIGURES = ("call_count", "total_cputime", "total_time")


@dataclass(frozen=True)
class GraphUsage:
    highest_pct: float  # the fullest figure of either header
    regain_s: float  # estimated_time_to_regain_access, in seconds (0: none given)

    def rest_s(self) -> float:
        """How long a token at this usage should rest: the platform's estimate, else a wait
        growing with how far past the slow-down mark it is."""
        derived = max(MIN_REST_S, (self.highest_pct - SLOW_DOWN_PCT) * SECONDS_PER_PCT)
        return max(self.regain_s, derived)

    @property
    def slow_down(self) -> bool:
        return self.highest_pct >= SLOW_DOWN_PCT

    def observed(self, now: datetime) -> dict[str, Any]:
        """As a credential's last reported usage (CredentialManager.observed): the fullest
        figure, the mark where the token rests, and when access is regained if it was given."""
        regains = (now + timedelta(seconds=self.regain_s)).isoformat() if self.regain_s else None
        return {"used_pct": self.highest_pct, "rests_at_pct": SLOW_DOWN_PCT,
                "regains_at": regains}


def read_usage(headers: Mapping[str, str]) -> GraphUsage:
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
    return GraphUsage(max(figures, default=0.0), regain)


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
