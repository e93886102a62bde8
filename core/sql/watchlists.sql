-- Watchlists and their items (core/watchlists).

-- name: upsert_watchlist
-- (name, description): created, or its description changed when one is given.
INSERT INTO watchlist AS w (name, description) VALUES ($1, $2)
ON CONFLICT (name) DO UPDATE SET description = coalesce(EXCLUDED.description, w.description)
RETURNING w.*, (w.xmax = 0) AS created;

-- name: watchlist_by_name
SELECT w.*, (SELECT count(*) FROM watchlist_item i WHERE i.watchlist_id = w.id) AS items
  FROM watchlist w WHERE w.name = $1;

-- name: watchlists
SELECT w.*, (SELECT count(*) FROM watchlist_item i WHERE i.watchlist_id = w.id) AS items
  FROM watchlist w ORDER BY w.name;

-- name: items_by_platform
SELECT platform, count(*) AS items FROM watchlist_item WHERE watchlist_id = $1
 GROUP BY platform ORDER BY platform;

-- name: delete_watchlist
DELETE FROM watchlist WHERE name = $1 RETURNING id;

-- name: upsert_items
-- Items of one watchlist ($1) by (platform, kind, id): new ones added, known ones given the new
-- importance and max age. Returns how many were new.
WITH up AS (
INSERT INTO watchlist_item AS i (watchlist_id, platform, kind, item_id, importance, max_age_s)
SELECT $1, u.platform, u.kind, u.item_id, u.importance, u.max_age_s
  FROM unnest($2::text[], $3::text[], $4::text[], $5::float8[], $6::int[])
       AS u(platform, kind, item_id, importance, max_age_s)
ON CONFLICT (watchlist_id, platform, kind, item_id) DO UPDATE SET
       importance = EXCLUDED.importance, max_age_s = EXCLUDED.max_age_s
RETURNING (i.xmax = 0) AS created
)
SELECT count(*) FILTER (WHERE created) AS added, count(*) FILTER (WHERE NOT created) AS updated
  FROM up;

-- name: delete_items
DELETE FROM watchlist_item i
 USING unnest($2::text[], $3::text[], $4::text[]) AS u(platform, kind, item_id)
 WHERE i.watchlist_id = $1 AND (i.platform, i.kind, i.item_id) = (u.platform, u.kind, u.item_id)
RETURNING i.item_id;

-- name: items_page
-- One page in (platform, kind, item_id) order after the cursor's item ($2-$4, NULLs: from the
-- start).
-- With what the scheduler learnt of its refreshes (watch_item_state): failures in a row, the
-- next attempt while backing off, the last error.
SELECT i.platform, i.kind, i.item_id, i.importance, i.max_age_s, i.added_at,
       coalesce(s.failures, 0) AS failures, s.retry_at, s.error_kind, s.last_error
  FROM watchlist_item i
  LEFT JOIN watch_item_state s
    ON (s.platform, s.kind, s.item_id) = (i.platform, i.kind, i.item_id)
 WHERE i.watchlist_id = $1
   AND ($2::text IS NULL OR (i.platform, i.kind, i.item_id) > ($2, $3, $4))
 ORDER BY i.platform, i.kind, i.item_id LIMIT $5;
