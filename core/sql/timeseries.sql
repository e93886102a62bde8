-- Time series and growth of one profile's metric, read from its snapshots (profile_log). The
-- (platform, profile_id, timestamp) index and the monthly partitions keep each read to the
-- snapshots it needs.

-- name: buckets
-- Every bucket from the one holding $4 (from) to the one before $5 (to), $3 wide, aligned on
-- Monday 2001-01-01 00:00 UTC; its value is the last snapshot inside it, NULL without one.
WITH bins AS (
    SELECT b AS bucket
      FROM generate_series(date_bin($3::interval, $4::timestamptz, '2001-01-01 00:00+00'),
                           $5::timestamptz - interval '1 microsecond', $3::interval) AS b
), last AS (
    SELECT DISTINCT ON (bucket) bucket, value, count(*) OVER (PARTITION BY bucket) AS snapshots
      FROM (SELECT date_bin($3::interval, timestamp, '2001-01-01 00:00+00') AS bucket,
                   (metrics ->> $6)::float8 AS value, timestamp
              FROM profile_log
             WHERE platform = $1 AND profile_id = $2 AND metrics ? $6
               AND timestamp >= date_bin($3::interval, $4::timestamptz, '2001-01-01 00:00+00')
               AND timestamp < $5) AS points
     ORDER BY bucket, timestamp DESC
)
SELECT bins.bucket, last.value, coalesce(last.snapshots, 0) AS snapshots
  FROM bins LEFT JOIN last USING (bucket)
 ORDER BY bins.bucket;

-- name: value_at
-- The metric ($3) in the profile's last snapshot at or before $4, and when it was taken.
SELECT (metrics ->> $3)::float8 AS value, timestamp
  FROM profile_log
 WHERE platform = $1 AND profile_id = $2 AND metrics ? $3 AND timestamp <= $4
 ORDER BY timestamp DESC
 LIMIT 1;

-- name: has_snapshots
SELECT EXISTS (SELECT 1 FROM profile_log WHERE platform = $1 AND profile_id = $2);
