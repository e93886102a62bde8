"""A task's checkpoint: where a long paginated run stopped (a cursor), so the next attempt after a
crash, a timeout or a retry resumes there instead of starting over.

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE scrape_request_log ADD COLUMN checkpoint jsonb")


def downgrade() -> None:
    op.execute("ALTER TABLE scrape_request_log DROP COLUMN checkpoint")
