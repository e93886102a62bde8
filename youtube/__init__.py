"""YouTube: URL recognition, models, sources and flows, registered with Beat as one Platform."""

from core.entities import EntityTable
from core.platforms import Platform, RefreshCost
from core.posttext import CommentThreads, PostText
from youtube.settings import YoutubeSettings
from youtube.urls import HOSTS, resolve

KEY_CHECK = "youtube.sources.data_api:check_key"
OWNER_CHECK = "youtube.sources.analytics.owners:check_owner_token"

# What its profile snapshots (profile_log.metrics) carry: time series, growth, leaderboards.
PROFILE_METRICS = ("subscribers", "views", "video_count")

PLATFORM = Platform(
    name="youtube",
    profile_metrics=PROFILE_METRICS,
    followers_metric="subscribers",
    flows="youtube.flows",
    parser="youtube.parse:normalize_document",
    hosts=HOSTS,
    resolve=resolve,
    settings=YoutubeSettings,
    credential_checks={"youtube_data_api": KEY_CHECK, "ytapi": KEY_CHECK,
                       "youtube_oauth": OWNER_CHECK},
    # Each key's daily quota, reset at midnight Pacific time: a list call costs 1 unit, a
    # search page 100.
    credential_quotas={"youtube_data_api": "10000/day@America/Los_Angeles"},
    # A list call costs 1 unit: videos are folded 50 ids a call, a channel is one call; a
    # watched playlist lists its first 200 videos (WATCHED_PLAYLIST_VIDEOS in lookups.py: 4
    # pages of playlistItems, 50 a page) and reads them (4 calls of videos).
    refresh_costs={"refresh_yt_posts": RefreshCost("youtube_data_api", units=1, items=50),
                   "refresh_yt_profiles": RefreshCost("youtube_data_api", units=1, items=1),
                   "refresh_yt_posts_by_playlist_id": RefreshCost(
                       "youtube_data_api", units=8, requests=8)},
    lookups="youtube.lookups:LOOKUPS",
    keyword_flow="refresh_yt_posts_by_keyword",
    startup="youtube.sources.data_api.keys:import_configured_keys",
    attach_asset="youtube.asset_url:attach_asset",
    post_text=PostText(table="youtube_post", key="video_id", texts=("title", "description"),
                       published="published_at", author="channel_id",
                       engagement=("likes", "comments")),
    comment_threads=CommentThreads(table="youtube_comment", key="comment_id", parent="parent_id",
                                   post="video_id", likes="likes"),
    entity_tables={
        "profile": EntityTable(
            table="youtube_account", key="channel_id",
            metrics=(*PROFILE_METRICS, "views_28d", "watch_minutes_28d", "avg_view_duration_s",
                     "subscribers_net_28d"),
            texts=("handle", "title", "country")),
        "post": EntityTable(table="youtube_post", key="video_id",
                            metrics=("views", "likes", "comments", "comments_disabled",
                                     "duration_s"),
                            texts=("channel_id", "title", "category_id")),
        "comment": EntityTable(table="youtube_comment", key="comment_id",
                               metrics=("likes", "reply_count"),
                               texts=("video_id", "parent_id", "author_channel_id", "text"),
                               stored="refreshed_at"),
    },
    description="YouTube Data API v3, with an Invidious instance as the keyless fallback",
)
