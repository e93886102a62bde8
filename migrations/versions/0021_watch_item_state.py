"""What the refresh scheduler learnt of each watched item's refreshes (core/scheduler/outcomes.py):
the last refresh it enqueued until that task's outcome is read; when a refresh last completed
(a collection such as a playlist or hashtag has no stored row of its own to say it); and, while
its refreshes keep failing, how many failed in a row, the last error and when the next attempt
may go out (exponential backoff). Keyed like the items (platform, kind, id), across watchlists.

Revision ID: 0021
Revises: 0020
"""

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE watch_item_state (
        platform     text        NOT NULL,
        kind         text        NOT NULL,
        item_id      text        NOT NULL,
        task_id      bigint,
        refreshed_at timestamptz,
        failures     integer     NOT NULL DEFAULT 0 CHECK (failures >= 0),
        retry_at     timestamptz,
        failed_at    timestamptz,
        error_kind   text,
        last_error   text,
        PRIMARY KEY (platform, kind, item_id)
    )
    """)
    op.execute("CREATE INDEX watch_item_state_task_idx ON watch_item_state (task_id) "
               "WHERE task_id IS NOT NULL")


def downgrade() -> None:
    op.execute("DROP TABLE watch_item_state")
