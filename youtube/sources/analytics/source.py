"""Calls to the YouTube Analytics API v2 (`reports.query`) as the channel's owner: the owner's
access token from the credential table, refreshed once when the API refuses it (401) and the
call made again. What a refusal means for the task: no owner token, a revoked one, or a token
of another channel (403) is NotAuthorised, never retried; an unsupported query is BadParams."""

from datetime import date
from typing import Any

from core.errors import BadParams, NotAuthorised, Permanent, RateLimited
from core.http import JsonResponse, get_json
from youtube.models import ANALYTICS
from youtube.sources.analytics.owners import OwnerToken, OwnerTokens
from youtube.sources.analytics.parse import Report, parse_report
from youtube.sources.data_api.parse import parse_error

QUOTA_REASONS = {"quotaExceeded", "dailyLimitExceeded", "rateLimitExceeded",
                 "userRateLimitExceeded"}
QUOTA_REST_S = 300.0


class AnalyticsSource:
    name = ANALYTICS
    capabilities = frozenset({"analytics_report"})
    needs_credential = True

    def __init__(self, base_url: str, owners: OwnerTokens) -> None:
        self.base_url = base_url.rstrip("/")
        self.owners = owners

    async def call(self, capability: str, **params: Any) -> Any:
        if capability != "analytics_report":
            raise BadParams(f"{ANALYTICS} cannot {capability}")
        return await self.report(**params)

    async def report(self, channel_id: str, metrics: list[str], start_date: date,
                     end_date: date, dimensions: list[str] | None = None,
                     sort: str | None = None, max_results: int | None = None) -> Report:
        """One reports.query about `channel_id`, as its owner."""
        query: dict[str, Any] = {"ids": f"channel=={channel_id}", "metrics": ",".join(metrics),
                                 "startDate": start_date.isoformat(),
                                 "endDate": end_date.isoformat()}
        if dimensions:
            query["dimensions"] = ",".join(dimensions)
        if sort:
            query["sort"] = sort
        if max_results:
            query["maxResults"] = max_results
        owner = await self.owners.token(channel_id)
        response = await self._get(owner, query)
        if response.status == 401:  # expired early or revoked: one refresh, one more call
            owner = await self.owners.refresh(owner)
            response = await self._get(owner, query)
        return self._read(response, channel_id)

    async def _get(self, owner: OwnerToken, query: dict[str, Any]) -> JsonResponse:
        return await get_json(ANALYTICS, f"{self.base_url}/reports", params=query,
                              headers={"Authorization": f"Bearer {owner.access_token}"})

    def _read(self, response: JsonResponse, channel_id: str) -> Report:
        if response.status == 200:
            return parse_report(response.body)
        error = parse_error(response.body)
        reason = error.reason if error else None
        detail = f"HTTP {response.status} {reason or ''}".strip()
        if response.status == 401:
            raise NotAuthorised(f"owner authorisation for {channel_id} refused even after a "
                                f"token refresh ({detail})")
        if reason in QUOTA_REASONS:
            raise RateLimited(QUOTA_REST_S, f"{ANALYTICS}: {detail}")
        if response.status == 403:
            raise NotAuthorised(f"owner authorisation for {channel_id} does not cover its "
                                f"analytics ({detail})")
        message = error.message if error and error.message else ""
        if response.status == 400:
            raise BadParams(f"{ANALYTICS}: {detail}: {message}".rstrip(": "))
        raise Permanent(f"{ANALYTICS}: {detail}")
