"""Task queue, credentials and metric snapshot tables.

Revision ID: 0001
Revises:
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UPGRADE = [
    """
    CREATE TABLE scrape_request_log (
        id              bigserial PRIMARY KEY,
        idempotency_key text,
        platform        text,
        flow            text        NOT NULL,
        status          text        NOT NULL DEFAULT 'PENDING',
        params          jsonb       NOT NULL DEFAULT '{}'::jsonb,
        data            jsonb,
        priority        integer     NOT NULL DEFAULT 1,
        retry_count     integer     NOT NULL DEFAULT 0,
        account_id      text,
        created_at      timestamptz NOT NULL DEFAULT now(),
        picked_at       timestamptz,
        scraped_at      timestamptz,
        expires_at      timestamptz,
        run_after       timestamptz NOT NULL DEFAULT now(),
        lease_until     timestamptz,
        worker_id       text,
        max_attempts    integer     NOT NULL DEFAULT 3,
        last_error      text,
        CONSTRAINT scrape_request_log_status_check CHECK (status IN
            ('PENDING', 'PROCESSING', 'COMPLETE', 'FAILED', 'TIMEOUT', 'EXPIRED', 'CANCELLED'))
    ) WITH (fillfactor = 90, autovacuum_vacuum_scale_factor = 0.02,
            autovacuum_analyze_scale_factor = 0.02, autovacuum_vacuum_cost_delay = 0)
    """,
    # The claim reads only this index: pending rows of one flow in priority order.
    """
    CREATE INDEX scrape_request_log_pending_idx
        ON scrape_request_log (flow, priority DESC, id) WHERE status = 'PENDING'
    """,
    # The reaper reads only this one: leases of running rows.
    """
    CREATE INDEX scrape_request_log_lease_idx
        ON scrape_request_log (lease_until) WHERE status = 'PROCESSING'
    """,
    # Maintenance expires pending tasks whose expires_at passed through this one.
    """
    CREATE INDEX scrape_request_log_expiry_idx
        ON scrape_request_log (expires_at) WHERE status = 'PENDING' AND expires_at IS NOT NULL
    """,
    """
    CREATE UNIQUE INDEX scrape_request_log_active_key_idx
        ON scrape_request_log (idempotency_key)
        WHERE status IN ('PENDING', 'PROCESSING') AND idempotency_key IS NOT NULL
    """,
    """
    CREATE INDEX scrape_request_log_account_idx
        ON scrape_request_log (account_id, id DESC) WHERE account_id IS NOT NULL
    """,
    """
    CREATE VIEW queue_stats AS
    SELECT flow,
           count(*) FILTER (WHERE status = 'PENDING')    AS pending,
           count(*) FILTER (WHERE status = 'PROCESSING') AS processing,
           count(*) FILTER (WHERE status IN ('FAILED', 'TIMEOUT')
                            AND scraped_at > now() - interval '1 hour') AS failed_last_hour,
           coalesce(extract(epoch FROM now() - min(created_at) FILTER (WHERE status = 'PENDING')),
                    0)::double precision AS oldest_pending_age_s,
           count(*) FILTER (WHERE status = 'COMPLETE'
                            AND scraped_at > now() - interval '1 minute') AS completed_per_minute
      FROM scrape_request_log
     WHERE status IN ('PENDING', 'PROCESSING') OR scraped_at > now() - interval '1 hour'
     GROUP BY flow
    """,
    """
    CREATE TABLE credential (
        id                  bigserial PRIMARY KEY,
        idempotency_key     text UNIQUE,
        source              text        NOT NULL,
        credentials         jsonb       NOT NULL DEFAULT '{}'::jsonb,
        handle              text,
        enabled             boolean     NOT NULL DEFAULT true,
        data_access_expired boolean     NOT NULL DEFAULT false,
        disabled_till       timestamptz,
        created_at          timestamptz NOT NULL DEFAULT now(),
        updated_at          timestamptz
    )
    """,
    "CREATE INDEX credential_source_idx ON credential (source) WHERE enabled",
    """
    CREATE TABLE profile_log (
        id          bigserial PRIMARY KEY,
        platform    text        NOT NULL,
        profile_id  text        NOT NULL,
        dimensions  jsonb       NOT NULL DEFAULT '{}'::jsonb,
        metrics     jsonb       NOT NULL DEFAULT '{}'::jsonb,
        source      text,
        timestamp   timestamptz NOT NULL DEFAULT now()
    )
    """,
    "CREATE INDEX profile_log_profile_idx ON profile_log (platform, profile_id, timestamp)",
    """
    CREATE TABLE post_log (
        id          bigserial PRIMARY KEY,
        platform    text        NOT NULL,
        post_id     text        NOT NULL,
        profile_id  text,
        dimensions  jsonb       NOT NULL DEFAULT '{}'::jsonb,
        metrics     jsonb       NOT NULL DEFAULT '{}'::jsonb,
        source      text,
        timestamp   timestamptz NOT NULL DEFAULT now()
    )
    """,
    "CREATE INDEX post_log_post_idx ON post_log (platform, post_id, timestamp)",
]

DOWNGRADE = [
    "DROP TABLE post_log",
    "DROP TABLE profile_log",
    "DROP TABLE credential",
    "DROP VIEW queue_stats",
    "DROP TABLE scrape_request_log",
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
