-- Facebook current state and snapshots. A metric the new answer does not carry (None) keeps its
-- earlier value and the source that gave it: metric_sources says where each number came from.
-- Change events carry [old, new] per tracked field that changed (beat_changed_fields).

-- name: upsert_pages
-- A profile.facebook.created / .updated event when tracked fields changed, and one profile_log
-- snapshot per page ($13: metrics JSON, $12: dimensions JSON), in the same statement.
WITH o AS (
    SELECT page_id, username, name, fan_count, followers, talking_about
      FROM facebook_page WHERE page_id = ANY($1::text[])
), up AS (
INSERT INTO facebook_page AS p
       (page_id, username, name, link, category, verification_status, fan_count, followers,
        talking_about, picture_url, source, metric_sources, refreshed_at)
SELECT u.page_id, u.username, u.name, u.link, u.category, u.verification_status, u.fan_count,
       u.followers, u.talking_about, u.picture_url, u.source, u.metric_sources::jsonb, now()
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
              $7::bigint[], $8::bigint[], $9::bigint[], $10::text[], $11::text[], $14::text[])
       AS u(page_id, username, name, link, category, verification_status, fan_count,
            followers, talking_about, source, metric_sources, picture_url)
ON CONFLICT (page_id) DO UPDATE SET
       username            = coalesce(EXCLUDED.username, p.username),
       name                = coalesce(EXCLUDED.name, p.name),
       link                = coalesce(EXCLUDED.link, p.link),
       category            = coalesce(EXCLUDED.category, p.category),
       verification_status = coalesce(EXCLUDED.verification_status, p.verification_status),
       fan_count           = coalesce(EXCLUDED.fan_count, p.fan_count),
       followers           = coalesce(EXCLUDED.followers, p.followers),
       talking_about       = coalesce(EXCLUDED.talking_about, p.talking_about),
       picture_url         = coalesce(EXCLUDED.picture_url, p.picture_url),
       source              = EXCLUDED.source,
       metric_sources      = p.metric_sources || EXCLUDED.metric_sources,
       updated_at          = now(),
       refreshed_at        = now()
RETURNING p.*, (p.xmax = 0) AS created
), snapshots AS (
INSERT INTO profile_log (platform, profile_id, metrics, dimensions, source)
SELECT 'FACEBOOK', u.page_id, u.metrics::jsonb, u.dimensions::jsonb, u.source
  FROM unnest($1::text[], $12::text[], $13::text[], $10::text[])
       AS u(page_id, dimensions, metrics, source)
), events AS (
INSERT INTO event_outbox (type, platform, entity_key, changes, source)
SELECT CASE WHEN up.created THEN 'profile.facebook.created' ELSE 'profile.facebook.updated' END,
       'facebook', up.page_id, changes, up.source
  FROM up LEFT JOIN o USING (page_id),
       beat_changed_fields('{username,name,fan_count,followers,talking_about}',
                           to_jsonb(o), to_jsonb(up)) AS changes
 WHERE up.created OR changes <> '{}'
)
SELECT * FROM up;

-- name: upsert_posts
-- Like upsert_pages: a post.facebook.created / .updated event when tracked fields changed, and a
-- post_log snapshot for each post that carries metrics ($16: JSON, NULL for none). $17: the id
-- each post was asked by (a pfbid id, a story id alone), kept as an alias; $18: its thumbnail.
WITH o AS (
    SELECT post_id, message, likes, comments, shares, views
      FROM facebook_post WHERE post_id = ANY($1::text[])
), up AS (
INSERT INTO facebook_post AS p
       (post_id, aliases, post_type, page_id, author, message, title, permalink, likes,
        comments, shares, views, length_s, publish_time, thumbnail_url, source, metric_sources,
        refreshed_at)
SELECT u.post_id, CASE WHEN u.alias IS NULL OR u.alias = u.post_id THEN '{}'::text[]
                       ELSE ARRAY[u.alias] END,
       u.post_type, u.page_id, u.author, u.message, u.title, u.permalink, u.likes, u.comments,
       u.shares, u.views, u.length_s, u.publish_time, u.thumbnail_url, u.source,
       u.metric_sources::jsonb, now()
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
              $7::text[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[],
              $12::float8[], $13::timestamptz[], $14::text[], $15::text[], $17::text[],
              $18::text[])
       AS u(post_id, post_type, page_id, author, message, title, permalink, likes, comments,
            shares, views, length_s, publish_time, source, metric_sources, alias,
            thumbnail_url)
ON CONFLICT (post_id) DO UPDATE SET
       aliases      = coalesce((SELECT array_agg(DISTINCT a)
                                  FROM unnest(p.aliases || EXCLUDED.aliases) a), '{}'),
       post_type    = coalesce(EXCLUDED.post_type, p.post_type),
       page_id      = coalesce(EXCLUDED.page_id, p.page_id),
       author       = coalesce(EXCLUDED.author, p.author),
       message      = coalesce(EXCLUDED.message, p.message),
       title        = coalesce(EXCLUDED.title, p.title),
       permalink    = coalesce(EXCLUDED.permalink, p.permalink),
       likes        = coalesce(EXCLUDED.likes, p.likes),
       comments     = coalesce(EXCLUDED.comments, p.comments),
       shares       = coalesce(EXCLUDED.shares, p.shares),
       views        = coalesce(EXCLUDED.views, p.views),
       length_s     = coalesce(EXCLUDED.length_s, p.length_s),
       publish_time = coalesce(EXCLUDED.publish_time, p.publish_time),
       thumbnail_url = coalesce(EXCLUDED.thumbnail_url, p.thumbnail_url),
       source       = EXCLUDED.source,
       metric_sources = p.metric_sources || EXCLUDED.metric_sources,
       updated_at   = now(),
       refreshed_at = now()
RETURNING p.*, (p.xmax = 0) AS created
), snapshots AS (
INSERT INTO post_log (platform, post_id, profile_id, metrics, dimensions, source)
SELECT 'FACEBOOK', u.post_id, u.page_id, u.metrics::jsonb, '{}'::jsonb, u.source
  FROM unnest($1::text[], $3::text[], $16::text[], $14::text[])
       AS u(post_id, page_id, metrics, source)
 WHERE u.metrics IS NOT NULL
), events AS (
INSERT INTO event_outbox (type, platform, entity_key, changes, source)
SELECT CASE WHEN up.created THEN 'post.facebook.created' ELSE 'post.facebook.updated' END,
       'facebook', up.post_id, changes, up.source
  FROM up LEFT JOIN o USING (post_id),
       beat_changed_fields('{message,likes,comments,shares,views}',
                           to_jsonb(o), to_jsonb(up)) AS changes
 WHERE up.created OR changes <> '{}'
)
SELECT * FROM up;

-- name: page_by_page_id
SELECT * FROM facebook_page WHERE page_id = $1;

-- name: page_by_username
SELECT * FROM facebook_page WHERE lower(username) = lower($1)
 ORDER BY refreshed_at DESC NULLS LAST LIMIT 1;

-- name: page_by_id
SELECT * FROM facebook_page WHERE id = $1;

-- name: post_by_post_id
SELECT * FROM facebook_post WHERE post_id = $1 OR aliases @> ARRAY[$1::text]
 ORDER BY post_id = $1 DESC LIMIT 1;

-- name: recent_posts
-- Newest first; the cursor is (publish_time, id) of the last row of the previous page.
SELECT * FROM facebook_post
 WHERE page_id = $1 AND ($2::timestamptz IS NULL OR (publish_time, id) < ($2, $3))
 ORDER BY publish_time DESC NULLS LAST, id DESC
 LIMIT $4;

-- name: posts_refreshed_at
SELECT max(refreshed_at) AS refreshed_at FROM facebook_post WHERE page_id = $1;

-- name: refreshed_posts
-- Freshness of many posts and videos (watchlists): (key, refreshed_at) by the id asked, the
-- post's own or one of its aliases.
SELECT k.key, p.refreshed_at FROM unnest($1::text[]) AS k(key)
  JOIN facebook_post p ON p.post_id = k.key OR p.aliases @> ARRAY[k.key];

-- name: refreshed_pages
-- By page id or lower-case user name.
SELECT k.key, g.refreshed_at FROM unnest($1::text[]) AS k(key)
  JOIN facebook_page g ON g.page_id = k.key OR lower(g.username) = k.key;
