"""Control of the sandbox Facebook Graph API (never faulted, never counted):

    GET    /_sandbox/facebook/graph/usage                  budgets and calls in the window
    POST   /_sandbox/facebook/graph/usage                  {"window_s"?, "app_calls"?,
           "token_calls"?, "reset"?}: change budgets (reset: forget the calls counted first)
    POST   /_sandbox/facebook/graph/tokens/{token}/expire  the token's session ends now (190/463)
    DELETE /_sandbox/facebook/graph/tokens/{token}/expire  the token works again
    POST   /_sandbox/facebook/graph/reset                  budgets, counts and expiries as at start
    GET    /_sandbox/facebook/graph/world                  pages, posts, videos, share codes
"""

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from sandbox.facebook import world as w
from sandbox.facebook.graph_api import graph_state
from sandbox.graph.debug_token import TOKENS, expired_tokens
from sandbox.state import state_of

router = APIRouter(prefix="/_sandbox/facebook/graph")


class BudgetChange(BaseModel):
    window_s: float | None = Field(default=None, gt=0)
    app_calls: int | None = Field(default=None, ge=1)
    token_calls: int | None = Field(default=None, ge=1)
    reset: bool = False


@router.get("/usage")
async def usage(request: Request) -> dict[str, Any]:
    book = graph_state(request).usage
    now = state_of(request).quota.clock().timestamp()
    return {"budgets": book.budgets.model_dump(),
            "calls": {key: len(book._window(key, now)) for key in list(book.calls)},
            "expired": {t: at.isoformat() for t, at in expired_tokens(request).items()}}


@router.post("/usage")
async def change_usage(request: Request, change: BudgetChange) -> dict[str, Any]:
    book = graph_state(request).usage
    if change.reset:
        book.calls.clear()
    book.budgets = book.budgets.model_copy(
        update=change.model_dump(exclude_none=True, exclude={"reset"}))
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
    return {"seed": found.seed,
            "pages": [{"id": p.page_id, "username": p.username, "followers": p.followers}
                      for p in found.page_list()],
            "million_page": w.MILLION_PAGE,
            "posts": [{"id": p.post_id, "pfbid": p.pfbid, "shares": p.shares,
                       "old": p.created.year < w.NOW.year - 1} for p in found.post_list()],
            "videos": [{"id": v.video_id, "reel": v.reel, "views": v.views}
                       for v in sorted(found.videos.values(), key=lambda v: v.video_id)],
            "private_post": w.PRIVATE_POST, "deleted_post": w.DELETED_POST,
            "shares": found.shares}
