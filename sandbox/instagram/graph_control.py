"""Control of the sandbox Graph API (never faulted, never counted):

    GET    /_sandbox/instagram/graph/usage                 budgets and calls in the window
    POST   /_sandbox/instagram/graph/usage                 {"window_s"?, "app_calls"?,
           "token_calls"?, "business_calls"?, "insights_calls"?, "reset"?}: change budgets
           (reset: forget the calls counted so far first)
    POST   /_sandbox/instagram/graph/tokens/{token}/expire the token's session ends now (190/463)
    DELETE /_sandbox/instagram/graph/tokens/{token}/expire the token works again
    POST   /_sandbox/instagram/graph/reset                 budgets, counts and expiries as at start
    GET    /_sandbox/instagram/graph/world                 special handles and example ids
"""

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from sandbox.graph.debug_token import TOKENS, expired_tokens
from sandbox.instagram import world as w
from sandbox.instagram.graph_api import graph_state
from sandbox.state import state_of

router = APIRouter(prefix="/_sandbox/instagram/graph")


class BudgetChange(BaseModel):
    window_s: float | None = Field(default=None, gt=0)
    app_calls: int | None = Field(default=None, ge=1)
    token_calls: int | None = Field(default=None, ge=1)
    business_calls: int | None = Field(default=None, ge=1)
    insights_calls: int | None = Field(default=None, ge=1)
    reset: bool = False


@router.get("/usage")
async def usage(request: Request) -> dict[str, Any]:
    book = graph_state(request).usage
    now = state_of(request).quota.clock().timestamp()
    calls = {f"{kind}:{key}" if key else kind: len(book._window((kind, key), now))
             for kind, key in list(book.calls)}
    return {"budgets": book.budgets.model_dump(), "calls": calls,
            "expired": {t: at.isoformat() for t, at in expired_tokens(request).items()}}


@router.post("/usage")
async def change_usage(request: Request, change: BudgetChange) -> dict[str, Any]:
    book = graph_state(request).usage
    if change.reset:
        book.calls.clear()
    updates = change.model_dump(exclude_none=True, exclude={"reset"})
    book.budgets = book.budgets.model_copy(update=updates)
    return await usage(request)


@router.post("/tokens/{token}/expire")
async def expire(request: Request, token: str) -> dict[str, Any]:
    if token not in TOKENS:
        raise HTTPException(404, f"unknown sandbox token {token}")
    expired_tokens(request)[token] = state_of(request).quota.clock()
    return await usage(request)


@router.delete("/tokens/{token}/expire")
async def unexpire(request: Request, token: str) -> dict[str, Any]:
    expired_tokens(request).pop(token, None)
    return await usage(request)


@router.post("/reset")
async def reset(request: Request) -> dict[str, Any]:
    graph_state(request).usage.reset()
    expired_tokens(request).clear()
    return await usage(request)


@router.get("/world")
async def world(request: Request) -> dict[str, Any]:
    found = graph_state(request).world
    million = found.million()
    post = found.media_of(million, 0, 1)[0]
    return {"seed": found.seed, "now": found.now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "owner": {"handle": w.OWNER_HANDLE, "id": found.owner().graph_id},
            "million": {"handle": million.handle, "id": million.graph_id},
            "private_handle": w.PRIVATE_HANDLE, "personal_handle": w.PERSONAL_HANDLE,
            "missing_handle": w.MISSING_HANDLE, "example_media": post.graph_id,
            "business_handles": found.business_handles(10)}
