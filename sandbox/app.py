"""The sandbox as one FastAPI app: Data API v3 (/youtube/v3/), YouTube Analytics v2 and the
channel owners' token endpoint (/youtube/analytics/v2/, /youtube/oauth2/), the Invidious-shaped
keyless fallback (/invidious/api/v1/), Instagram's web JSON (/instagram-web/) and
RapidAPI-style provider (/rapidapi/instagram/), Facebook's Graph API (/facebook/graph/) and
share redirects (/facebook/www/share/, /facebook/fbwatch/), X's syndication, GraphQL and t.co
stand-ins (/x/), Google Sheets API v4 and its token endpoint (/sheets/), an image host with
hostile answers for the assets worker (/assets/), OpenAI-compatible chat completions (/v1/), and
the control API (/_sandbox/), behind the fault middleware."""

from fastapi import FastAPI

from sandbox import control
from sandbox.assets import api as assets_api
from sandbox.facebook import control as facebook_control
from sandbox.facebook import graph_api as facebook_graph
from sandbox.facebook import share as facebook_share
from sandbox.facebook.world import build_world as build_facebook_world
from sandbox.faults import FaultBook, FaultMiddleware, Faults, Usage
from sandbox.graph import debug_token
from sandbox.instagram import graph_api as instagram_graph
from sandbox.instagram import graph_control as instagram_graph_control
from sandbox.instagram import limits_control as instagram_limits_control
from sandbox.instagram import rapidapi as instagram_rapidapi
from sandbox.instagram import web as instagram_web
from sandbox.instagram.world import build_world as build_instagram_world
from sandbox.openai import api as openai_api
from sandbox.quota import DEFAULT_KEYS, Clock, QuotaBook, utc_now
from sandbox.sheets import api as sheets_api
from sandbox.sheets import control as sheets_control
from sandbox.state import SandboxState
from sandbox.x import api as x_api
from sandbox.youtube import analytics_api, data_api, invidious_api, oauth
from sandbox.youtube.world import build_world


def create_sandbox_app(seed: int = 1, keys: dict[str, int] | None = None,
                       faults: Faults | None = None, clock: Clock = utc_now,
                       quiet_channels: int = 0) -> FastAPI:
    """A sandbox whose world comes from `seed`; `keys` maps API key -> daily quota units
    (default: sandbox-key-1 and sandbox-key-2, 10,000 each); `faults` apply to every path
    until changed through POST /_sandbox/faults; `clock` drives the Pacific-midnight reset;
    `quiet_channels` adds that many YouTube channels without videos."""
    app = FastAPI(title="Beat sandbox", docs_url=None, redoc_url=None)
    initial_keys = dict(DEFAULT_KEYS if keys is None else keys)
    state = SandboxState(
        world=build_world(seed, quiet_channels), quota=QuotaBook(initial_keys, clock),
        faults=FaultBook(seed, faults), usage=Usage(), initial_faults=faults,
        initial_keys=initial_keys,
    )
    app.state.sandbox = state
    app.state.instagram_graph = instagram_graph.GraphState(build_instagram_world(seed))
    app.state.instagram_web = instagram_web.WebThrottle()
    app.state.facebook_graph = facebook_graph.FacebookGraph(build_facebook_world(seed))
    app.state.instagram_rapidapi = instagram_rapidapi.ProviderLimits()
    app.state.x = x_api.new_state(seed)
    app.state.sheets = sheets_api.SheetsState()
    app.state.youtube_oauth = oauth.OAuthBook(state.world, clock)
    app.state.openai = openai_api.OpenAIState()
    app.include_router(data_api.router)
    app.include_router(analytics_api.router)
    app.include_router(oauth.router)
    app.include_router(invidious_api.router)
    app.include_router(debug_token.router)
    app.include_router(instagram_web.router)
    app.include_router(instagram_rapidapi.router)
    app.include_router(instagram_graph.router)  # after debug_token: its catch-all comes last
    app.include_router(facebook_graph.router)
    app.include_router(facebook_share.router)
    app.include_router(x_api.router)
    app.include_router(sheets_api.router)
    app.include_router(assets_api.router)
    app.include_router(openai_api.router)
    app.include_router(control.router)
    app.include_router(facebook_control.router)
    app.include_router(instagram_graph_control.router)
    app.include_router(instagram_limits_control.router)
    app.include_router(x_api.control)
    app.include_router(sheets_control.router)
    app.include_router(oauth.control)
    app.include_router(openai_api.control)
    routes = [*data_api.router.routes, *analytics_api.router.routes, *oauth.router.routes,
              *invidious_api.router.routes,
              *instagram_web.router.routes, *instagram_rapidapi.router.routes,
              *instagram_graph.router.routes, *facebook_graph.router.routes,
              *facebook_share.router.routes, *x_api.router.routes,
              *sheets_api.router.routes, *openai_api.router.routes]
    app.add_middleware(FaultMiddleware, book=state.faults, usage=state.usage, routes=routes)
    return app
