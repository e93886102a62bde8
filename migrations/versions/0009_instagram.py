"""Instagram current state: accounts (with insights, audience and averages), posts, comments,
followers/following, likers, hashtag and tagged posts; each metric with its source.

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

UPGRADE = [
    """
    CREATE TABLE instagram_account (
        id                      bigserial PRIMARY KEY,
        profile_id              text        NOT NULL UNIQUE,
        graph_id                text,
        handle                  text        NOT NULL,
        full_name               text,
        biography               text,
        website                 text,
        followers               bigint,
        following               bigint,
        media_count             bigint,
        avg_likes               double precision,
        avg_comments            double precision,
        avg_reach               double precision,
        avg_engagement          double precision,
        avg_reels_plays         double precision,
        averages_posts          integer,
        averages_source         text,
        profile_pic_url         text,
        profile_type            text,
        is_private              boolean,
        is_verified             boolean,
        is_business_or_creator  boolean,
        category                text,
        fbid                    text,
        insights                jsonb,
        insights_source         text,
        insights_at             timestamptz,
        audience                jsonb,
        audience_source         text,
        audience_at             timestamptz,
        source                  text,
        metric_sources          jsonb       NOT NULL DEFAULT '{}'::jsonb,
        created_at              timestamptz NOT NULL DEFAULT now(),
        updated_at              timestamptz NOT NULL DEFAULT now(),
        refreshed_at            timestamptz
    )
    """,
    "CREATE INDEX instagram_account_handle_idx ON instagram_account (lower(handle))",
    """
    CREATE TABLE instagram_post (
        id              bigserial PRIMARY KEY,
        post_id         text        NOT NULL UNIQUE,
        graph_id        text,
        shortcode       text,
        profile_id      text,
        handle          text,
        post_type       text,
        caption         text,
        permalink       text,
        thumbnail_url   text,
        display_url     text,
        likes           bigint,
        comments        bigint,
        plays           bigint,
        views           bigint,
        reach           bigint,
        impressions     bigint,
        shares          bigint,
        saved           bigint,
        children        integer,
        insights        jsonb,
        publish_time    timestamptz,
        expires_at      timestamptz,
        source          text,
        metric_sources  jsonb       NOT NULL DEFAULT '{}'::jsonb,
        created_at      timestamptz NOT NULL DEFAULT now(),
        updated_at      timestamptz NOT NULL DEFAULT now(),
        refreshed_at    timestamptz
    )
    """,
    "CREATE INDEX instagram_post_shortcode_idx ON instagram_post (shortcode)",
    "CREATE INDEX instagram_post_graph_idx ON instagram_post (graph_id)",
    "CREATE INDEX instagram_account_graph_idx ON instagram_account (graph_id)",
    "CREATE INDEX instagram_post_profile_idx ON instagram_post (profile_id, publish_time DESC, id)",
    """
    CREATE TABLE instagram_comment (
        id              bigserial PRIMARY KEY,
        comment_id      text        NOT NULL UNIQUE,
        post_id         text        NOT NULL,
        text            text,
        author_handle   text,
        author_id       text,
        likes           bigint,
        replies         bigint,
        published_at    timestamptz,
        source          text,
        refreshed_at    timestamptz NOT NULL DEFAULT now()
    )
    """,
    "CREATE INDEX instagram_comment_post_idx ON instagram_comment (post_id, published_at DESC)",
    """
    CREATE TABLE instagram_relationship (
        profile_id      text        NOT NULL,
        kind            text        NOT NULL CHECK (kind IN ('follower', 'following')),
        user_id         text        NOT NULL,
        handle          text        NOT NULL,
        full_name       text,
        is_private      boolean,
        is_verified     boolean,
        profile_pic_url text,
        source          text,
        first_seen_at   timestamptz NOT NULL DEFAULT now(),
        last_seen_at    timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (profile_id, kind, user_id)
    )
    """,
    """
    CREATE TABLE instagram_post_liker (
        post_id         text        NOT NULL,
        user_id         text        NOT NULL,
        handle          text        NOT NULL,
        full_name       text,
        is_private      boolean,
        is_verified     boolean,
        source          text,
        first_seen_at   timestamptz NOT NULL DEFAULT now(),
        last_seen_at    timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (post_id, user_id)
    )
    """,
    """
    CREATE TABLE instagram_post_link (
        kind            text        NOT NULL CHECK (kind IN ('hashtag', 'tagged')),
        key             text        NOT NULL,
        post_id         text        NOT NULL,
        source          text,
        first_seen_at   timestamptz NOT NULL DEFAULT now(),
        last_seen_at    timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (kind, key, post_id)
    )
    """,
]

DOWNGRADE = ["DROP TABLE instagram_post_link", "DROP TABLE instagram_post_liker",
             "DROP TABLE instagram_relationship", "DROP TABLE instagram_comment",
             "DROP TABLE instagram_post", "DROP TABLE instagram_account"]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
