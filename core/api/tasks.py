"""Task endpoints: enqueue (single and bulk), read, update (cancel/requeue/priority), list."""

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response, status
from pydantic import BaseModel, Field, ValidationError, model_validator

from core.api.deps import ANYONE, AdminScope, CallerDep, FlowsDep, QueueDep
from core.api.errors import error_detail, invalid
from core.errors import KeyConflict
from core.flows import Flow
from core.queue import NewTask, Task
from core.validation import (
    AccountId,
    FlowName,
    JsonParams,
    RowId,
    StrictModel,
    TaskKey,
    Timestamp,
    check_json,
)

router = APIRouter(tags=["tasks"])

MAX_BULK = 10_000


class TaskCreate(StrictModel):
    params: JsonParams = Field(default_factory=dict)
    priority: int | None = Field(default=None, ge=-1000, le=1000)
    idempotency_key: TaskKey | None = None
    expires_at: Timestamp | None = None
    account_id: AccountId | None = None

    @classmethod
    def unknown_keys_message(cls, unknown: list[Any]) -> str:
        return (f"{super().unknown_keys_message(unknown)} "
                '(a flow\'s own params go inside "params": {"params": {...}})')


class BulkTaskCreate(TaskCreate):
    flow: FlowName


class BulkCreate(StrictModel):
    tasks: list[BulkTaskCreate] = Field(min_length=1, max_length=MAX_BULK)


class BulkResult(BaseModel):
    id: int
    status: str
    created: bool


class BulkPublic(BaseModel):
    created: int
    existing: int
    tasks: list[BulkResult]


class Action(StrEnum):
    cancel = "cancel"
    requeue = "requeue"


class TaskUpdate(StrictModel):
    action: Action | None = None
    priority: int | None = Field(default=None, ge=-1000, le=1000)

    @model_validator(mode="after")
    def _something_to_do(self) -> "TaskUpdate":
        if self.action is None and self.priority is None:
            raise ValueError("give an action (cancel, requeue) and/or a priority")
        return self


class TaskPage(BaseModel):
    items: list[Task]
    next_cursor: int | None


def _new_task(flow: Flow, body: TaskCreate, where: str = "params") -> NewTask:
    try:
        # The flow's model may turn safe input into unsafe output (a float field reads "nan").
        params = check_json(flow.params_model.model_validate(body.params).model_dump(
            mode="json", exclude_unset=True), where)
    except ValidationError as exc:
        raise HTTPException(422, detail=error_detail(exc.errors(), [where])) from exc
    except ValueError as exc:
        raise invalid([where], str(exc)) from exc
    return NewTask(flow=flow.name, params=params,
                   platform=flow.platform,
                   priority=flow.priority if body.priority is None else body.priority,
                   idempotency_key=body.idempotency_key, expires_at=body.expires_at,
                   account_id=body.account_id, max_attempts=flow.max_attempts)


def _flow(flows: dict[str, Flow], name: str) -> Flow:
    if name not in flows:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            detail=f"unknown flow {name!r}; GET /flows lists the flows")
    return flows[name]


@router.post("/scrape_request_log/flow/{flow}", status_code=201, response_model=Task,
             responses={200: {"model": Task,
                              "description": "An active task with this idempotency_key exists"}})
async def enqueue(flow: FlowName, body: TaskCreate, queue: QueueDep, flows: FlowsDep,
                  response: Response, caller: CallerDep) -> Task:
    caller.check_account(body.account_id)
    try:
        task, created = await queue.enqueue(_new_task(_flow(flows, flow), body), caller.may_see)
    except KeyConflict as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"idempotency_key: {exc}") from None
    if not created:
        response.status_code = status.HTTP_200_OK
    return task


@router.post("/scrape_request_log/flows", status_code=201, response_model=BulkPublic)
async def enqueue_bulk(body: BulkCreate, queue: QueueDep, flows: FlowsDep,
                       caller: CallerDep) -> BulkPublic:
    """Enqueue up to 10,000 tasks at once; all are validated before any is stored."""
    new_tasks = []
    for i, item in enumerate(body.tasks):
        caller.check_account(item.account_id, where=f"tasks[{i}].account_id")
        if item.flow not in flows:
            raise HTTPException(status.HTTP_404_NOT_FOUND,
                                detail=f"tasks[{i}]: unknown flow {item.flow!r}")
        new_tasks.append(_new_task(flows[item.flow], item, where=f"tasks[{i}].params"))
    try:
        results = await queue.enqueue_many(new_tasks, caller.may_see)
    except KeyConflict as exc:
        raise HTTPException(status.HTTP_409_CONFLICT,
                            detail=f"tasks[{exc.position}].idempotency_key: {exc}; nothing was "
                                   "stored") from None
    created = sum(1 for _, was_created in results if was_created)
    return BulkPublic(created=created, existing=len(results) - created,
                      tasks=[BulkResult(id=t.id, status=t.status, created=c) for t, c in results])


@router.get("/scrape_request_log/flow/{task_id}", response_model=Task)
async def get_task(task_id: RowId, queue: QueueDep, caller: CallerDep) -> Task:
    task = await queue.get(task_id)
    if task is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no task {task_id}")
    caller.check_task(task)
    return task


@router.post("/scrape_request_log/flow/update/{task_id}", response_model=Task,
             dependencies=[AdminScope])
async def update_task(task_id: RowId, body: TaskUpdate, queue: QueueDep) -> Task:
    """Cancel a pending task, requeue a finished one, and/or change its priority (admin)."""
    current = await get_task(task_id, queue, ANYONE)
    task: Task | None = current
    if body.action == Action.cancel:
        task = await queue.cancel(task_id)
    elif body.action == Action.requeue:
        try:
            task = await queue.requeue(task_id)
        except KeyConflict as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc
    if task is None:
        raise HTTPException(status.HTTP_409_CONFLICT,
                            detail=f"cannot {body.action} task {task_id}: it is {current.status}")
    if body.priority is not None:
        task = await queue.set_priority(task_id, body.priority)
        if task is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no task {task_id}")
    return task


@router.get("/list_scrape_data/{account_id}", response_model=TaskPage)
async def list_tasks(account_id: AccountId, queue: QueueDep, caller: CallerDep,
                     limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                     cursor: Annotated[RowId | None, Query()] = None) -> TaskPage:
    """Tasks of one account, newest first; pass `next_cursor` back as `cursor` for the next page."""
    caller.check_account(account_id)
    items = await queue.list_by_account(account_id, limit + 1, cursor)
    more = len(items) > limit
    items = items[:limit]
    return TaskPage(items=items, next_cursor=items[-1].id if more else None)
