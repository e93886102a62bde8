"""Facebook: URL recognition, the Graph API source (pages, posts, videos and reels, `?ids=`
batches), flows, storage and lookups, registered with Beat as one Platform."""

from core.entities import EntityTable
from core.platforms import Platform
from core.posttext import PostText
from facebook.settings import FacebookSettings
from facebook.urls import HOSTS, resolve, share_url

# What its profile snapshots (profile_log.metrics) carry: time series, growth, leaderboards.
PROFILE_METRICS = ("fan_count", "followers", "talking_about")

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
