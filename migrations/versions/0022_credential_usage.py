"""The last usage a platform reported for each credential (its own rate-limit headers: a Graph
API token's usage in percent and when it regains access, an X account's calls remaining in its
window and when the window resets), kept beside the credential's other state so that the
budgets (GET /budgets, `beat budgets`) and the refresh scheduler read what the platform said.

Revision ID: 0022
Revises: 0021
"""

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE credential ADD COLUMN usage jsonb")


def downgrade() -> None:
    op.execute("ALTER TABLE credential DROP COLUMN usage")
