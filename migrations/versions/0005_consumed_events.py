"""Consumed events: one row per (consumer, event) an AMQP listener has handled, written in the
transaction of the handler's own changes, so a redelivered message is recognised and skipped.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UPGRADE = [
    """
    CREATE TABLE consumed_event (
        consumer    text        NOT NULL,
        event_id    text        NOT NULL,
        consumed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, event_id)
    )
    """,
    # Retention deletes the oldest rows first.
    "CREATE INDEX consumed_event_consumed_at_idx ON consumed_event (consumed_at)",
]

DOWNGRADE = [
    "DROP TABLE consumed_event",
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
