"""X (Twitter): URL recognition, models, sources (the web app's GraphQL API as a guest or
with a stored credential, then the keyless syndication answer of embedded tweets), flows,
storage and lookups, registered with Beat as one Platform."""

from core.entities import EntityTable
from core.platforms import Platform, RefreshCost
from core.posttext import PostText
from x.models import GRAPHQL, SYNDICATION
from x.settings import XSettings
from x.urls import HOSTS, resolve, share_url

# Guests get a few hundred GraphQL calls per 15 minutes; syndication is a CDN, paced anyway.
SOURCE_LIMITS = {GRAPHQL: ["1/s", "150/900s"], SYNDICATION: ["5/s"]}
# A logged-in account's GraphQL window: UserByScreenName allows 95 calls per 15 minutes (the
# tightest of the queries the refreshes make).
CREDENTIAL_LIMITS = {GRAPHQL: ["95/15min"]}
# A tweet or an account is one GraphQL call, with a stored account or as a guest.
REFRESH_COSTS = {"refresh_x_post": RefreshCost(GRAPHQL, credential=False),
                 "refresh_x_profile": RefreshCost(GRAPHQL, credential=False)}

# What its profile snapshots (profile_log.metrics) carry: time series, growth, leaderboards.
PROFILE_METRICS = ("followers", "following", "tweets", "listed", "media_count", "favourites")

PLATFORM = Platform(
    name="x",
    profile_metrics=PROFILE_METRICS,
    flows="x.flows",
    parser="x.parse:normalize_document",
    hosts=HOSTS,
    resolve=resolve,
    share_url=share_url,
    settings=XSettings,
    lookups="x.lookups:LOOKUPS",
    source_limits=SOURCE_LIMITS,
    credential_limits=CREDENTIAL_LIMITS,
    refresh_costs=REFRESH_COSTS,
    startup="x.startup:import_configured_credentials",
    attach_asset="x.asset_url:attach_asset",
    post_text=PostText(table="x_post", key="tweet_id", texts=("text",),
                       published="published_at", author="user_id",
                       engagement=("likes", "comments", "shares", "quotes")),
    entity_tables={
        "profile": EntityTable(table="x_account", key="user_id",
                               metrics=(*PROFILE_METRICS, "verified", "blue_verified",
                                        "protected"),
                               texts=("handle", "name")),
        "post": EntityTable(table="x_post", key="tweet_id",
                            metrics=("likes", "comments", "shares", "quotes", "bookmarks",
                                     "views", "has_video"),
                            texts=("user_id", "lang", "quoted_tweet_id", "text")),
    },
    description="X's GraphQL API (guest token or stored credential), then the keyless "
                "syndication answer of embedded tweets",
)
