"""YouTube current state: channels, videos and comments, each metric with its source.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UPGRADE = [
    """
    CREATE TABLE youtube_account (
        id                  bigserial PRIMARY KEY,
        channel_id          text        NOT NULL UNIQUE,
        handle              text,
        title               text,
        description         text,
        published_at        timestamptz,
        country             text,
        thumbnail_url       text,
        subscribers         bigint,
        views               bigint,
        video_count         bigint,
        uploads_playlist_id text,
        avg_views           double precision,
        avg_likes           double precision,
        avg_comments        double precision,
        engagement_rate     double precision,
        uploads_per_week    double precision,
        insights_videos     integer,
        source              text,
        metric_sources      jsonb       NOT NULL DEFAULT '{}'::jsonb,
        created_at          timestamptz NOT NULL DEFAULT now(),
        updated_at          timestamptz NOT NULL DEFAULT now(),
        refreshed_at        timestamptz
    )
    """,
    "CREATE INDEX youtube_account_handle_idx ON youtube_account (lower(handle))",
    """
    CREATE TABLE youtube_post (
        id                  bigserial PRIMARY KEY,
        video_id            text        NOT NULL UNIQUE,
        channel_id          text,
        channel_title       text,
        title               text,
        description         text,
        published_at        timestamptz,
        duration_s          integer,
        views               bigint,
        likes               bigint,
        comments            bigint,
        comments_disabled   boolean,
        tags                jsonb       NOT NULL DEFAULT '[]'::jsonb,
        thumbnail_url       text,
        category_id         text,
        source              text,
        metric_sources      jsonb       NOT NULL DEFAULT '{}'::jsonb,
        created_at          timestamptz NOT NULL DEFAULT now(),
        updated_at          timestamptz NOT NULL DEFAULT now(),
        refreshed_at        timestamptz
    )
    """,
    "CREATE INDEX youtube_post_channel_idx ON youtube_post (channel_id, published_at DESC, id)",
    """
    CREATE TABLE youtube_comment (
        id                  bigserial PRIMARY KEY,
        comment_id          text        NOT NULL UNIQUE,
        video_id            text        NOT NULL,
        author              text,
        author_channel_id   text,
        text                text,
        likes               bigint,
        reply_count         bigint,
        published_at        timestamptz,
        updated_at          timestamptz,
        source              text,
        refreshed_at        timestamptz NOT NULL DEFAULT now()
    )
    """,
    "CREATE INDEX youtube_comment_video_idx ON youtube_comment (video_id, published_at DESC)",
]

DOWNGRADE = ["DROP TABLE youtube_comment", "DROP TABLE youtube_post", "DROP TABLE youtube_account"]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
