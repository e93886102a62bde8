-- Every query of the task queue, one named block each; loaded once by core/queue.py.
-- Statuses: PENDING, PROCESSING, COMPLETE, FAILED, TIMEOUT, EXPIRED, CANCELLED.
-- error_kind says what last_error is (core/errors.py kinds, and timeout, lease_expired,
-- expired, cancelled, unexpected): callers test it, never the message. Every way a task
-- finishes writes its task.finished outbox row with beat_task_finished_changes (migration 0007).

-- name: enqueue
-- Insert one task unless an active task holds the same idempotency key; wakes workers of the flow.
INSERT INTO scrape_request_log
       (flow, platform, params, priority, idempotency_key, expires_at, account_id, max_attempts)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (idempotency_key)
   WHERE status IN ('PENDING', 'PROCESSING') AND idempotency_key IS NOT NULL DO NOTHING
RETURNING *, pg_notify('beat_queue', flow) IS NULL AS notified;

-- name: enqueue_many
-- Bulk insert from parallel arrays (params as JSON text); rows whose key is already active are
-- skipped. Rows come back in input order.
INSERT INTO scrape_request_log
       (flow, platform, params, priority, idempotency_key, expires_at, account_id, max_attempts)
SELECT flow, platform, params::jsonb, priority, idempotency_key, expires_at, account_id,
       max_attempts
  FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[], $6::timestamptz[],
              $7::text[], $8::int[]) WITH ORDINALITY
       AS u(flow, platform, params, priority, idempotency_key, expires_at, account_id,
            max_attempts, position)
 ORDER BY position
ON CONFLICT (idempotency_key)
   WHERE status IN ('PENDING', 'PROCESSING') AND idempotency_key IS NOT NULL DO NOTHING
RETURNING *;

-- name: notify_flows
SELECT pg_notify('beat_queue', flow) FROM unnest($1::text[]) AS flow;

-- name: get_active_by_keys
SELECT * FROM scrape_request_log
 WHERE idempotency_key = ANY($1::text[]) AND status IN ('PENDING', 'PROCESSING');

-- name: get_task
SELECT * FROM scrape_request_log WHERE id = $1;

-- name: get_tasks
SELECT * FROM scrape_request_log WHERE id = ANY($1::bigint[]);

-- name: list_by_account
-- Newest first; the cursor is the id of the last row of the previous page.
SELECT * FROM scrape_request_log
 WHERE account_id = $1 AND ($2::bigint IS NULL OR id < $2)
 ORDER BY id DESC
 LIMIT $3;

-- name: claim_batch
-- Claim up to $2 runnable tasks of flow $1 for worker $4 with a lease of $3 seconds. A task
-- whose expires_at has passed is never claimed: maintenance marks it EXPIRED. Every claim takes
-- a new lease_token (it only ever grows): ack, heartbeat and release name the claim by it.
WITH picked AS MATERIALIZED (
    SELECT id FROM scrape_request_log
     WHERE status = 'PENDING' AND flow = $1 AND run_after <= now()
       AND (expires_at IS NULL OR expires_at >= now())
     ORDER BY priority DESC, id
     LIMIT $2
       FOR UPDATE SKIP LOCKED
)
UPDATE scrape_request_log AS t
   SET status      = 'PROCESSING',
       picked_at   = now(),
       lease_until = now() + make_interval(secs => $3),
       worker_id   = $4,
       retry_count = t.retry_count + 1,
       lease_token = t.lease_token + 1,
       progress    = NULL  -- each attempt reports its own
  FROM picked
 WHERE t.id = picked.id
RETURNING t.id, t.params, t.retry_count, t.max_attempts, t.status, t.lease_token, t.checkpoint;

-- name: ack_batch
-- Record the outcome of finished attempts. A row is only touched while it is PROCESSING under
-- the very claim ($2: lease tokens) that ran the attempt, so a late ack after the reaper took
-- the task back, or after the task was requeued and claimed again, changes nothing.
-- worker_id is set only while a row is PROCESSING; matching on it (not on status) keeps the
-- planner on the primary key instead of the lease index, whose dead entries pile up under load.
-- A PENDING outcome is a retry: it runs again after `delay` seconds; `refund` gives the attempt back.
-- data, error and error_kind may be NULL instead of an array of NULLs: unnest pads them.
-- Answers how many acks were applied: the others were refused (their claim's lease is gone).
WITH acked AS (
UPDATE scrape_request_log AS t
   SET status      = u.status,
       data        = u.data::jsonb,
       last_error  = coalesce(u.error, t.last_error),
       error_kind  = coalesce(u.error_kind, t.error_kind),
       scraped_at  = CASE WHEN u.status = 'PENDING' THEN NULL ELSE now() END,
       run_after   = CASE WHEN u.status = 'PENDING'
                          THEN now() + make_interval(secs => u.delay) ELSE t.run_after END,
       retry_count = t.retry_count - u.refund,
       lease_until = NULL,
       worker_id   = NULL
  FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[],
              $7::float8[], $8::int[])
       AS u(id, lease_token, status, data, error, error_kind, delay, refund)
 WHERE t.id = u.id AND t.lease_token = u.lease_token AND t.worker_id = $9
RETURNING t.id, t.flow, t.platform, t.status, t.retry_count, t.account_id, t.last_error,
          t.error_kind
), event AS (
INSERT INTO event_outbox (type, changes)
SELECT 'task.finished', beat_task_finished_changes(
           array_agg(id), array_agg(flow), array_agg(platform), array_agg(status),
           array_agg(retry_count), array_agg(account_id), array_agg(last_error),
           array_agg(error_kind))
  FROM acked WHERE status <> 'PENDING'
HAVING count(*) > 0
)
SELECT count(*) FROM acked;

-- name: heartbeat
-- Extend the leases of the claims ($1 ids, $2 lease tokens) worker $3 still holds.
UPDATE scrape_request_log AS t
   SET lease_until = now() + make_interval(secs => $4)
  FROM unnest($1::bigint[], $2::bigint[]) AS h(id, lease_token)
 WHERE t.id = h.id AND t.lease_token = h.lease_token AND t.worker_id = $3
RETURNING t.id, t.lease_token;

-- name: release
-- Hand unfinished claims ($1 ids, $2 lease tokens) of worker $3 back on shutdown; the
-- interrupted attempt is not counted. lease_token stays: the next claim takes a new one.
UPDATE scrape_request_log AS t
   SET status = 'PENDING', retry_count = greatest(t.retry_count - 1, 0), run_after = now(),
       picked_at = NULL, lease_until = NULL, worker_id = NULL
  FROM unnest($1::bigint[], $2::bigint[]) AS r(id, lease_token)
 WHERE t.id = r.id AND t.lease_token = r.lease_token AND t.worker_id = $3
RETURNING t.id, pg_notify('beat_queue', t.flow) IS NULL AS notified;

-- name: release_orphans
-- Rows worker $1 holds under a claim it is not running or acking ($2 ids, $3 lease tokens): a
-- claim that committed while its answer was lost with the connection. They go back to PENDING
-- without charging that claim as an attempt. Only rows picked over $4 seconds ago, so a claim
-- answer on its way is never taken.
UPDATE scrape_request_log AS t
   SET status = 'PENDING', retry_count = greatest(retry_count - 1, 0), run_after = now(),
       picked_at = NULL, lease_until = NULL, worker_id = NULL
 WHERE worker_id = $1 AND status = 'PROCESSING'
   AND (id, lease_token) NOT IN (SELECT * FROM unnest($2::bigint[], $3::bigint[]))
   AND picked_at < now() - make_interval(secs => $4)
RETURNING id, pg_notify('beat_queue', flow) IS NULL AS notified;

-- name: reap_expired_leases
-- Tasks whose worker stopped heartbeating (killed, frozen, cut off) go back to PENDING,
-- or to FAILED when their attempts are spent.
WITH reaped AS (
UPDATE scrape_request_log
   SET status      = CASE WHEN retry_count >= max_attempts THEN 'FAILED' ELSE 'PENDING' END,
       scraped_at  = CASE WHEN retry_count >= max_attempts THEN now() END,
       last_error  = 'lease expired: worker ' || coalesce(worker_id, '?') || ' stopped heartbeating',
       error_kind  = 'lease_expired',
       run_after   = now(),
       lease_until = NULL,
       worker_id   = NULL
 WHERE status = 'PROCESSING' AND lease_until < now()
RETURNING id, status, flow, platform, retry_count, account_id, last_error, error_kind,
          pg_notify('beat_queue', flow) IS NULL AS notified
), failed AS (
INSERT INTO event_outbox (type, changes)
SELECT 'task.finished', beat_task_finished_changes(
           array_agg(id), array_agg(flow), array_agg(platform), array_agg(status),
           array_agg(retry_count), array_agg(account_id), array_agg(last_error),
           array_agg(error_kind))
  FROM reaped WHERE status = 'FAILED'
HAVING count(*) > 0
)
SELECT id, status FROM reaped;

-- name: expire_pending
WITH expired AS (
UPDATE scrape_request_log
   SET status = 'EXPIRED', scraped_at = now(), error_kind = 'expired'
 WHERE status = 'PENDING' AND expires_at < now()
RETURNING id, status, flow, platform, retry_count, account_id, last_error, error_kind
), event AS (
INSERT INTO event_outbox (type, changes)
SELECT 'task.finished', beat_task_finished_changes(
           array_agg(id), array_agg(flow), array_agg(platform), array_agg(status),
           array_agg(retry_count), array_agg(account_id), array_agg(last_error),
           array_agg(error_kind))
  FROM expired WHERE status = 'EXPIRED'
HAVING count(*) > 0
)
SELECT count(*) FROM expired;

-- name: prune_finished
-- Retention: delete up to $2 finished rows that finished before $1.
DELETE FROM scrape_request_log
 WHERE id IN (SELECT id FROM scrape_request_log
               WHERE status IN ('COMPLETE', 'FAILED', 'TIMEOUT', 'EXPIRED', 'CANCELLED')
                 AND scraped_at < $1
               LIMIT $2);

-- name: cancel
WITH cancelled AS (
UPDATE scrape_request_log
   SET status = 'CANCELLED', scraped_at = now(), lease_until = NULL, error_kind = 'cancelled'
 WHERE id = $1 AND status = 'PENDING'
RETURNING *
), event AS (
INSERT INTO event_outbox (type, changes)
SELECT 'task.finished', beat_task_finished_changes(
           array_agg(id), array_agg(flow), array_agg(platform), array_agg(status),
           array_agg(retry_count), array_agg(account_id), array_agg(last_error),
           array_agg(error_kind))
  FROM cancelled WHERE status = 'CANCELLED'
HAVING count(*) > 0
)
SELECT * FROM cancelled;

-- name: cancel_where
-- Every PENDING task of flow $1 is cancelled, with one task.finished event for them all.
WITH cancelled AS (
UPDATE scrape_request_log
   SET status = 'CANCELLED', scraped_at = now(), lease_until = NULL, error_kind = 'cancelled'
 WHERE status = 'PENDING' AND flow = $1
RETURNING *
), event AS (
INSERT INTO event_outbox (type, changes)
SELECT 'task.finished', beat_task_finished_changes(
           array_agg(id), array_agg(flow), array_agg(platform), array_agg(status),
           array_agg(retry_count), array_agg(account_id), array_agg(last_error),
           array_agg(error_kind))
  FROM cancelled
HAVING count(*) > 0
)
SELECT id FROM cancelled;

-- name: recent_failures
-- The $2 latest FAILED or TIMEOUT tasks (of flow $1), newest first, with what went wrong.
SELECT id, flow, status, retry_count, max_attempts, error_kind, last_error, scraped_at,
       extract(epoch FROM now() - scraped_at)::double precision AS age_s
  FROM scrape_request_log
 WHERE status IN ('FAILED', 'TIMEOUT') AND ($1::text IS NULL OR flow = $1)
 ORDER BY scraped_at DESC NULLS LAST, id DESC
 LIMIT $2;

-- name: requeue
-- A finished task runs again from scratch, with all its attempts. lease_token is left alone:
-- it fences every earlier claim, whatever retry_count says.
UPDATE scrape_request_log
   SET status = 'PENDING', retry_count = 0, run_after = now(), last_error = NULL,
       error_kind = NULL, data = NULL, scraped_at = NULL, picked_at = NULL, lease_until = NULL,
       worker_id = NULL, checkpoint = NULL
 WHERE id = $1 AND status IN ('COMPLETE', 'FAILED', 'TIMEOUT', 'EXPIRED', 'CANCELLED')
RETURNING *, pg_notify('beat_queue', flow) IS NULL AS notified;

-- name: requeue_where
-- Finished tasks of status $1 (of flow $2) run again from scratch. One active task per key: of
-- several that share an idempotency key (reused once a task finished) only the newest runs
-- again, and none whose key an active task holds.
WITH chosen AS (
    SELECT id FROM scrape_request_log
     WHERE status = $1 AND ($2::text IS NULL OR flow = $2) AND idempotency_key IS NULL
    UNION ALL
    (SELECT DISTINCT ON (idempotency_key) id FROM scrape_request_log AS f
      WHERE status = $1 AND ($2::text IS NULL OR flow = $2) AND idempotency_key IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM scrape_request_log AS a
                         WHERE a.idempotency_key = f.idempotency_key
                           AND a.status IN ('PENDING', 'PROCESSING'))
      ORDER BY idempotency_key, id DESC)
)
UPDATE scrape_request_log AS t
   SET status = 'PENDING', retry_count = 0, run_after = now(), last_error = NULL,
       error_kind = NULL, data = NULL, scraped_at = NULL, picked_at = NULL, lease_until = NULL,
       worker_id = NULL, checkpoint = NULL
  FROM chosen
 WHERE t.id = chosen.id AND t.status = $1
RETURNING t.id, pg_notify('beat_queue', t.flow) IS NULL AS notified;

-- name: set_priority
UPDATE scrape_request_log SET priority = $2 WHERE id = $1 RETURNING *;

-- name: queue_stats
SELECT * FROM queue_stats ORDER BY flow;

-- name: set_progress
-- A running task's progress ($2: {done, total, unit}), written only while claim $3 (its lease
-- token) still holds it: a task reaped and claimed again, or already acked, is left alone.
UPDATE scrape_request_log
   SET progress = $2::jsonb
 WHERE id = $1 AND lease_token = $3 AND status = 'PROCESSING';

-- name: set_checkpoint
-- Where a running task got to ($2), kept for its next attempt; written only while claim $3 still
-- holds the task (a run whose task was reaped and claimed again must not move the other's
-- cursor). Returns a row only when written.
UPDATE scrape_request_log
   SET checkpoint = $2::jsonb
 WHERE id = $1 AND lease_token = $3 AND status = 'PROCESSING'
RETURNING id;

-- name: outbox_stats
-- The event outbox backlog per status: how many events and the age of the oldest.
SELECT * FROM outbox_stats ORDER BY status;

-- name: stale_statistics
-- Whether the task table changed by more than $1 rows and a tenth of its size since its last
-- ANALYZE: a burst of enqueues lands faster than autovacuum's next round, and a claim planned
-- on the old statistics sorts every pending row instead of reading the first few.
SELECT s.n_mod_since_analyze > greatest($1, 0.1 * greatest(c.reltuples, 0))
  FROM pg_stat_user_tables AS s JOIN pg_class AS c ON c.oid = s.relid
 WHERE s.relid = 'scrape_request_log'::regclass;
