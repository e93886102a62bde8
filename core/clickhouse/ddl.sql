-- Beat's ClickHouse tables ({database} is CLICKHOUSE_DATABASE). The sink runs these itself at
-- start (IF NOT EXISTS); `beat sink clickhouse --ddl` prints them for a DBA.
CREATE DATABASE IF NOT EXISTS {database};

-- One row per entity event (profile.*, post.*, comment.* of every platform): a full snapshot of
-- the entity as its platform's table stores it, i.e. every count (`metrics`; a profile's
-- audience also as "followers") and text (`texts`) of the row, written at `stored_at` by
-- `source`; `changed` names the fields the event changed. `stored_at` equals the event's
-- `occurred_at` unless the entity was written again before the sink read it (then the later
-- state with its time). `complete` is false for an entity its platform declares no table for,
-- or no longer stored: the row then holds the event's changed fields only.
-- Delivery is at least once: a redelivered event has the same sorting key, so
-- ReplacingMergeTree keeps one copy (read with FINAL, or argMax, for exact counts before
-- background merges catch up).
CREATE TABLE IF NOT EXISTS {database}.entity_snapshot
(
    event_id     UUID,
    occurred_at  DateTime64(6, 'UTC'),
    stored_at    DateTime64(6, 'UTC'),
    type         LowCardinality(String),
    kind         LowCardinality(String),
    platform     LowCardinality(String),
    entity_key   String,
    created      Bool,
    complete     Bool,
    changed      Array(LowCardinality(String)),
    metrics      Map(String, Int64),
    texts        Map(String, String),
    source       LowCardinality(String),
    inserted_at  DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (platform, kind, entity_key, occurred_at, event_id);

-- A table created before snapshots were full gets their columns (its earlier rows hold changed
-- fields only: complete false).
ALTER TABLE {database}.entity_snapshot
    ADD COLUMN IF NOT EXISTS stored_at DateTime64(6, 'UTC') DEFAULT occurred_at AFTER occurred_at,
    ADD COLUMN IF NOT EXISTS complete Bool DEFAULT false AFTER created,
    ADD COLUMN IF NOT EXISTS changed Array(LowCardinality(String)) AFTER complete;
