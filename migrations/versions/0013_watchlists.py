"""Watchlists: named sets of platform items (profiles, posts) that the refresh scheduler keeps
fresh, each item with its importance and target freshness (max age).

Revision ID: 0013
Revises: 0012
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

UPGRADE = [
    """
    CREATE TABLE watchlist (
        id           bigserial   PRIMARY KEY,
        name         text        NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
        description  text,
        created_at   timestamptz NOT NULL DEFAULT now()
    )
    """,
    """
    CREATE TABLE watchlist_item (
        watchlist_id bigint      NOT NULL REFERENCES watchlist (id) ON DELETE CASCADE,
        platform     text        NOT NULL,
        kind         text        NOT NULL,
        item_id      text        NOT NULL,
        importance   double precision NOT NULL DEFAULT 1 CHECK (importance > 0),
        max_age_s    integer     NOT NULL CHECK (max_age_s > 0),
        added_at     timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (watchlist_id, platform, kind, item_id)
    )
    """,
    "CREATE INDEX watchlist_item_platform_idx ON watchlist_item (platform, kind, item_id)",
]

DOWNGRADE = ["DROP TABLE watchlist_item", "DROP TABLE watchlist"]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
