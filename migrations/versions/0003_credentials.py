"""Credential validation outcome: when it was checked, its scopes and expiry, the last error.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UPGRADE = [
    """
    ALTER TABLE credential
        ADD COLUMN validated_at           timestamptz,
        ADD COLUMN scopes                 text[],
        ADD COLUMN expires_at             timestamptz,
        ADD COLUMN data_access_expires_at timestamptz,
        ADD COLUMN last_error             text
    """,
]

DOWNGRADE = [
    """
    ALTER TABLE credential
        DROP COLUMN last_error,
        DROP COLUMN data_access_expires_at,
        DROP COLUMN expires_at,
        DROP COLUMN scopes,
        DROP COLUMN validated_at
    """,
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
