"""The generic read endpoints: a platform's stored profiles and posts, refreshed on demand when
stale, through the platform's lookups (core/platforms.py Lookups) with one freshness rule for
every platform (core/api/freshness.py): fresh data at once; else a high-priority refresh waited
for up to `wait` seconds, then the new data, 404 (the platform has no such item) or 202 with
the task to poll. An unknown platform, or one that cannot do a lookup, is a 404 that says so.
`?include=NAME` adds what another registered package keeps about the profile (its
`Platform.profile_includes`, e.g. the GPT enrichment's results) to a 200 answer."""

from collections.abc import Callable, Mapping
from typing import Annotated, Any, TypeVar, Union

from fastapi import APIRouter, HTTPException, Path, Query, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from core.api.deps import QueueDep
from core.api.errors import invalid
from core.api.freshness import (
    fresh_or_refresh,
    is_fresh,
    live_limits,
    not_found,
    refresh_task,
    wait_for,
)
from core.lookups import InvalidId, Lookup, Lookups
from core.platforms import Platform, load_attribute
from core.queue import Status
from core.validation import RowId, SafeStr

T = TypeVar("T")

MaxAge = Annotated[float, Query(ge=0, le=30 * 86400,
                                description="Seconds stored data counts as fresh")]
Wait = Annotated[float, Query(ge=0, le=60, description="Seconds to wait for a refresh")]
PlatformName = Annotated[str, Path(max_length=40,
                                   description="The platform's API name (GET /platforms)")]
Ident = Annotated[SafeStr, StringConstraints(min_length=1, max_length=256)]
Include = Annotated[SafeStr | None, Query(
    max_length=200, description="Comma-separated extras to add to the profile, by name "
                                "(each platform's `includes` in GET /platforms)")]
IncludeHook = Callable[[Any, str, dict[str, Any]], Any]


class StoredEntity(BaseModel):
    """A stored profile or post of a platform without a model of its own."""

    model_config = ConfigDict(extra="allow")
    platform: str


class Refreshing(BaseModel):
    """202: the stored data is missing or stale and the refresh has not finished in `wait`."""

    task_id: int
    status: str
    last_error: str | None = None
    error_kind: str | None = None
    stale: dict[str, Any] | None = Field(default=None, description="What is stored, if any")


class StoredInsights(BaseModel):
    """A profile's stored insights or audience figures: {metric: {value, period, breakdowns}}."""

    model_config = ConfigDict(extra="allow")
    platform: str
    profile_id: str
    handle: str | None = None
    insights: dict[str, Any]
    source: str | None = None
    refreshed_at: Any = None


class NotFoundBody(BaseModel):
    detail: str


class PlatformInfo(BaseModel):
    name: str
    api_name: str
    lookups: list[str]
    includes: list[str] = []
    description: str


def _answer_model(models: list[type[BaseModel] | None]) -> Any:
    """The union of the platforms' answer models, discriminated by `platform` when each has
    one (StoredEntity stands in for the rest)."""
    own = list(dict.fromkeys(m for m in models if m is not None))
    if not own:
        return StoredEntity
    if len(own) == 1 and len(models) == 1:
        return own[0]
    if len(own) == len(models):
        return Annotated[Union[tuple(own)], Field(discriminator="platform")]  # noqa: UP007
    return Union[(*own, StoredEntity)]


def build_router(platforms: Mapping[str, Platform]) -> APIRouter:
    """The endpoints for these platforms (their lookups are loaded now)."""
    lookups = {name: p.load_lookups() or Lookups() for name, p in platforms.items()}
    profile = _answer_model([lk.profile_model for lk in lookups.values()])
    post = _answer_model([lk.post_model for lk in lookups.values()])

    class RecentPage(BaseModel):
        items: list[post]  # type: ignore[valid-type]
        next_cursor: str | None = None

    includes = {name: spec for p in platforms.values()
                for name, spec in p.profile_includes.items()}
    router = APIRouter(tags=["profiles and posts"])
    responses: dict[int | str, dict[str, Any]] = {
        202: {"model": Refreshing, "description": "Refresh still running"},
        404: {"model": NotFoundBody, "description": "No such platform, lookup or item"}}

    def capability(name: str, what: str, pick: Callable[[Lookups], T | None]
                   ) -> tuple[Platform, T]:
        platform = platforms.get(name.lower())
        if platform is None:
            known = ", ".join(p.api_name for p in platforms.values()) or "none"
            raise HTTPException(status.HTTP_404_NOT_FOUND,
                                detail=f"unknown platform {name!r} (known: {known})")
        found = pick(lookups[platform.name])
        if found is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND,
                                detail=f"{platform.api_name} has no lookup of {what}")
        return platform, found

    async def answer(request: Request, queue: QueueDep, platform: Platform,
                     plan: Callable[[], Lookup], where: str, max_age: float,
                     wait: float) -> Any:
        try:
            lookup = plan()
        except InvalidId as exc:
            raise invalid(["path", where], str(exc)) from None
        pool = queue.pool
        refresh = lookup.refresh
        limits = None if refresh.live_target is None else live_limits(
            request.app.state.settings, request.app.state.limiter,
            f"{platform.name}:{refresh.live_target}")
        result = await fresh_or_refresh(
            queue, lambda: _tagged(lookup.fetch(pool), platform),
            refresh_task(refresh.flow, platform.api_name, refresh.params, refresh.key),
            max_age, wait, limits)
        return result

    def include_hooks(include: str | None) -> list[tuple[str, IncludeHook]]:
        names = list(dict.fromkeys(n.strip() for n in (include or "").split(",") if n.strip()))
        for name in names:
            if name not in includes:
                known = ", ".join(sorted(includes)) or "none"
                raise invalid(["query", "include"], f"no include {name!r} (known: {known})")
        return [(name, load_attribute(includes[name])) for name in names]

    async def profile_answer(request: Request, queue: QueueDep, platform: Platform,
                             plan: Callable[[], Lookup], where: str, max_age: float,
                             wait: float, include: str | None) -> Any:
        hooks = include_hooks(include)
        result = await answer(request, queue, platform, plan, where, max_age, wait)
        if isinstance(result, dict):
            for name, hook in hooks:
                result[name] = await hook(queue.pool, platform.name, result)
        return result

    @router.get("/platforms", response_model=list[PlatformInfo], tags=["platforms"])
    async def list_platforms() -> list[PlatformInfo]:
        """The platforms this server knows, what each can look up, and the extras each adds
        to profiles (`?include=`)."""
        return [PlatformInfo(name=p.name, api_name=p.api_name, description=p.description,
                             lookups=lookups[p.name].capabilities(),
                             includes=sorted(p.profile_includes))
                for p in platforms.values()]

    @router.get("/profiles/{platform}/byhandle/{handle}", response_model=profile,
                responses=responses)
    async def profile_by_handle(platform: PlatformName, handle: Ident, request: Request,
                                queue: QueueDep, max_age: MaxAge = 86400,
                                wait: Wait = 10, include: Include = None) -> Any:
        """A profile by its handle (with or without @)."""
        found, by_handle = capability(platform, "profiles by handle",
                                      lambda lk: lk.profile_by_handle)
        return await profile_answer(request, queue, found, lambda: by_handle(handle),
                                    "handle", max_age, wait, include)

    @router.get("/profiles/{platform}/byhandle/{handle}/insights", response_model=StoredInsights,
                responses=responses)
    async def profile_insights(platform: PlatformName, handle: Ident, request: Request,
                               queue: QueueDep, max_age: MaxAge = 86400,
                               wait: Wait = 10) -> Any:
        """A profile's own insights (reach, impressions, ...), by handle."""
        found, insights = capability(platform, "profile insights",
                                     lambda lk: lk.profile_insights)
        return await answer(request, queue, found, lambda: insights(handle), "handle",
                            max_age, wait)

    @router.get("/profiles/{platform}/byhandle/{handle}/audienceinsights",
                response_model=StoredInsights, responses=responses)
    async def audience_insights(platform: PlatformName, handle: Ident, request: Request,
                                queue: QueueDep, max_age: MaxAge = 86400,
                                wait: Wait = 10) -> Any:
        """A profile's audience demographics (age, gender, city, country), by handle."""
        found, audience = capability(platform, "audience insights",
                                     lambda lk: lk.audience_insights)
        return await answer(request, queue, found, lambda: audience(handle), "handle",
                            max_age, wait)

    @router.get("/profiles/{platform}/byprofileid/{profile_id}", response_model=profile,
                responses=responses)
    async def profile_by_profile_id(platform: PlatformName, profile_id: Ident,
                                    request: Request, queue: QueueDep,
                                    max_age: MaxAge = 86400, wait: Wait = 10,
                                    include: Include = None) -> Any:
        """A profile by the platform's own id (YouTube: the channel id, UC…)."""
        found, by_id = capability(platform, "profiles by profile id",
                                  lambda lk: lk.profile_by_profile_id)
        return await profile_answer(request, queue, found, lambda: by_id(profile_id),
                                    "profile_id", max_age, wait, include)

    @router.get("/profiles/{platform}/byid/{profile_id}", response_model=profile,
                responses=responses)
    async def profile_by_id(platform: PlatformName, profile_id: RowId, request: Request,
                            queue: QueueDep, max_age: MaxAge = 86400, wait: Wait = 10,
                            include: Include = None) -> Any:
        """A stored profile by Beat's own id."""
        found, of_row = capability(platform, "profiles by Beat's id",
                                   lambda lk: lk.profile_id_of_row)
        _, by_id = capability(platform, "profiles by profile id",
                              lambda lk: lk.profile_by_profile_id)
        own_id = await of_row(queue.pool, profile_id)
        if own_id is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND,
                                detail=f"no stored profile {profile_id}")
        return await profile_answer(request, queue, found, lambda: by_id(own_id),
                                    "profile_id", max_age, wait, include)

    @router.get("/posts/{platform}/byshortcode/{code}", response_model=post,
                responses=responses)
    async def post_by_shortcode(platform: PlatformName, code: Ident, request: Request,
                                queue: QueueDep, max_age: MaxAge = 3600,
                                wait: Wait = 10) -> Any:
        """A post by the code in its URL (YouTube: the video id)."""
        found, by_code = capability(platform, "posts by shortcode",
                                    lambda lk: lk.post_by_shortcode)
        return await answer(request, queue, found, lambda: by_code(code), "code", max_age,
                            wait)

    @router.get("/posts/{platform}/{post_type}/{code}", response_model=post,
                responses=responses)
    async def post_by_type(platform: PlatformName, post_type: Annotated[str, Path(
                               max_length=40, description="The platform's post type")],
                           code: Ident, request: Request, queue: QueueDep,
                           max_age: MaxAge = 3600, wait: Wait = 10) -> Any:
        """A post of a given type by its code."""
        found, by_type = capability(platform, "posts by type", lambda lk: lk.post_by_type)
        return await answer(request, queue, found, lambda: by_type(post_type, code), "code",
                            max_age, wait)

    @router.get("/recent/posts/{platform}/byprofileid/{profile_id}", response_model=RecentPage,
                responses=responses)
    async def recent_posts(platform: PlatformName, profile_id: Ident, request: Request,
                           queue: QueueDep, limit: Annotated[int, Query(ge=1, le=200)] = 50,
                           cursor: Annotated[SafeStr | None, Query(
                               max_length=200, description="next_cursor")] = None,
                           max_age: MaxAge = 86400, wait: Wait = 10) -> Any:
        """A profile's posts, newest first, one page at a time (refreshed first when stale)."""
        found, recent = capability(platform, "recent posts", lambda lk: lk.recent_posts)
        try:
            plan = recent(profile_id, limit)
        except InvalidId as exc:
            raise invalid(["path", "profile_id"], str(exc)) from None
        pool = queue.pool
        if cursor is None and not is_fresh(await plan.freshness.fetch(pool), max_age):
            refresh = plan.freshness.refresh
            task, _ = await queue.enqueue(refresh_task(refresh.flow, found.api_name,
                                                       refresh.params, refresh.key))
            task = await wait_for(queue, task, wait)
            if not_found(task):
                raise HTTPException(status.HTTP_404_NOT_FOUND, detail=task.last_error)
            if task.status != Status.COMPLETE:
                return JSONResponse(jsonable_encoder({"task_id": task.id,
                                                      "status": task.status}),
                                    status_code=status.HTTP_202_ACCEPTED)
        try:
            items, next_cursor = await plan.page(pool, cursor, limit)
        except InvalidId as exc:
            raise invalid(["query", "cursor"], str(exc)) from None
        return {"items": [{**item, "platform": found.name} for item in items],
                "next_cursor": next_cursor}

    return router


async def _tagged(row: Any, platform: Platform) -> dict[str, Any] | None:
    found = await row
    return None if found is None else {**found, "platform": platform.name}
