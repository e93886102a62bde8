"""Dependencies shared by the routers: settings, the queue, the flow registry, and the caller
(what the request's API key may do)."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from core.config import Settings
from core.flows import Flow
from core.queue import Queue, Task

CALLER_SCOPE_KEY = "beat.caller"


@dataclass(frozen=True, slots=True)
class Caller:
    """The scopes of the key a request came with: `admin` (tokens, PUT /heartbeat, task
    updates), and `accounts`, the account_ids a caller key is limited to (None: every one)."""

    admin: bool
    accounts: frozenset[str] | None = None

    def check_account(self, account_id: str | None, where: str = "account_id") -> None:
        """403 unless this key may act on `account_id` (a limited key must name one of its own)."""
        if self.accounts is None or account_id in self.accounts:
            return
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            detail=f"{where}: this API key is limited to the accounts "
                                   f"{', '.join(sorted(self.accounts))}; "
                                   f"{'got ' + repr(account_id) if account_id else 'give one'}")

    def may_see(self, task: Task) -> bool:
        """Whether the task belongs to an account of this key (every task: unlimited keys)."""
        return self.accounts is None or task.account_id in self.accounts

    def check_task(self, task: Task) -> None:
        """403 unless the task belongs to an account of this key."""
        if not self.may_see(task):
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                detail=f"task {task.id} belongs to another account than this "
                                       "API key's")


# Nobody is identified when no API keys are configured: then the server serves loopback only,
# and everything but the /tokens endpoints (which always need an admin key) is open.
ANYONE = Caller(admin=True)


def get_queue(request: Request) -> Queue:
    return request.app.state.queue  # type: ignore[no-any-return]


def get_flows(request: Request) -> dict[str, Flow]:
    return request.app.state.flows  # type: ignore[no-any-return]


def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def get_caller(request: Request) -> Caller:
    """The caller the API key middleware identified (ANYONE when no keys are configured)."""
    caller: Caller = request.scope.get(CALLER_SCOPE_KEY, ANYONE)
    return caller


def require_admin_scope(request: Request) -> None:
    """An admin key (BEAT_ADMIN_KEYS), or no keys configured at all."""
    if not get_caller(request).admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            detail="this needs an admin key (BEAT_ADMIN_KEYS)")


def require_every_account(request: Request) -> None:
    """A key not limited to accounts: for what spans every account (events, queue stats)."""
    accounts = get_caller(request).accounts
    if accounts is not None:
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            detail="this API key is limited to the accounts "
                                   f"{', '.join(sorted(accounts))}; {request.url.path} spans "
                                   "every account")


QueueDep = Annotated[Queue, Depends(get_queue)]
FlowsDep = Annotated[dict[str, Flow], Depends(get_flows)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
CallerDep = Annotated[Caller, Depends(get_caller)]
AdminScope = Depends(require_admin_scope)
EveryAccountScope = Depends(require_every_account)


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
