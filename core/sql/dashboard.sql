-- The dashboard's reads: each a named block, loaded once by core/api/dashboard/data.py.
-- "Failed" means FAILED or TIMEOUT, as in the queue_stats view. Times are the last attempt's:
-- picked_at (its claim) to scraped_at (its end).

-- name: flow_minutes
-- Per flow and minute of the last hour (0 = the current minute): tasks completed and failed.
SELECT flow,
       least(59, floor(extract(epoch FROM now() - scraped_at) / 60))::int AS minutes_ago,
       count(*) FILTER (WHERE status = 'COMPLETE') AS completed,
       count(*) FILTER (WHERE status IN ('FAILED', 'TIMEOUT')) AS failed
  FROM scrape_request_log
 WHERE scraped_at > now() - interval '1 hour'
 GROUP BY 1, 2;

-- name: flow_timings
-- Execution time percentiles of the tasks completed in the last hour, per flow (seconds).
SELECT flow, count(*) AS runs,
       percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (
           ORDER BY extract(epoch FROM scraped_at - picked_at)) AS seconds
  FROM scrape_request_log
 WHERE status = 'COMPLETE' AND scraped_at > now() - interval '1 hour' AND picked_at IS NOT NULL
 GROUP BY flow
 ORDER BY flow;

-- name: recent_failures
-- The newest failed tasks ($1: of this flow, or every flow), at most $2.
SELECT id, flow, status, error_kind, last_error, retry_count, max_attempts, scraped_at
  FROM scrape_request_log
 WHERE status IN ('FAILED', 'TIMEOUT') AND ($1::text IS NULL OR flow = $1)
 ORDER BY scraped_at DESC NULLS LAST, id DESC
 LIMIT $2;

-- name: failed_count
SELECT count(*) FROM scrape_request_log
 WHERE status IN ('FAILED', 'TIMEOUT') AND ($1::text IS NULL OR flow = $1);

-- name: slowest_completed
-- The longest runs among the tasks completed in the last hour ($1: of this flow), at most $2.
SELECT id, flow, status, extract(epoch FROM scraped_at - picked_at)::double precision AS seconds,
       scraped_at
  FROM scrape_request_log
 WHERE status = 'COMPLETE' AND scraped_at > now() - interval '1 hour' AND picked_at IS NOT NULL
   AND ($1::text IS NULL OR flow = $1)
 ORDER BY scraped_at - picked_at DESC
 LIMIT $2;

-- name: longest_running
-- The tasks running the longest now ($1: of this flow), at most $2.
SELECT id, flow, status, worker_id,
       extract(epoch FROM now() - picked_at)::double precision AS seconds, progress
  FROM scrape_request_log
 WHERE status = 'PROCESSING' AND ($1::text IS NULL OR flow = $1)
 ORDER BY picked_at
 LIMIT $2;

-- name: workers
-- Worker processes that hold tasks now (a worker without a task leaves no trace in the table).
SELECT worker_id, count(*) AS running, array_agg(DISTINCT flow ORDER BY flow) AS flows,
       extract(epoch FROM now() - min(picked_at))::double precision AS oldest_s,
       extract(epoch FROM max(lease_until) - now())::double precision AS lease_left_s
  FROM scrape_request_log
 WHERE status = 'PROCESSING'
 GROUP BY worker_id
 ORDER BY worker_id;
