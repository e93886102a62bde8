"""Fencing tokens, task progress, commit-safe event cursors and the outbox backlog view.

- `lease_token` grows by one at every claim and is never reset (requeue and release leave it
  alone): acks, heartbeats and releases match it, so a stale holder can never touch a later claim.
- `progress` is the running task's own report ({done, total, unit}).
- `event_outbox.txid` is the inserting transaction's id: readers page by (txid, id) and stop
  below the oldest transaction still running, so an event that commits late is never skipped.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UPGRADE = [
    "ALTER TABLE scrape_request_log ADD COLUMN lease_token bigint NOT NULL DEFAULT 0",
    "ALTER TABLE scrape_request_log ADD COLUMN progress jsonb",
    "ALTER TABLE event_outbox ADD COLUMN txid xid8 NOT NULL DEFAULT pg_current_xact_id()",
    "CREATE INDEX event_outbox_txid_idx ON event_outbox (txid, id)",
    # Parked events and the retention of every status read this one.
    "CREATE INDEX event_outbox_status_time_idx ON event_outbox (status, occurred_at)",
    """
    CREATE VIEW outbox_stats AS
    SELECT status,
           count(*) AS events,
           coalesce(extract(epoch FROM now() - min(occurred_at)), 0)::double precision
               AS oldest_age_s
      FROM event_outbox
     GROUP BY status
    """,
]

DOWNGRADE = [
    "DROP VIEW outbox_stats",
    "DROP INDEX event_outbox_status_time_idx",
    "DROP INDEX event_outbox_txid_idx",
    "ALTER TABLE event_outbox DROP COLUMN txid",
    "ALTER TABLE scrape_request_log DROP COLUMN progress",
    "ALTER TABLE scrape_request_log DROP COLUMN lease_token",
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
