-- The leaderboard's daily rollups (migration 0022), brought up to date by the maintenance
-- leader before each refresh: every UTC day from the one holding $1 on is read again whole
-- from the snapshots (the BRIN indexes on their times find those pages), so a day's row is its
-- last snapshot whichever pass first saw it.

-- name: roll_profiles
-- Per profile and day from $1: its last snapshot carrying the platform's audience metric.
INSERT INTO profile_daily AS d (platform, profile_id, day, followers, handle, category, language)
SELECT DISTINCT ON (l.platform, l.profile_id, (l.timestamp AT TIME ZONE 'UTC')::date)
       l.platform, l.profile_id, (l.timestamp AT TIME ZONE 'UTC')::date,
       (l.metrics ->> m.followers_metric)::float8, l.dimensions ->> 'handle',
       nullif(l.dimensions ->> 'category', ''), nullif(l.dimensions ->> 'language', '')
  FROM profile_log l JOIN leaderboard_platform m USING (platform)
 WHERE l.timestamp >= $1::date AT TIME ZONE 'UTC' AND l.metrics ? m.followers_metric
   AND jsonb_typeof(l.metrics -> m.followers_metric) = 'number'
 ORDER BY l.platform, l.profile_id, (l.timestamp AT TIME ZONE 'UTC')::date, l.timestamp DESC,
          l.id DESC
    ON CONFLICT (platform, profile_id, day) DO UPDATE
   SET followers = EXCLUDED.followers, handle = EXCLUDED.handle,
       category = EXCLUDED.category, language = EXCLUDED.language
 WHERE (d.followers, d.handle, d.category, d.language)
       IS DISTINCT FROM (EXCLUDED.followers, EXCLUDED.handle, EXCLUDED.category,
                         EXCLUDED.language)

-- name: roll_posts
-- Per post and day from $1: its last snapshot with likes or comments, as their sum.
INSERT INTO post_daily AS d (platform, post_id, day, profile_id, interactions)
SELECT DISTINCT ON (platform, post_id, (timestamp AT TIME ZONE 'UTC')::date)
       platform, post_id, (timestamp AT TIME ZONE 'UTC')::date, profile_id,
       coalesce((metrics ->> 'likes')::float8, 0) + coalesce((metrics ->> 'comments')::float8, 0)
  FROM post_log
 WHERE timestamp >= $1::date AT TIME ZONE 'UTC' AND profile_id IS NOT NULL
   AND (metrics ? 'likes' OR metrics ? 'comments')
 ORDER BY platform, post_id, (timestamp AT TIME ZONE 'UTC')::date, timestamp DESC, id DESC
    ON CONFLICT (platform, post_id, day) DO UPDATE
   SET profile_id = EXCLUDED.profile_id, interactions = EXCLUDED.interactions
 WHERE (d.profile_id, d.interactions) IS DISTINCT FROM (EXCLUDED.profile_id,
                                                         EXCLUDED.interactions)

-- name: forget_profile_days
-- Days the view no longer reads (it looks 60 days back).
DELETE FROM profile_daily WHERE day < $1::date

-- name: forget_post_days
DELETE FROM post_daily WHERE day < $1::date
