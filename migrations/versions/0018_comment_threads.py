"""Comment threads: a reply names its parent comment (youtube_comment.parent_id), so that thread
depths and reply chains can be read with a recursive query; the index serves its step from a
comment to its replies. Replies stored before this migration have no parent (they were never
stored: the threads' replies were not read).

Revision ID: 0018
Revises: 0017
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

UPGRADE = [
    "ALTER TABLE youtube_comment ADD COLUMN parent_id text",
    ("CREATE INDEX youtube_comment_parent_idx ON youtube_comment (parent_id)"
     " WHERE parent_id IS NOT NULL"),
]

DOWNGRADE = ["DROP INDEX youtube_comment_parent_idx",
             "ALTER TABLE youtube_comment DROP COLUMN parent_id"]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
