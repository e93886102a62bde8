"""The budgets (`core.budgets`) as rows a person reads, the same in `beat budgets` and on the
dashboard: per source its limits, its credentials with their own limits and what the platform
last reported of them, then the live-refresh limits."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.budgets import Budgets, LimitBudget
from core.console import age


@dataclass(frozen=True, slots=True)
class BudgetRow:
    source: str
    what: str  # the limit, the credential, or "reported by the platform"
    used: str
    left: str
    frees_in: str
    limit: str | None = None  # the limit's name, on a limit's row
    credential: int | None = None  # the credential's id, on its rows
    state: str | None = None  # the credential's state, on its own row
    used_share: float | None = None  # 0..1 of the limit used, when read

    def cells(self) -> list[str]:
        return [self.source, self.what, self.used, self.left, self.frees_in]


def budget_rows(found: Budgets) -> list[BudgetRow]:
    rows: list[BudgetRow] = []
    for source in found.sources:
        rows += [_limit_row(source.source, limit, found.at) for limit in source.limits]
        for credential in source.credentials:
            label = f"credential {credential.id}" + (
                f" ({credential.handle})" if credential.handle else "")
            rests = f" {age((credential.until - found.at).total_seconds())}" \
                if credential.until else ""
            rows.append(BudgetRow(source.source, label, "", "", credential.state + rests,
                                  credential=credential.id, state=credential.state))
            rows += [_limit_row(source.source, limit, found.at, credential.id, indent="  ")
                     for limit in credential.limits]
            if credential.reported:
                rows.append(BudgetRow(source.source, "  reported by the platform",
                                      *reported_cells(credential.reported, found.at),
                                      credential=credential.id))
    rows += [_limit_row("live refreshes", limit, found.at) for limit in found.live]
    return rows


def _limit_row(source: str, limit: LimitBudget, at: datetime, credential: int | None = None,
               indent: str = "") -> BudgetRow:
    if limit.used is None or limit.remaining is None:
        return BudgetRow(source, indent + limit.limit, "?", "?", "-", limit.limit, credential)
    frees = age((limit.frees_at - at).total_seconds()) if limit.frees_at else "-"
    return BudgetRow(source, indent + limit.limit, f"{limit.used:,}/{limit.allowed:,}",
                     f"{limit.remaining:,}", frees, limit.limit, credential,
                     used_share=min(1.0, limit.used / limit.allowed) if limit.allowed else 1.0)


def reported_cells(reported: dict[str, Any], at: datetime) -> tuple[str, str, str]:
    """A Graph API token's usage ("63%", 17% left before it rests, when it regains access) or
    an X account's window (used/limit, remaining, when it resets)."""
    until = reported.get("regains_at") or reported.get("resets_at")
    try:
        frees = age((datetime.fromisoformat(until) - at).total_seconds()) if until else "-"
    except (TypeError, ValueError):
        frees = "-"
    if "used_pct" in reported:
        used, rests = float(reported["used_pct"]), float(reported.get("rests_at_pct") or 100)
        return f"{used:.0f}%", f"{max(0.0, rests - used):.0f}%", frees
    remaining, limit = reported.get("remaining"), reported.get("limit")
    if isinstance(remaining, int) and isinstance(limit, int):
        return f"{limit - remaining:,}/{limit:,}", f"{remaining:,}", frees
    return "?", "?", frees
