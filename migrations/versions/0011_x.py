"""X current state: accounts and tweets, each metric with its source.

Revision ID: 0011
Revises: 0010
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

UPGRADE = [
    """
    CREATE TABLE x_account (
        id                  bigserial PRIMARY KEY,
        user_id             text        NOT NULL UNIQUE,
        handle              text        NOT NULL,
        name                text,
        description         text,
        location            text,
        followers           bigint,
        following           bigint,
        tweets              bigint,
        listed              bigint,
        media_count         bigint,
        favourites          bigint,
        verified            boolean,
        blue_verified       boolean,
        protected           boolean,
        profile_image_url   text,
        account_created_at  timestamptz,
        source              text,
        metric_sources      jsonb       NOT NULL DEFAULT '{}'::jsonb,
        created_at          timestamptz NOT NULL DEFAULT now(),
        updated_at          timestamptz NOT NULL DEFAULT now(),
        refreshed_at        timestamptz
    )
    """,
    "CREATE INDEX x_account_handle_idx ON x_account (lower(handle))",
    """
    CREATE TABLE x_post (
        id               bigserial PRIMARY KEY,
        tweet_id         text        NOT NULL UNIQUE,
        user_id          text,
        handle           text,
        text             text,
        likes            bigint,
        comments         bigint,
        shares           bigint,
        quotes           bigint,
        bookmarks        bigint,
        views            bigint,
        lang             text,
        quoted_tweet_id  text,
        has_video        boolean,
        published_at     timestamptz,
        source           text,
        metric_sources   jsonb       NOT NULL DEFAULT '{}'::jsonb,
        created_at       timestamptz NOT NULL DEFAULT now(),
        updated_at       timestamptz NOT NULL DEFAULT now(),
        refreshed_at     timestamptz
    )
    """,
    "CREATE INDEX x_post_user_idx ON x_post (user_id, published_at)",
]

DOWNGRADE = ["DROP TABLE x_post", "DROP TABLE x_account"]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
