-- The refresh scheduler (core/scheduler) and the watchlists' freshness report.

-- name: watched_items
-- Every watched item once, across watchlists ($1: one watchlist's name, or NULL for all): its
-- highest importance and its shortest target age, with what the scheduler learnt of its
-- refreshes (watch_item_state: when one last completed, failures in a row, backoff).
SELECT i.platform, i.kind, i.item_id, max(i.importance) AS importance,
       min(i.max_age_s) AS max_age_s, s.refreshed_at AS recorded_at, s.failures, s.retry_at,
       s.failed_at, s.error_kind, s.last_error
  FROM watchlist_item i JOIN watchlist w ON w.id = i.watchlist_id
  LEFT JOIN watch_item_state s
    ON (s.platform, s.kind, s.item_id) = (i.platform, i.kind, i.item_id)
 WHERE $1::text IS NULL OR w.name = $1
 GROUP BY i.platform, i.kind, i.item_id, s.platform, s.kind, s.item_id;

-- name: track_tasks
-- The refresh task just enqueued (or shared) for each item: its outcome is read next tick.
INSERT INTO watch_item_state AS s (platform, kind, item_id, task_id)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[])
ON CONFLICT (platform, kind, item_id) DO UPDATE SET task_id = EXCLUDED.task_id;

-- name: forget_unwatched
-- What was learnt of items no watchlist holds any more (and no refresh of it is tracked).
DELETE FROM watch_item_state s
 WHERE s.task_id IS NULL
   AND NOT EXISTS (SELECT 1 FROM watchlist_item i
                    WHERE (i.platform, i.kind, i.item_id) = (s.platform, s.kind, s.item_id));

-- name: record_outcomes
-- The outcomes of the tracked tasks that are over ($1: the tick's time): COMPLETE records when
-- the item was refreshed (never later than the tick) and ends any backoff; FAILED or TIMEOUT
-- counts a failure and sets the next attempt $2 seconds x 2^(failures before) after the tick
-- ($5 times that for a permanent kind, one of $4), at most $3 seconds; EXPIRED, CANCELLED or a
-- task no longer stored says nothing of the item.
WITH over AS (
SELECT s.platform, s.kind, s.item_id, coalesce(t.status, 'GONE') AS status, t.error_kind,
       t.last_error, t.scraped_at,
       least($3::float8, $2::float8 * power(2, least(s.failures, 40))
             * CASE WHEN t.error_kind = ANY($4::text[]) THEN $5::float8 ELSE 1 END) AS wait_s
  FROM watch_item_state s LEFT JOIN scrape_request_log t ON t.id = s.task_id
 WHERE s.task_id IS NOT NULL AND (t.id IS NULL OR t.status NOT IN ('PENDING', 'PROCESSING'))
), failed AS (
SELECT *, status IN ('FAILED', 'TIMEOUT') AS failure FROM over
)
UPDATE watch_item_state s SET
       task_id = NULL,
       refreshed_at = CASE WHEN f.status = 'COMPLETE'
                           THEN least(coalesce(f.scraped_at, $1), $1) ELSE s.refreshed_at END,
       failures = CASE WHEN f.status = 'COMPLETE' THEN 0
                       WHEN f.failure THEN s.failures + 1 ELSE s.failures END,
       retry_at = CASE WHEN f.status = 'COMPLETE' THEN NULL
                       WHEN f.failure THEN $1 + make_interval(secs => f.wait_s)
                       ELSE s.retry_at END,
       failed_at = CASE WHEN f.status = 'COMPLETE' THEN NULL
                        WHEN f.failure THEN $1 ELSE s.failed_at END,
       error_kind = CASE WHEN f.status = 'COMPLETE' THEN NULL
                         WHEN f.failure THEN coalesce(f.error_kind, lower(f.status))
                         ELSE s.error_kind END,
       last_error = CASE WHEN f.status = 'COMPLETE' THEN NULL
                         WHEN f.failure THEN left(f.last_error, 500) ELSE s.last_error END
  FROM failed f
 WHERE (s.platform, s.kind, s.item_id) = (f.platform, f.kind, f.item_id)
RETURNING f.status;

-- name: active_keys
-- Which of these idempotency keys belong to a refresh queued or running now.
SELECT idempotency_key FROM scrape_request_log
 WHERE idempotency_key = ANY($1::text[]) AND status IN ('PENDING', 'PROCESSING');

-- name: active_by_flow
-- Refreshes of these flows queued or running now: what they will still spend.
SELECT flow, count(*) AS tasks FROM scrape_request_log
 WHERE flow = ANY($1::text[]) AND status IN ('PENDING', 'PROCESSING')
 GROUP BY flow;
