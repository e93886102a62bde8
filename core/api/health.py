"""Health for load balancers: GET /heartbeat answers 503 once drained with PUT ?beat=false."""

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel

from core.api.deps import AdminScope

router = APIRouter(tags=["health"])


class Heartbeat(BaseModel):
    beat: bool


@router.get("/heartbeat", response_model=Heartbeat,
            responses={503: {"model": Heartbeat, "description": "Drained: beat is false"}})
async def get_heartbeat(request: Request, response: Response) -> Heartbeat:
    beat: bool = request.app.state.beat
    if not beat:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return Heartbeat(beat=beat)


@router.put("/heartbeat", response_model=Heartbeat, dependencies=[AdminScope])
async def put_heartbeat(request: Request, beat: bool) -> Heartbeat:
    """`beat=false` drains this server: GET /heartbeat answers 503 until `beat=true` (admin)."""
    request.app.state.beat = beat
    return Heartbeat(beat=beat)
