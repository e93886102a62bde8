"""Control of the sandbox's keyless web and RapidAPI-style provider limits (never faulted, never
counted), for a benchmark that measures Beat rather than the platforms' pacing:

    POST /_sandbox/instagram/limits   {"web_calls"?, "provider_windows"?, "reset"?}: the web's
         calls per client per window; the provider's [[calls, seconds], ...] per key (reset:
         forget the calls counted so far first)
"""

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from sandbox.instagram.rapidapi import ProviderLimits
from sandbox.instagram.web import throttle_of

router = APIRouter(prefix="/_sandbox/instagram")


class LimitsChange(BaseModel):
    web_calls: int | None = Field(default=None, ge=1)
    provider_windows: list[tuple[int, float]] | None = Field(default=None, min_length=1)
    reset: bool = False


@router.post("/limits")
async def change_limits(request: Request, change: LimitsChange) -> dict[str, object]:
    web = throttle_of(request)
    provider: ProviderLimits = request.app.state.instagram_rapidapi
    if change.reset:
        web.calls.clear()
        provider.calls.clear()
    if change.web_calls is not None:
        web.limit = change.web_calls
    if change.provider_windows is not None:
        provider.windows = tuple(change.provider_windows)
    return {"web_calls": web.limit, "provider_windows": provider.windows}
