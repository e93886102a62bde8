"""The toy platform's one flow: "fetches" a profile (its follower count is 100 per letter of
the handle) and stores it in toy_profile."""

from typing import Any

from core.flows import StrictParams, TaskContext, flow
from tests.platforms.toy import PLATFORM


class ToyParams(StrictParams):
    handle: str


@flow("refresh_toy_profile", ToyParams, platform=PLATFORM.api_name, processes=1,
      concurrency=2, max_attempts=1, timeout_s=30)
async def refresh_toy_profile(params: ToyParams, ctx: TaskContext) -> dict[str, Any]:
    """Refresh one toy profile."""
    followers = 100 * len(params.handle)
    await ctx.pool.execute(
        "INSERT INTO toy_profile (handle, followers, refreshed_at) VALUES ($1, $2, now()) "
        "ON CONFLICT (handle) DO UPDATE SET followers = excluded.followers, "
        "refreshed_at = excluded.refreshed_at", params.handle, followers)
    return {"handle": params.handle, "followers": followers}
