"""GET /metrics: Prometheus exposition of every Beat process of this host that shares
PROMETHEUS_MULTIPROC_DIR (or of this server alone), plus the gauges read from the database at
scrape time (core/metrics_db.py). Guarded like /queue/stats: it spans every account."""

from fastapi import APIRouter, Response

from core import metrics
from core.api.deps import EveryAccountScope, FlowsDep, QueueDep
from core.metrics_db import read_database

router = APIRouter(tags=["metrics"])


@router.get("/metrics", response_class=Response, dependencies=[EveryAccountScope],
            include_in_schema=False)
async def get_metrics(queue: QueueDep, flows: FlowsDep) -> Response:
    snapshot = await read_database(queue.pool, flows)
    return Response(metrics.render(snapshot), media_type=metrics.CONTENT_TYPE)
