"""Thumbnails for Facebook and X: a post's picture (a video's thumbnail, a tweet's first photo
or poster frame) and a Facebook page's profile picture, as the links report shows them.

Revision ID: 0012
Revises: 0011
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

UPGRADE = [
    "ALTER TABLE facebook_page ADD COLUMN picture_url text",
    "ALTER TABLE facebook_post ADD COLUMN thumbnail_url text",
    "ALTER TABLE x_post ADD COLUMN thumbnail_url text",
]

DOWNGRADE = [
    "ALTER TABLE x_post DROP COLUMN thumbnail_url",
    "ALTER TABLE facebook_post DROP COLUMN thumbnail_url",
    "ALTER TABLE facebook_page DROP COLUMN picture_url",
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
