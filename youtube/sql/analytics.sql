-- What channel owners' YouTube Analytics reports say. A period's breakdown is replaced as a
-- whole (rows the new report leaves out are gone); daily figures are upserted by day.

-- name: upsert_daily
INSERT INTO youtube_channel_daily AS d
       (channel_id, day, views, estimated_minutes_watched, average_view_duration_s,
        subscribers_gained, subscribers_lost, likes, comments, shares, source)
SELECT $1, u.day, u.views, u.minutes, u.duration, u.gained, u.lost, u.likes, u.comments,
       u.shares, $11
  FROM unnest($2::date[], $3::bigint[], $4::bigint[], $5::int[], $6::bigint[], $7::bigint[],
              $8::bigint[], $9::bigint[], $10::bigint[])
       AS u(day, views, minutes, duration, gained, lost, likes, comments, shares)
ON CONFLICT (channel_id, day) DO UPDATE SET
       views = EXCLUDED.views, estimated_minutes_watched = EXCLUDED.estimated_minutes_watched,
       average_view_duration_s = EXCLUDED.average_view_duration_s,
       subscribers_gained = EXCLUDED.subscribers_gained,
       subscribers_lost = EXCLUDED.subscribers_lost, likes = EXCLUDED.likes,
       comments = EXCLUDED.comments, shares = EXCLUDED.shares, source = EXCLUDED.source,
       refreshed_at = now();

-- name: clear_audience
DELETE FROM youtube_channel_audience WHERE channel_id = $1 AND start_date = $2 AND end_date = $3;

-- name: insert_audience
INSERT INTO youtube_channel_audience
       (channel_id, start_date, end_date, age_group, gender, viewer_percentage, source)
SELECT $1, $2, $3, u.age_group, u.gender, u.share, $7
  FROM unnest($4::text[], $5::text[], $6::float8[]) AS u(age_group, gender, share);

-- name: clear_countries
DELETE FROM youtube_channel_country WHERE channel_id = $1 AND start_date = $2 AND end_date = $3;

-- name: insert_countries
INSERT INTO youtube_channel_country
       (channel_id, start_date, end_date, country, views, estimated_minutes_watched,
        viewer_percentage, source)
SELECT $1, $2, $3, u.country, u.views, u.minutes, u.share, $8
  FROM unnest($4::text[], $5::bigint[], $6::bigint[], $7::float8[])
       AS u(country, views, minutes, share);

-- name: daily_of_channel
SELECT * FROM youtube_channel_daily WHERE channel_id = $1 AND day BETWEEN $2 AND $3 ORDER BY day;

-- name: save_insights
-- Public averages and owner figures together; $12 says which source gave each figure.
UPDATE youtube_account
   SET avg_views = $2, avg_likes = $3, avg_comments = $4, engagement_rate = $5,
       uploads_per_week = $6, insights_videos = $7, views_28d = $8, watch_minutes_28d = $9,
       avg_view_duration_s = $10, subscribers_net_28d = $11, insights_sources = $12::jsonb,
       updated_at = now()
 WHERE channel_id = $1
RETURNING *;
