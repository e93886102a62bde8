"""Dependencies shared by the routers: settings, the queue and the flow registry."""

from typing import Annotated

from fastapi import Depends, Request

from core.config import Settings
from core.flows import Flow
from core.queue import Queue


def get_queue(request: Request) -> Queue:
    return request.app.state.queue  # type: ignore[no-any-return]


def get_flows(request: Request) -> dict[str, Flow]:
    return request.app.state.flows  # type: ignore[no-any-return]


def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


QueueDep = Annotated[Queue, Depends(get_queue)]
FlowsDep = Annotated[dict[str, Flow], Depends(get_flows)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
