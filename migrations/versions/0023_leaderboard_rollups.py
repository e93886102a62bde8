"""Leaderboards from daily rollups: `profile_daily` (per profile per UTC day, its last
snapshot's audience and labels) and `post_daily` (per post per day, its last snapshot's likes +
comments) are kept by the maintenance leader from profile_log and post_log, re-reading only the
days since its previous pass (`leaderboard_rollup`; BRIN indexes on the snapshot times find
them), so the view reads narrow daily rows instead of every raw snapshot. `leaderboard_label`
holds what other packages know of a profile's category and language (the GPT enrichment's
answers), copied before each refresh; the view takes them where the platform's own snapshots
say nothing.

The view's periods are UTC days: "now" is each profile's latest snapshot, "7 days before" its
last snapshot on a day at least 7 days before today (14 for the week before that); engagement
reads each post's last snapshot of the last 7 days (today included) and of the 7 before.

The view is created WITH NO DATA: nothing is computed while migrating; the maintenance
leader's first refresh fills it (the API answers 503 until then).

Revision ID: 0023
Revises: 0022
"""

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

MEASURES = ("followers", "engagement_rate", "growth")
# Rank scopes: per platform (p) or across platforms (a), alone or within category (c),
# language (l) or both.
SCOPES = {"p": ["platform"], "pc": ["platform", "category"], "pl": ["platform", "language"],
          "pcl": ["platform", "category", "language"], "a": [], "ac": ["category"],
          "al": ["language"], "acl": ["category", "language"]}


def _rank(value: str, scope: list[str]) -> str:
    """Nulls last: a profile without the figure is ranked after every one with it, so theirs
    are the ranks among those with it (one sort key fewer than a partition of the nulls)."""
    partition = f"PARTITION BY {', '.join(scope)} " if scope else ""
    return (f"CASE WHEN {value} IS NOT NULL THEN rank() OVER ({partition}"
            f"ORDER BY {value} DESC NULLS LAST) END")


def _ranks() -> str:
    columns = []
    for measure in MEASURES:
        for scope, keys in SCOPES.items():
            columns.append(f"{_rank(measure, keys)} AS {measure}_rank_{scope}")
            columns.append(f"{_rank(measure + '_before', keys)} AS {measure}_before_rank_{scope}")
    return ",\n           ".join(columns)


# Days as numbers, so that max(ARRAY[day, value]) is the value of the latest day (no sort).
DAY = "(day - DATE '2000-01-01')::float8"
TODAY = "(now() AT TIME ZONE 'UTC')::date"

VIEW = f"""
CREATE MATERIALIZED VIEW leaderboard AS
WITH profiles AS (
    SELECT platform, profile_id,
           max(ARRAY[{DAY}, followers]) AS latest,
           max(ARRAY[{DAY}, followers]) FILTER (WHERE day <= {TODAY} - 7) AS before,
           max(ARRAY[{DAY}, followers]) FILTER (WHERE day <= {TODAY} - 14) AS earlier,
           max(ARRAY[day::text, handle]) AS handle,
           max(ARRAY[day::text, category]) AS category,
           max(ARRAY[day::text, language]) AS language
      FROM profile_daily
     WHERE day > {TODAY} - 60
     GROUP BY platform, profile_id
), posts AS (
    SELECT platform, profile_id, day > {TODAY} - 7 AS recent,
           (max(ARRAY[{DAY}, interactions]))[2] AS interactions
      FROM post_daily
     WHERE day > {TODAY} - 14
     GROUP BY platform, post_id, profile_id, day > {TODAY} - 7
), engagement AS (
    SELECT platform, profile_id,
           avg(interactions) FILTER (WHERE recent) AS recent,
           avg(interactions) FILTER (WHERE NOT recent) AS before
      FROM posts GROUP BY platform, profile_id
), measures AS MATERIALIZED (
    SELECT p.platform, p.profile_id, p.handle[2] AS handle,
           coalesce(p.category[2], l.category) AS category,
           coalesce(p.language[2], l.language) AS language,
           p.latest[2] AS followers, p.before[2] AS followers_before,
           round((100 * e.recent / nullif(p.latest[2], 0))::numeric, 4)::float8
               AS engagement_rate,
           round((100 * e.before / nullif(p.before[2], 0))::numeric, 4)::float8
               AS engagement_rate_before,
           p.latest[2] - p.before[2] AS growth,
           p.before[2] - p.earlier[2] AS growth_before
      FROM profiles p
      LEFT JOIN engagement e USING (platform, profile_id)
      LEFT JOIN leaderboard_label l USING (platform, profile_id)
)
SELECT measures.*,
           {_ranks()}
  FROM measures
WITH NO DATA
"""


def _indexes() -> list[str]:
    """The unique index a concurrent refresh needs, and one per rank a page is read by (in
    rank order, ties by platform and profile id)."""
    found = ["CREATE UNIQUE INDEX leaderboard_profile_idx ON leaderboard (platform, profile_id)"]
    for measure in MEASURES:
        for scope, keys in SCOPES.items():
            tail = ["profile_id"] if "platform" in keys else ["platform", "profile_id"]
            columns = ", ".join([*keys, f"{measure}_rank_{scope}", *tail])
            found.append(f"CREATE INDEX leaderboard_{measure}_{scope}_idx ON leaderboard"
                         f" ({columns})")
    return found


UPGRADE = [
    """
    CREATE TABLE profile_daily (
        platform    text        NOT NULL,
        profile_id  text        NOT NULL,
        day         date        NOT NULL,
        followers   float8      NOT NULL,
        handle      text,
        category    text,
        language    text,
        PRIMARY KEY (platform, profile_id, day)
    )
    """,
    "CREATE INDEX profile_daily_day_idx ON profile_daily (day)",
    """
    CREATE TABLE post_daily (
        platform      text      NOT NULL,
        post_id       text      NOT NULL,
        day           date      NOT NULL,
        profile_id    text      NOT NULL,
        interactions  float8    NOT NULL,
        PRIMARY KEY (platform, post_id, day)
    )
    """,
    "CREATE INDEX post_daily_day_idx ON post_daily (day)",
    # The snapshot time the rollups were last brought up to (one row; none: never).
    "CREATE TABLE leaderboard_rollup (rolled_until timestamptz NOT NULL)",
    """
    CREATE TABLE leaderboard_label (
        platform    text        NOT NULL,
        profile_id  text        NOT NULL,
        source      text        NOT NULL,
        category    text,
        language    text,
        PRIMARY KEY (platform, profile_id)
    )
    """,
    # Snapshots are appended in time order: a BRIN index finds the last days' pages.
    "CREATE INDEX profile_log_time_brin ON profile_log USING brin (timestamp)",
    "CREATE INDEX post_log_time_brin ON post_log USING brin (timestamp)",
    "DROP MATERIALIZED VIEW leaderboard",
    "DELETE FROM leaderboard_refreshed",
    VIEW,
    *_indexes(),
]

DOWNGRADE = ["DROP MATERIALIZED VIEW leaderboard", "DROP INDEX post_log_time_brin",
             "DROP INDEX profile_log_time_brin", "DROP TABLE leaderboard_label",
             "DROP TABLE leaderboard_rollup", "DROP TABLE post_daily",
             "DROP TABLE profile_daily"]


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
    # 0020's view, computed again (its indexes with it).
    import importlib.util
    from pathlib import Path
    spec = importlib.util.spec_from_file_location(
        "leaderboards_0020", Path(__file__).with_name("0020_leaderboards.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for statement in [module.VIEW, *module._indexes()]:
        op.execute(statement)


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)
