"""The sandbox Graph API's rate limiting: calls counted in a rolling window per app, per token,
per business (IG user id) and per token on insights, against budgets that can change while the
server runs. Every answer reports the usage in `x-app-usage` and `x-business-use-case-usage`
(percentages, as the Graph API does); a call that finds a budget at 100 % is refused with that
budget's error code (4 app, 17 user/token, 32 business, 613 insights) and is not counted.
"""

import json
import math
from collections import deque
from dataclasses import dataclass, field

from pydantic import BaseModel, Field

APP = "app"
USER = "user"
BUSINESS = "business"
INSIGHTS = "insights"
CODES = {APP: 4, USER: 17, BUSINESS: 32, INSIGHTS: 613}
MESSAGES = {4: "(#4) Application request limit reached",
            17: "(#17) User request limit reached",
            32: "(#32) Page request limit reached",
            613: "(#613) Calls to this api have exceeded the rate limit."}


class Budgets(BaseModel):
    """Calls allowed per rolling `window_s`, by what is counted."""

    window_s: float = Field(default=3600.0, gt=0)
    app_calls: int = Field(default=20000, ge=1)
    token_calls: int = Field(default=4800, ge=1)
    business_calls: int = Field(default=4800, ge=1)
    insights_calls: int = Field(default=2400, ge=1)


@dataclass
class Usage:
    """Percentages of each budget used, and when the fullest one frees up."""

    app: float
    token: float
    business: float
    insights: float
    regain_s: float

    def app_header(self) -> str:
        used = max(self.app, self.token)
        return json.dumps({"call_count": _pct(used), "total_cputime": _pct(used * 0.6),
                           "total_time": _pct(used * 0.8)})

    def business_header(self, ig_user_id: str) -> str:
        used = max(self.business, self.insights)
        entry = {"type": "instagram", "call_count": _pct(used),
                 "total_cputime": _pct(used * 0.5), "total_time": _pct(used * 0.7),
                 "estimated_time_to_regain_access": math.ceil(self.regain_s / 60)}
        return json.dumps({ig_user_id: [entry]})


@dataclass
class GraphUsage:
    budgets: Budgets = field(default_factory=Budgets)
    calls: dict[tuple[str, str], deque[float]] = field(default_factory=dict)

    def reset(self) -> None:
        self.calls.clear()
        self.budgets = Budgets()

    def charge(self, token: str, business: str, insights: bool,
               now: float) -> tuple[Usage, int | None]:
        """Count one call unless a budget is spent: (usage after it, refusing code or None)."""
        keys = self._keys(token, business, insights)
        usage = self.usage(token, business, now)
        for name, key in keys:
            if len(self._window(key, now)) >= self._limit(name):
                return self._regain(usage, name, key, now), CODES[name]
        for _, key in keys:
            self._window(key, now).append(now)
        return self.usage(token, business, now), None

    def usage(self, token: str, business: str, now: float) -> Usage:
        def pct(name: str, key: tuple[str, str]) -> float:
            return 100.0 * len(self._window(key, now)) / self._limit(name)

        usage = Usage(pct(APP, (APP, "")), pct(USER, (USER, token)),
                      pct(BUSINESS, (BUSINESS, business)), pct(INSIGHTS, (INSIGHTS, token)),
                      0.0)
        return usage

    def _regain(self, usage: Usage, name: str, key: tuple[str, str], now: float) -> Usage:
        """When the oldest call of the spent budget leaves the window."""
        window = self._window(key, now)
        usage.regain_s = max(1.0, window[0] + self.budgets.window_s - now) if window else 1.0
        setattr(usage, "token" if name == USER else name, 100.0)
        return usage

    def _keys(self, token: str, business: str, insights: bool) -> list[tuple[str, tuple[str, str]]]:
        keys = [(APP, (APP, "")), (USER, (USER, token)), (BUSINESS, (BUSINESS, business))]
        return keys + [(INSIGHTS, (INSIGHTS, token))] if insights else keys

    def _limit(self, name: str) -> int:
        return {APP: self.budgets.app_calls, USER: self.budgets.token_calls,
                BUSINESS: self.budgets.business_calls, INSIGHTS: self.budgets.insights_calls}[name]

    def _window(self, key: tuple[str, str], now: float) -> deque[float]:
        window = self.calls.setdefault(key, deque())
        while window and window[0] <= now - self.budgets.window_s:
            window.popleft()
        return window


def _pct(value: float) -> int:
    return min(100, int(value))
