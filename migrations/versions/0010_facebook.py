"""Facebook current state: pages and posts (videos and reels are posts with post_type and
views), each metric with its source.

Revision ID: 0010
Revises: 0009
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

UPGRADE = [
    """
    CREATE TABLE facebook_page (
        id                   bigserial PRIMARY KEY,
        page_id              text        NOT NULL UNIQUE,
        username             text,
        name                 text,
        link                 text,
        category             text,
        verification_status  text,
        fan_count            bigint,
        followers            bigint,
        talking_about        bigint,
        source               text,
        metric_sources       jsonb       NOT NULL DEFAULT '{}'::jsonb,
        created_at           timestamptz NOT NULL DEFAULT now(),
        updated_at           timestamptz NOT NULL DEFAULT now(),
        refreshed_at         timestamptz
    )
    """,
    "CREATE INDEX facebook_page_username_idx ON facebook_page (lower(username))",
    """
    CREATE TABLE facebook_post (
        id              bigserial PRIMARY KEY,
        post_id         text        NOT NULL UNIQUE,
        aliases         text[]      NOT NULL DEFAULT '{}',
        post_type       text,
        page_id         text,
        author          text,
        message         text,
        title           text,
        permalink       text,
        likes           bigint,
        comments        bigint,
        shares          bigint,
        views           bigint,
        length_s        double precision,
        publish_time    timestamptz,
        source          text,
        metric_sources  jsonb       NOT NULL DEFAULT '{}'::jsonb,
        created_at      timestamptz NOT NULL DEFAULT now(),
        updated_at      timestamptz NOT NULL DEFAULT now(),
        refreshed_at    timestamptz
    )
    """,
    "CREATE INDEX facebook_post_aliases_idx ON facebook_post USING gin (aliases)",
    "CREATE INDEX facebook_post_page_idx ON facebook_post (page_id, publish_time DESC, id)",
]

DOWNGRADE = ["DROP TABLE facebook_post", "DROP TABLE facebook_page"]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
