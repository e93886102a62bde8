-- name: metric_history
-- One entity's metric over time: each state the sink saw, in order ({database}; parameters:
-- platform, kind, key, metric), e.g. a channel's followers (YouTube's subscribers are there as
-- "followers" too).
SELECT stored_at, metrics[{metric:String}] AS value
  FROM {database}.entity_snapshot FINAL
 WHERE platform = {platform:String} AND kind = {kind:String} AND entity_key = {key:String}
   AND mapContains(metrics, {metric:String})
 GROUP BY stored_at, value
 ORDER BY stored_at;

-- name: daily_metric
-- A metric's last known value per entity and day (parameters: platform, kind, metric, since).
-- Days without an event have no row: carry the last value forward if needed.
SELECT entity_key, toDate(stored_at) AS day,
       argMax(metrics[{metric:String}], stored_at) AS value
  FROM {database}.entity_snapshot FINAL
 WHERE platform = {platform:String} AND kind = {kind:String}
   AND mapContains(metrics, {metric:String}) AND stored_at >= {since:DateTime64(6, 'UTC')}
 GROUP BY entity_key, day
 ORDER BY entity_key, day;

-- name: latest_metric
-- Each entity's latest value of a metric across platforms, highest first (parameters: kind,
-- metric, limit): a leaderboard over what the sink saw, e.g. profiles by followers.
SELECT platform, entity_key, argMax(metrics[{metric:String}], stored_at) AS value
  FROM {database}.entity_snapshot FINAL
 WHERE kind = {kind:String} AND mapContains(metrics, {metric:String})
 GROUP BY platform, entity_key
 ORDER BY value DESC, platform, entity_key
 LIMIT {limit:UInt32};

-- name: events_per_day
-- Events written per day, platform and kind (what the sink received), and how many of them
-- hold a full snapshot.
SELECT toDate(occurred_at) AS day, platform, kind, count() AS events, countIf(created) AS created,
       countIf(complete) AS complete
  FROM {database}.entity_snapshot FINAL
 GROUP BY day, platform, kind
 ORDER BY day, platform, kind;
