-- name: daily_metric
-- A metric's last known value per entity and day ({database}; parameters: platform, kind,
-- metric, since). Days without a change have no row: carry the last value forward if needed.
SELECT entity_key, toDate(occurred_at) AS day,
       argMax(metrics[{metric:String}], occurred_at) AS value
  FROM {database}.entity_snapshot FINAL
 WHERE platform = {platform:String} AND kind = {kind:String}
   AND mapContains(metrics, {metric:String}) AND occurred_at >= {since:DateTime64(6, 'UTC')}
 GROUP BY entity_key, day
 ORDER BY entity_key, day;

-- name: latest_metric
-- Each entity's latest value of a metric, highest first (a leaderboard over what the sink saw).
SELECT entity_key, argMax(metrics[{metric:String}], occurred_at) AS value
  FROM {database}.entity_snapshot FINAL
 WHERE platform = {platform:String} AND kind = {kind:String}
   AND mapContains(metrics, {metric:String})
 GROUP BY entity_key
 ORDER BY value DESC, entity_key
 LIMIT {limit:UInt32};

-- name: events_per_day
-- Events written per day, platform and kind (what the sink received).
SELECT toDate(occurred_at) AS day, platform, kind, count() AS events, countIf(created) AS created
  FROM {database}.entity_snapshot FINAL
 GROUP BY day, platform, kind
 ORDER BY day, platform, kind;
