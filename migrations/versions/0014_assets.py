"""Assets: asset_log (one row per asset request handled by the assets worker: its source, the
item it belongs to, where it was stored, or why it failed), and `asset_url` on the platforms'
profile and post tables (the stored copy of the item's image, set through each platform's
`attach_asset` hook).

Revision ID: 0014
Revises: 0013
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

ENTITY_TABLES = ("youtube_account", "youtube_post", "instagram_account", "instagram_post",
                 "facebook_page", "facebook_post", "x_account", "x_post")

UPGRADE = [
    """
    CREATE TABLE asset_log (
        id              bigserial   PRIMARY KEY,
        source_url      text        NOT NULL,
        final_url       text,
        platform        text,
        entity_kind     text,
        entity_id       text,
        key             text,
        url             text,
        bytes           bigint,
        source_bytes    bigint,
        width           integer,
        height          integer,
        content_type    text,
        sha256          text,
        status          text        NOT NULL,
        created         boolean,
        error           text,
        error_kind      text,
        task_id         bigint,
        created_at      timestamptz NOT NULL DEFAULT now(),
        updated_at      timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT asset_log_status_check CHECK (status IN ('STORED', 'FAILED'))
    )
    """,
    "CREATE INDEX asset_log_sha256_idx ON asset_log (sha256) WHERE sha256 IS NOT NULL",
    "CREATE INDEX asset_log_entity_idx ON asset_log (platform, entity_kind, entity_id)",
    "CREATE INDEX asset_log_created_idx ON asset_log (created_at)",
    *(f"ALTER TABLE {table} ADD COLUMN asset_url text" for table in ENTITY_TABLES),
]

DOWNGRADE = [*(f"ALTER TABLE {table} DROP COLUMN asset_url" for table in ENTITY_TABLES),
             "DROP TABLE asset_log"]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
