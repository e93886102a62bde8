"""The sandbox Facebook Graph API's rate limiting: calls counted per token and for the app in a
rolling window, against budgets changeable while the server runs. Every answer reports usage in
x-app-usage and x-business-use-case-usage (percentages); a call finding a budget spent is refused
with code 4 (the app) or 17 (the token: every sandbox token is a user token, whose limit is #17;
a page token's would be #32) and is not counted."""

import json
import math
from collections import deque
from dataclasses import dataclass, field

from pydantic import BaseModel, Field

MESSAGES = {4: "(#4) Application request limit reached",
            17: "(#17) User request limit reached"}


class Budgets(BaseModel):
    window_s: float = Field(default=3600.0, gt=0)
    app_calls: int = Field(default=20000, ge=1)
    token_calls: int = Field(default=4800, ge=1)


@dataclass
class UsageBook:
    budgets: Budgets = field(default_factory=Budgets)
    calls: dict[str, deque[float]] = field(default_factory=dict)  # "app" | token -> times

    def _window(self, key: str, now: float) -> deque[float]:
        found = self.calls.setdefault(key, deque())
        while found and found[0] <= now - self.budgets.window_s:
            found.popleft()
        return found

    def charge(self, token: str, now: float) -> tuple[int | None, dict[str, str]]:
        """(the error code refusing the call or None, the usage headers)."""
        app, mine = self._window("app", now), self._window(token, now)
        code = 4 if len(app) >= self.budgets.app_calls else \
            17 if len(mine) >= self.budgets.token_calls else None
        if code is None:
            app.append(now)
            mine.append(now)
        return code, self._headers(token, app, mine, now)

    def _headers(self, token: str, app: deque[float], mine: deque[float],
                 now: float) -> dict[str, str]:
        app_pct = min(100, math.floor(100 * len(app) / self.budgets.app_calls))
        pct = min(100, math.floor(100 * len(mine) / self.budgets.token_calls))
        regain = 0
        if pct >= 100 and mine:
            regain = max(1, math.ceil((mine[0] + self.budgets.window_s - now) / 60))
        business = {"sandbox-page": [{"type": "pages", "call_count": pct, "total_cputime": pct,
                                      "total_time": pct,
                                      "estimated_time_to_regain_access": regain}]}
        return {"x-app-usage": json.dumps({"call_count": app_pct, "total_cputime": app_pct,
                                           "total_time": app_pct}),
                "x-business-use-case-usage": json.dumps(business)}

    def reset(self) -> None:
        self.budgets = Budgets()
        self.calls.clear()
