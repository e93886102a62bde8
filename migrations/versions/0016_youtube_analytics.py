"""YouTube Analytics: what channel owners' reports say, per channel — daily figures
(youtube_channel_daily), the audience by age group and gender and by country over a period
(youtube_channel_audience, youtube_channel_country) — and the owner-only figures of a channel's
insights on youtube_account, with `insights_sources` saying which source gave each figure.

Revision ID: 0016
Revises: 0015
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

UPGRADE = [
    """
    CREATE TABLE youtube_channel_daily (
        channel_id                  text        NOT NULL,
        day                         date        NOT NULL,
        views                       bigint,
        estimated_minutes_watched   bigint,
        average_view_duration_s     integer,
        subscribers_gained          bigint,
        subscribers_lost            bigint,
        likes                       bigint,
        comments                    bigint,
        shares                      bigint,
        source                      text        NOT NULL,
        refreshed_at                timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (channel_id, day)
    )
    """,
    """
    CREATE TABLE youtube_channel_audience (
        channel_id          text        NOT NULL,
        start_date          date        NOT NULL,
        end_date            date        NOT NULL,
        age_group           text        NOT NULL,
        gender              text        NOT NULL,
        viewer_percentage   double precision NOT NULL,
        source              text        NOT NULL,
        refreshed_at        timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (channel_id, start_date, end_date, age_group, gender)
    )
    """,
    """
    CREATE TABLE youtube_channel_country (
        channel_id                  text        NOT NULL,
        start_date                  date        NOT NULL,
        end_date                    date        NOT NULL,
        country                     text        NOT NULL,
        views                       bigint,
        estimated_minutes_watched   bigint,
        viewer_percentage           double precision,
        source                      text        NOT NULL,
        refreshed_at                timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (channel_id, start_date, end_date, country)
    )
    """,
    "ALTER TABLE youtube_account ADD COLUMN views_28d bigint",
    "ALTER TABLE youtube_account ADD COLUMN watch_minutes_28d bigint",
    "ALTER TABLE youtube_account ADD COLUMN avg_view_duration_s integer",
    "ALTER TABLE youtube_account ADD COLUMN subscribers_net_28d bigint",
    "ALTER TABLE youtube_account ADD COLUMN insights_sources jsonb NOT NULL DEFAULT '{}'::jsonb",
]
DOWNGRADE = [
    *(f"ALTER TABLE youtube_account DROP COLUMN {column}" for column in (
        "insights_sources", "subscribers_net_28d", "avg_view_duration_s", "watch_minutes_28d",
        "views_28d")),
    "DROP TABLE youtube_channel_country",
    "DROP TABLE youtube_channel_audience",
    "DROP TABLE youtube_channel_daily",
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
