"""Dependencies shared by the routers: settings, the queue and the flow registry."""

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

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


def is_json(content_type: str) -> bool:
    """application/json or application/<anything>+json, parameters ignored."""
    media = content_type.partition(";")[0].strip().lower()
    return media == "application/json" or (media.startswith("application/")
                                            and media.endswith("+json"))


def require_json_body(request: Request) -> None:
    """415 when an operation that reads a JSON body is sent a body of another type (which would
    otherwise be read as a string and refused with a puzzling "valid dictionary" error)."""
    if getattr(request.scope.get("route"), "body_field", None) is None:
        return
    content_type = request.headers.get("content-type", "")
    has_body = request.headers.get("content-length", "0") != "0" or (
        "transfer-encoding" in request.headers)
    if is_json(content_type) or not (content_type or has_body):
        return
    raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                        detail="send the body as JSON with the header content-type: "
                               f"application/json (got {content_type or 'no content-type'})")
