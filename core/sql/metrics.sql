-- Queries read at scrape time by the /metrics endpoint (core/metrics_db.py). Each reads only what
-- a partial index or a small table holds: active tasks, unsent events, the credentials.

-- name: active_tasks
-- Pending and running tasks per flow, and the age of the oldest pending one (both statuses have
-- a partial index: the scan costs as much as the backlog, never the table's history).
SELECT flow, status, count(*) AS tasks,
       coalesce(extract(epoch FROM now() - min(created_at)), 0)::double precision AS oldest_age_s
  FROM scrape_request_log
 WHERE status IN ('PENDING', 'PROCESSING')
 GROUP BY flow, status;

-- name: outbox_backlog
-- Unsent and parked events, and the age of the oldest of each (PENDING's is the relay's lag).
SELECT status, count(*) AS events,
       coalesce(extract(epoch FROM now() - min(occurred_at)), 0)::double precision AS oldest_age_s
  FROM event_outbox
 WHERE status IN ('PENDING', 'PARKED')
 GROUP BY status;

-- name: credential_states
-- Credentials per source and state: disabled, expired (data access), resting (disabled_till in
-- the future) or usable.
SELECT source,
       CASE WHEN NOT enabled THEN 'disabled'
            WHEN data_access_expired THEN 'expired'
            WHEN disabled_till > now() THEN 'resting'
            ELSE 'usable' END AS state,
       count(*) AS credentials
  FROM credential
 GROUP BY 1, 2;
