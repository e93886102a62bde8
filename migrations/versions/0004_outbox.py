"""The transactional outbox: one row per event, written in the transaction of the change.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UPGRADE = [
    """
    CREATE TABLE event_outbox (
        id             bigserial PRIMARY KEY,
        event_id       uuid        NOT NULL DEFAULT gen_random_uuid(),
        type           text        NOT NULL,
        occurred_at    timestamptz NOT NULL DEFAULT now(),
        platform       text,
        entity_key     text,
        changes        jsonb       NOT NULL DEFAULT '{}'::jsonb,
        source         text,
        schema_version integer     NOT NULL DEFAULT 1,
        status         text        NOT NULL DEFAULT 'PENDING',
        attempts       integer     NOT NULL DEFAULT 0,
        last_error     text,
        claimed_until  timestamptz,
        sent_at        timestamptz,
        CONSTRAINT event_outbox_status_check CHECK (status IN ('PENDING', 'SENT', 'PARKED'))
    ) WITH (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02)
    """,
    # The relay reads only this index: unsent events in commit order.
    "CREATE INDEX event_outbox_pending_idx ON event_outbox (id) WHERE status = 'PENDING'",
    "CREATE INDEX event_outbox_sent_idx ON event_outbox (sent_at) WHERE status = 'SENT'",
]

DOWNGRADE = [
    "DROP TABLE event_outbox",
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
