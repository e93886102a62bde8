"""Instagram: URL recognition, models, sources (the Graph API first, then a RapidAPI-style
provider, then the web JSON), flows, storage and metrics, registered with Beat as one Platform."""

import re
from typing import Any

from core.entities import EntityTable
from core.platforms import Platform, RefreshCost
from core.posttext import PostText
from instagram.models import GRAPH_API, RAPIDAPI
from instagram.settings import InstagramSettings
from instagram.urls import HOSTS, resolve, share_url

# The provider's own limits (seed: rocketapi 100 per 30 s), on top of 2 calls a second.
SOURCE_LIMITS = {RAPIDAPI: ["2/s", "100/30s"]}
# The Graph API's platform rate limit: 200 calls an hour per user token.
CREDENTIAL_LIMITS = {GRAPH_API: ["200/h"]}
# What the links' refreshes draw on: an account is one business_discovery call and a story
# one call of its account's stories (Graph API; the RapidAPI-style provider's call while no
# token is usable); a post by shortcode, which the Graph API cannot look up, one call of the
# provider. Both answer only with a credential; the keyless web JSON declares no budget, so
# the scheduler plans no refresh on it.
PROVIDER_CALL = RefreshCost(RAPIDAPI, credential=True)
GRAPH_CALL = RefreshCost(GRAPH_API, credential=True, fallback=PROVIDER_CALL)
# A watched hashtag's 50 newest posts: the Graph API's hashtag search and 2 pages of 25, else
# 6 of the provider's pages of 9.
HASHTAG_PAGES = RefreshCost(GRAPH_API, credential=True, requests=3,
                            fallback=RefreshCost(RAPIDAPI, credential=True, requests=6))
REFRESH_COSTS = {"refresh_profile_by_handle": GRAPH_CALL, "refresh_stories_posts": GRAPH_CALL,
                 "refresh_post_by_shortcode": PROVIDER_CALL, "fetch_hashtag_posts": HASHTAG_PAGES}


def hashtag_search(keyword: str, limit: int) -> dict[str, Any] | None:
    """A keyword as an Instagram hashtag search: spaces and punctuation dropped ("summer
    sale" -> #summersale); a keyword with no letters or digits is no hashtag."""
    hashtag = re.sub(r"\W", "", keyword).lower()
    return {"hashtag": hashtag, "tab": "recent", "max_items": min(limit, 10_000)} \
        if hashtag else None


# What its profile snapshots (profile_log.metrics) carry: time series, growth, leaderboards.
PROFILE_METRICS = ("followers", "following", "media_count")

PLATFORM = Platform(
    name="instagram",
    profile_metrics=PROFILE_METRICS,
    flows="instagram.flows",
    parser="instagram.parse:normalize_document",
    hosts=HOSTS,
    resolve=resolve,
    share_url=share_url,
    settings=InstagramSettings,
    credential_checks={},  # Graph API tokens: the shared Graph check (credentials/graph.py)
    lookups="instagram.lookups:LOOKUPS",
    source_limits=SOURCE_LIMITS,
    credential_limits=CREDENTIAL_LIMITS,
    refresh_costs=REFRESH_COSTS,
    keyword_flow="fetch_hashtag_posts",
    keyword_params=hashtag_search,
    startup="instagram.startup:import_configured_credentials",
    attach_asset="instagram.asset_url:attach_asset",
    post_text=PostText(table="instagram_post", key="post_id", texts=("caption",),
                       published="publish_time", author="profile_id",
                       engagement=("likes", "comments")),
    entity_tables={
        "profile": EntityTable(table="instagram_account", key="profile_id",
                               metrics=(*PROFILE_METRICS, "is_private", "is_verified"),
                               texts=("handle", "full_name", "category", "profile_type")),
        "post": EntityTable(table="instagram_post", key="post_id",
                            metrics=("likes", "comments", "plays", "views", "reach",
                                     "impressions", "shares", "saved", "children"),
                            texts=("profile_id", "shortcode", "post_type", "caption")),
        "comment": EntityTable(table="instagram_comment", key="comment_id",
                               metrics=("likes", "replies"),
                               texts=("post_id", "author_id", "author_handle", "text"),
                               stored="refreshed_at"),
    },
    description="Instagram Graph API (business and creator accounts), then a RapidAPI-style "
                "provider, then the public web JSON",
)
