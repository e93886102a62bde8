"""Leaderboards: one materialized view over the snapshots (profile_log, post_log) with, per
profile seen in the last 60 days, its followers, its growth over the last 7 days, its
engagement rate (likes + comments per post snapshotted in the last 7 days, over followers, in
percent), category and language from its latest snapshot's dimensions (null where the platform
does not say), and its rank by each of them, per platform and across platforms, alone and
within its category, language or both; the same ranks for the 7 days before give the rank
change. `leaderboard_platform` says which metric is each platform's audience (written from the
platform registry before each refresh: core names no platform). The maintenance leader
refreshes the view CONCURRENTLY (core/analytics/leaderboards.py), so reads never wait. The view
is created WITH NO DATA (nothing computed while migrating a big database): the first refresh
fills it.

Revision ID: 0020
Revises: 0019
"""

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

MEASURES = ("followers", "engagement_rate", "growth")
# Rank scopes: per platform (p) or across platforms (a), alone or within category (c),
# language (l) or both.
SCOPES = {"p": ["platform"], "pc": ["platform", "category"], "pl": ["platform", "language"],
          "pcl": ["platform", "category", "language"], "a": [], "ac": ["category"],
          "al": ["language"], "acl": ["category", "language"]}


def _rank(value: str, scope: list[str]) -> str:
    partition = ", ".join([*scope, f"({value} IS NULL)"])
    return (f"CASE WHEN {value} IS NOT NULL THEN rank() OVER (PARTITION BY {partition}"
            f" ORDER BY {value} DESC) END")


def _ranks() -> str:
    columns = []
    for measure in MEASURES:
        for scope, keys in SCOPES.items():
            columns.append(f"{_rank(measure, keys)} AS {measure}_rank_{scope}")
            columns.append(f"{_rank(measure + '_before', keys)} AS {measure}_before_rank_{scope}")
    return ",\n           ".join(columns)


VIEW = f"""
CREATE MATERIALIZED VIEW leaderboard AS
WITH snapshots AS (
    SELECT l.platform, l.profile_id, l.timestamp, l.dimensions,
           (l.metrics ->> m.followers_metric)::float8 AS followers
      FROM profile_log l JOIN leaderboard_platform m USING (platform)
     WHERE l.timestamp > now() - interval '60 days' AND l.metrics ? m.followers_metric
), profiles AS (
    SELECT platform, profile_id,
           (array_agg(dimensions ORDER BY timestamp DESC))[1] AS dimensions,
           (array_agg(followers ORDER BY timestamp DESC))[1] AS followers,
           (array_agg(followers ORDER BY timestamp DESC)
               FILTER (WHERE timestamp <= now() - interval '7 days'))[1] AS followers_before,
           (array_agg(followers ORDER BY timestamp DESC)
               FILTER (WHERE timestamp <= now() - interval '14 days'))[1] AS followers_earlier
      FROM snapshots GROUP BY platform, profile_id
), posts AS (
    SELECT DISTINCT ON (platform, post_id, timestamp > now() - interval '7 days')
           platform, profile_id, timestamp > now() - interval '7 days' AS recent,
           (metrics ->> 'likes')::float8 AS likes, (metrics ->> 'comments')::float8 AS comments
      FROM post_log
     WHERE timestamp > now() - interval '14 days' AND profile_id IS NOT NULL
       AND (metrics ? 'likes' OR metrics ? 'comments')
     ORDER BY platform, post_id, timestamp > now() - interval '7 days', timestamp DESC
), engagement AS (
    SELECT platform, profile_id,
           avg(coalesce(likes, 0) + coalesce(comments, 0)) FILTER (WHERE recent) AS recent,
           avg(coalesce(likes, 0) + coalesce(comments, 0)) FILTER (WHERE NOT recent) AS before
      FROM posts GROUP BY platform, profile_id
), measures AS (
    SELECT p.platform, p.profile_id, p.dimensions ->> 'handle' AS handle,
           nullif(p.dimensions ->> 'category', '') AS category,
           nullif(p.dimensions ->> 'language', '') AS language,
           p.followers, p.followers_before,
           round((100 * e.recent / nullif(p.followers, 0))::numeric, 4)::float8
               AS engagement_rate,
           round((100 * e.before / nullif(p.followers_before, 0))::numeric, 4)::float8
               AS engagement_rate_before,
           p.followers - p.followers_before AS growth,
           p.followers_before - p.followers_earlier AS growth_before
      FROM profiles p LEFT JOIN engagement e USING (platform, profile_id)
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
    CREATE TABLE leaderboard_platform (
        platform          text PRIMARY KEY,
        followers_metric  text NOT NULL
    )
    """,
    # When the view was last computed: a table beside it, so that a refresh rewrites only the
    # rows whose figures or ranks changed (a column of the view would change every row).
    "CREATE TABLE leaderboard_refreshed (refreshed_at timestamptz NOT NULL)",
    VIEW,
    *_indexes(),
]

DOWNGRADE = ["DROP MATERIALIZED VIEW leaderboard", "DROP TABLE leaderboard_refreshed",
             "DROP TABLE leaderboard_platform"]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
