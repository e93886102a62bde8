-- The refresh scheduler (core/scheduler) and the watchlists' freshness report.

-- name: watched_items
-- Every watched item once, across watchlists ($1: one watchlist's name, or NULL for all): its
-- highest importance and its shortest target age.
SELECT i.platform, i.kind, i.item_id, max(i.importance) AS importance,
       min(i.max_age_s) AS max_age_s
  FROM watchlist_item i JOIN watchlist w ON w.id = i.watchlist_id
 WHERE $1::text IS NULL OR w.name = $1
 GROUP BY i.platform, i.kind, i.item_id;

-- name: active_keys
-- Which of these idempotency keys belong to a refresh queued or running now.
SELECT idempotency_key FROM scrape_request_log
 WHERE idempotency_key = ANY($1::text[]) AND status IN ('PENDING', 'PROCESSING');

-- name: active_by_flow
-- Refreshes of these flows queued or running now: what they will still spend.
SELECT flow, count(*) AS tasks FROM scrape_request_log
 WHERE flow = ANY($1::text[]) AND status IN ('PENDING', 'PROCESSING')
 GROUP BY flow;
