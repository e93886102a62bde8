"""Builds the FastAPI application: pool and registry in the lifespan, routers, limits."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from core.api import auth, errors, events, health, queue, tasks, tokens
from core.api.deps import require_json_body
from core.api.limits import BodySizeLimit
from core.config import Settings, get_settings
from core.db import check_schema, create_pool
from core.flows import load_flows
from core.queue import Queue
from core.ratelimit import process_limiter
from youtube import api as youtube_api

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not settings.database_url:
            raise RuntimeError("DATABASE_URL is not set (`beat up` starts an embedded database)")
        await check_schema(settings.database_url)
        pool = await create_pool(settings.database_url, min_size=2, max_size=20)
        app.state.queue = Queue(pool)
        app.state.limiter = process_limiter(settings)
        try:
            yield
        finally:
            await pool.close()

    app = FastAPI(title="Beat", version="0.1.0", lifespan=lifespan,
                  description="Scrape requests for social-media analytics, queued in PostgreSQL.",
                  dependencies=[Depends(require_json_body)])
    errors.install(app)
    app.state.settings = settings
    app.state.flows = load_flows(settings)
    app.state.beat = True
    for module in (tasks, queue, events, health, tokens, youtube_api):
        app.include_router(module.router)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes,
                       path_limits={"/scrape_request_log/flows": settings.max_bulk_body_bytes})
    auth.install(app, settings)
    return app
