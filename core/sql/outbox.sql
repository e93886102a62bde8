-- The event outbox: written in the transaction of each change, read by the relay (and by
-- GET /events when no broker is configured). Statuses: PENDING, SENT, PARKED.

-- name: claim
-- Up to $1 unsent events in id order, for $2 seconds; a relay that dies lets the claim lapse.
WITH picked AS MATERIALIZED (
    SELECT id FROM event_outbox
     WHERE status = 'PENDING' AND (claimed_until IS NULL OR claimed_until < now())
     ORDER BY id
     LIMIT $1
       FOR UPDATE SKIP LOCKED
)
UPDATE event_outbox AS e
   SET claimed_until = now() + make_interval(secs => $2), attempts = e.attempts + 1
  FROM picked
 WHERE e.id = picked.id
RETURNING e.id, e.event_id, e.type, e.occurred_at, e.platform, e.entity_key, e.changes,
          e.source, e.schema_version, e.attempts;

-- name: mark_sent
UPDATE event_outbox SET status = 'SENT', sent_at = now(), claimed_until = NULL, last_error = NULL
 WHERE id = ANY($1::bigint[]);

-- name: mark_failed
-- A publish that failed: back to PENDING to try again after $4 seconds per attempt, or PARKED
-- (with the reason) after $3 attempts. Never dropped.
UPDATE event_outbox
   SET status = CASE WHEN attempts >= $3 THEN 'PARKED' ELSE 'PENDING' END,
       last_error = $2,
       claimed_until = CASE WHEN attempts >= $3 THEN NULL
                            ELSE now() + make_interval(secs => $4 * attempts) END
 WHERE id = ANY($1::bigint[])
RETURNING id, status;

-- name: release
-- Claimed rows not published through no fault of theirs (the broker went away): claimable
-- again at once, the attempt not counted.
UPDATE event_outbox
   SET claimed_until = NULL, attempts = greatest(attempts - 1, 0), last_error = $2
 WHERE id = ANY($1::bigint[]) AND status = 'PENDING';

-- name: requeue_parked
-- Ops: parked events (all, or the ids in $1) get another full set of attempts.
UPDATE event_outbox SET status = 'PENDING', attempts = 0, claimed_until = NULL
 WHERE status = 'PARKED' AND ($1::bigint[] IS NULL OR id = ANY($1::bigint[]))
RETURNING id;

-- name: prune_sent
-- Retention (maintenance): up to $2 events sent before $1.
DELETE FROM event_outbox
 WHERE id IN (SELECT id FROM event_outbox WHERE status = 'SENT' AND sent_at < $1 LIMIT $2);

-- name: prune_unsent
-- Retention (maintenance): up to $2 events of status $3 (PENDING or PARKED) that occurred
-- before $1.
DELETE FROM event_outbox
 WHERE id IN (SELECT id FROM event_outbox WHERE status = $3 AND occurred_at < $1 LIMIT $2);

-- name: after
-- Rows after the cursor ($1 txid, $2 id), in (txid, id) order, at most $3: GET /events and
-- `beat events tail`. Only rows of transactions older than every transaction still running
-- that could write one are handed out: no in-flight transaction can later commit a row before
-- them, so a reader that moves its cursor past a row never misses one that commits late. Ids
-- alone cannot do this (a transaction may take a lower id and commit after a higher one).
-- The horizon is the snapshot's oldest running transaction, skipping those known to run in
-- another database (they cannot write this one's rows): a long transaction elsewhere on the
-- server holds nothing back. Known means listed in pg_stat_activity with another database;
-- a transaction not listed there (prepared, or hidden from a role without pg_read_all_stats)
-- counts as this database's, which can only delay rows, never skip them. An xid stays in its
-- database for life, so when pg_stat_activity was read does not matter.
-- The row comparison and the order match the (txid, id) index.
WITH snapshot AS (SELECT pg_current_snapshot() AS s),
horizon AS (
    SELECT least(pg_snapshot_xmax(s), (
               SELECT min(running) FROM pg_snapshot_xip(s) AS running
                WHERE NOT EXISTS (
                      SELECT 1 FROM pg_stat_activity AS a
                       WHERE a.backend_xid = running::xid
                         AND a.datid <> (SELECT oid FROM pg_database
                                          WHERE datname = current_database())))) AS txid
      FROM snapshot)
SELECT e.id, e.txid::text::bigint AS cursor_txid, e.event_id, e.type, e.occurred_at,
       e.platform, e.entity_key, e.changes, e.source, e.schema_version, e.status
  FROM event_outbox AS e
 WHERE (e.txid, e.id) > ($1::bigint::text::xid8, $2::bigint)
   AND e.txid < (SELECT txid FROM horizon)
 ORDER BY e.txid, e.id
 LIMIT $3;

-- name: insert_events
-- Events from parallel arrays (type, platform, entity_key, changes as JSON text, source).
INSERT INTO event_outbox (type, platform, entity_key, changes, source)
SELECT u.type, u.platform, u.entity_key, u.changes::jsonb, u.source
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
       AS u(type, platform, entity_key, changes, source);
