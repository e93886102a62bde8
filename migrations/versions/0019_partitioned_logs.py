"""profile_log and post_log become range-partitioned by month on `timestamp`, so that a time
series reads only the months it spans and retention drops a month at once instead of deleting
rows. The migration creates the partitioned tables with a DEFAULT partition only and moves the
rows there; queue maintenance (core/partitions.py) then creates the monthly partitions, moving
each month's rows out of the DEFAULT one, and keeps the next months ready ahead of time. The
primary keys become (id, timestamp): a partitioned table's keys must hold its partition key.

Revision ID: 0019
Revises: 0018
"""

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

COLUMNS = {
    "profile_log": "id, platform, profile_id, dimensions, metrics, source, timestamp",
    "post_log": "id, platform, post_id, profile_id, dimensions, metrics, source, timestamp",
}
DEFINITIONS = {
    "profile_log": """
        id          bigserial   NOT NULL,
        platform    text        NOT NULL,
        profile_id  text        NOT NULL,
        dimensions  jsonb       NOT NULL DEFAULT '{}'::jsonb,
        metrics     jsonb       NOT NULL DEFAULT '{}'::jsonb,
        source      text,
        timestamp   timestamptz NOT NULL DEFAULT now()""",
    "post_log": """
        id          bigserial   NOT NULL,
        platform    text        NOT NULL,
        post_id     text        NOT NULL,
        profile_id  text,
        dimensions  jsonb       NOT NULL DEFAULT '{}'::jsonb,
        metrics     jsonb       NOT NULL DEFAULT '{}'::jsonb,
        source      text,
        timestamp   timestamptz NOT NULL DEFAULT now()""",
}
INDEXES = {
    "profile_log": "profile_log_profile_idx ON {table} (platform, profile_id, timestamp)",
    "post_log": "post_log_post_idx ON {table} (platform, post_id, timestamp)",
}


def _set_aside(table: str) -> list[str]:
    """Rename the table, its sequence and its indexes out of the way of the new ones."""
    index = INDEXES[table].split(" ")[0]
    return [f"ALTER TABLE {table} RENAME TO {table}_moving",
            f"ALTER SEQUENCE {table}_id_seq RENAME TO {table}_moving_id_seq",
            f"ALTER INDEX {table}_pkey RENAME TO {table}_moving_pkey",
            f"ALTER INDEX {index} RENAME TO {index}_moving"]


def _move_rows(table: str) -> list[str]:
    columns = COLUMNS[table]
    return [f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {table}_moving",
            (f"SELECT setval('{table}_id_seq', coalesce((SELECT max(id) FROM {table}), 0) + 1,"
             " false)"),
            f"DROP TABLE {table}_moving"]


def _partitioned(table: str) -> list[str]:
    return [*_set_aside(table),
            (f"CREATE TABLE {table} ({DEFINITIONS[table]},\n"
             f"        PRIMARY KEY (id, timestamp)\n    ) PARTITION BY RANGE (timestamp)"),
            f"CREATE TABLE {table}_default PARTITION OF {table} DEFAULT",
            "CREATE INDEX " + INDEXES[table].format(table=table),
            *_move_rows(table)]


def _plain(table: str) -> list[str]:
    return [*_set_aside(table),
            f"CREATE TABLE {table} ({DEFINITIONS[table]},\n        PRIMARY KEY (id)\n    )",
            "CREATE INDEX " + INDEXES[table].format(table=table),
            *_move_rows(table)]


UPGRADE = [*_partitioned("profile_log"), *_partitioned("post_log")]
DOWNGRADE = [*_plain("post_log"), *_plain("profile_log")]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
