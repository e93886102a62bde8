"""`GET /budgets`: what Beat may still spend, per source (its limits' headroom and its
credentials' states) and for live refreshes (core/budgets.py). It spans every account."""

from typing import Any

from fastapi import APIRouter, Request

from core.api.deps import QueueDep, SettingsDep
from core.budgets import read_budgets

router = APIRouter(tags=["budgets"])


@router.get("/budgets")
async def budgets(request: Request, queue: QueueDep, settings: SettingsDep) -> dict[str, Any]:
    """Per source: each stacked limit's allowed, used and remaining slots and when the next
    frees; each credential's state (usable, resting until when, disabled, expired) with its own
    limits and what the platform last reported of its budget (`reported`: a Graph API token's
    usage, an X account's window); the live-refresh limits. `limiter` says whether the limits
    could be read."""
    found = await read_budgets(settings, queue.pool, request.app.state.limiter)
    return found.line()
