-- Beat's ClickHouse tables ({database} is CLICKHOUSE_DATABASE). The sink runs these itself at
-- start (IF NOT EXISTS); `beat sink clickhouse --ddl` prints them for a DBA.
CREATE DATABASE IF NOT EXISTS {database};

-- One row per entity event (profile.*, post.*, comment.* of every platform): the new value of
-- each count and text that changed. Delivery is at least once: a redelivered event has the same
-- sorting key, so ReplacingMergeTree keeps one copy (read with FINAL, or argMax, for exact
-- counts before background merges catch up).
CREATE TABLE IF NOT EXISTS {database}.entity_snapshot
(
    event_id     UUID,
    occurred_at  DateTime64(6, 'UTC'),
    type         LowCardinality(String),
    kind         LowCardinality(String),
    platform     LowCardinality(String),
    entity_key   String,
    created      Bool,
    metrics      Map(String, Int64),
    texts        Map(String, String),
    source       LowCardinality(String),
    inserted_at  DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (platform, kind, entity_key, occurred_at, event_id);
