"""Facebook: URL recognition, the Graph API source (pages, posts, videos and reels, `?ids=`
batches), flows, storage and lookups, registered with Beat as one Platform."""

from core.entities import EntityTable
from core.platforms import Platform, RefreshCost
from core.posttext import PostText
from facebook.models import GRAPH_API
from facebook.settings import FacebookSettings
from facebook.urls import HOSTS, resolve, share_url

# What its profile snapshots (profile_log.metrics) carry: time series, growth, leaderboards.
PROFILE_METRICS = ("fan_count", "followers", "talking_about")

# The Graph API's platform rate limit: 200 calls an hour per user token.
CREDENTIAL_LIMITS = {GRAPH_API: ["200/h"]}
# A page, post or video is one Graph API call. Concurrent refreshes are folded into `?ids=`
# calls of up to 50, but how many fold depends on what runs at once, so each is budgeted as a
# call of its own: the calls made are never more than the plan's.
REFRESH_COSTS = {flow: RefreshCost(GRAPH_API, credential=True)
                 for flow in ("refresh_fb_page", "refresh_fb_post", "refresh_fb_video")}

PLATFORM = Platform(
    name="facebook",
    profile_metrics=PROFILE_METRICS,
    flows="facebook.flows",
    parser="facebook.parse:normalize_document",
    hosts=HOSTS,
    resolve=resolve,
    share_url=share_url,
    settings=FacebookSettings,
    credential_checks={},  # Graph API tokens: the shared Graph check (credentials/graph.py)
    lookups="facebook.lookups:LOOKUPS",
    credential_limits=CREDENTIAL_LIMITS,
    refresh_costs=REFRESH_COSTS,
    startup="facebook.startup:import_configured_tokens",
    attach_asset="facebook.asset_url:attach_asset",
    post_text=PostText(table="facebook_post", key="post_id", texts=("message", "title"),
                       published="publish_time", author="page_id",
                       engagement=("likes", "comments", "shares")),
    entity_tables={
        "profile": EntityTable(table="facebook_page", key="page_id", metrics=PROFILE_METRICS,
                               texts=("username", "name", "category")),
        "post": EntityTable(table="facebook_post", key="post_id",
                            metrics=("likes", "comments", "shares", "views"),
                            texts=("page_id", "post_type", "message", "title")),
    },
    description="Facebook Graph API (pages, posts, videos and reels; page or user tokens)",
)
