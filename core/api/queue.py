"""Ops view of the queue: per-flow depth, age and throughput; the registered flows."""

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from core.api.deps import EveryAccountScope, FlowsDep, QueueDep

router = APIRouter(tags=["queue"])


class FlowStats(BaseModel):
    flow: str
    pending: int
    processing: int
    failed_last_hour: int
    oldest_pending_age_s: float
    completed_per_minute: int


@router.get("/queue/stats", response_model=list[FlowStats], dependencies=[EveryAccountScope])
async def queue_stats(queue: QueueDep) -> list[dict[str, Any]]:
    return await queue.stats()


@router.get("/flows")
async def list_flows(flows: FlowsDep) -> list[dict[str, Any]]:
    return [flow.settings() for flow in flows.values()]
