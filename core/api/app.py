"""Builds the FastAPI application: pool and registry in the lifespan, routers, limits."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from starlette.types import Receive, Scope, Send

from core.api import (
    analytics,
    auth,
    budgets,
    comments,
    entities,
    errors,
    events,
    hashtags,
    health,
    links,
    metrics,
    queue,
    tasks,
    tokens,
    watchlists,
)
from core.api.dashboard import login as dashboard_login
from core.api.dashboard import views as dashboard
from core.api.deps import EveryAccountScope, require_json_body
from core.api.head import HeadAsGet
from core.api.limits import BodyEncoding, BodySizeLimit
from core.config import ConfigError, Settings, get_settings
from core.db import check_schema, create_pool
from core.flows import load_flows
from core.hashtags.counts import HashtagCounts
from core.platforms import registry
from core.queue import Queue
from core.ratelimit import process_limiter
from credentials import redact

log = logging.getLogger(__name__)


class BeatApp(FastAPI):
    """The FastAPI app, refusing its start-up with one line (the server logs it and exits
    non-zero: uvicorn with code 3) when it may not serve: see `auth.startup_refusal`. This runs
    before FastAPI's own lifespan handling, which hides the server's `receive`."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            refusal = auth.startup_refusal(self, receive)
            if refusal is not None:
                await receive()  # lifespan.startup
                await send({"type": "lifespan.startup.failed", "message": refusal})
                return
        await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    redact.remember_settings(settings)
    redact.install_on_handlers()  # the server's handlers exist by now (uvicorn made them)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not settings.database_url:
            raise RuntimeError("DATABASE_URL is not set (`beat up` starts an embedded database)")
        if app.state.startup_problem:  # a malformed key setting, or no BEAT_SECRET_KEY
            raise ConfigError(app.state.startup_problem)
        await check_schema(settings.database_url)
        pool = await create_pool(settings.database_url, min_size=2, max_size=20)
        app.state.queue = Queue(pool)
        app.state.limiter = process_limiter(settings)
        app.state.hashtag_counts = (HashtagCounts.from_settings(settings)
                                    if settings.redis_url else None)
        try:
            yield
        finally:
            await pool.close()
            if app.state.hashtag_counts is not None:
                await app.state.hashtag_counts.aclose()

    app = BeatApp(title="Beat", version="0.1.0", lifespan=lifespan,
                  description="Scrape requests for social-media analytics, queued in PostgreSQL.",
                  dependencies=[Depends(require_json_body)])
    errors.install(app)
    app.state.settings = settings
    app.state.flows = load_flows(settings)
    app.state.beat = True
    for module in (tasks, queue, health, tokens, links, metrics, dashboard, dashboard_login):
        app.include_router(module.router)
    app.include_router(entities.build_router(registry(settings)))
    app.include_router(analytics.router)  # after entities: /byhandle/timeseries is a handle
    # A limited key sees no event stream: its events concern every account's tasks and entities.
    app.include_router(events.router, dependencies=[EveryAccountScope])
    # Watchlists are shared by every account's refreshes: a limited key may not change them.
    app.include_router(watchlists.router, dependencies=[EveryAccountScope])
    app.include_router(budgets.router, dependencies=[EveryAccountScope])
    app.include_router(hashtags.router)
    app.include_router(comments.router)
    app.add_middleware(HeadAsGet)  # innermost: the key check sees HEAD as it came
    app.add_middleware(BodyEncoding)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes,
                       path_limits={"/scrape_request_log/flows": settings.max_bulk_body_bytes})
    auth.install(app, settings)
    return app
