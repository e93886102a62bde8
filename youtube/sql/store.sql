-- YouTube current state and snapshots. A metric the new source does not carry (None) keeps its
-- earlier value and the source that gave it: metric_sources says where each number came from.
-- Change events carry [old, new] per tracked field that changed (beat_changed_fields).

-- name: upsert_channels
-- Like upsert_videos: a profile.youtube.created / .updated event when tracked fields changed.
WITH o AS (
    SELECT channel_id, title, handle, subscribers, views, video_count
      FROM youtube_account WHERE channel_id = ANY($1::text[])
), up AS (
INSERT INTO youtube_account AS a
       (channel_id, handle, title, description, published_at, country, thumbnail_url,
        subscribers, views, video_count, uploads_playlist_id, source, metric_sources,
        refreshed_at)
SELECT u.channel_id, u.handle, u.title, u.description, u.published_at, u.country,
       u.thumbnail_url, u.subscribers, u.views, u.video_count, u.uploads_playlist_id, u.source,
       u.metric_sources::jsonb, now()
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[],
              $7::text[], $8::bigint[], $9::bigint[], $10::bigint[], $11::text[], $12::text[],
              $13::text[])
       AS u(channel_id, handle, title, description, published_at, country, thumbnail_url,
            subscribers, views, video_count, uploads_playlist_id, source, metric_sources)
ON CONFLICT (channel_id) DO UPDATE SET
       handle              = coalesce(EXCLUDED.handle, a.handle),
       title               = coalesce(EXCLUDED.title, a.title),
       description         = coalesce(EXCLUDED.description, a.description),
       published_at        = coalesce(EXCLUDED.published_at, a.published_at),
       country             = coalesce(EXCLUDED.country, a.country),
       thumbnail_url       = coalesce(EXCLUDED.thumbnail_url, a.thumbnail_url),
       subscribers         = coalesce(EXCLUDED.subscribers, a.subscribers),
       views               = coalesce(EXCLUDED.views, a.views),
       video_count         = coalesce(EXCLUDED.video_count, a.video_count),
       uploads_playlist_id = coalesce(EXCLUDED.uploads_playlist_id, a.uploads_playlist_id),
       source              = EXCLUDED.source,
       metric_sources      = a.metric_sources || EXCLUDED.metric_sources,
       updated_at          = now(),
       refreshed_at        = now()
RETURNING a.*, (a.xmax = 0) AS created
), events AS (
INSERT INTO event_outbox (type, platform, entity_key, changes, source)
SELECT CASE WHEN up.created THEN 'profile.youtube.created' ELSE 'profile.youtube.updated' END,
       'youtube', up.channel_id, changes, up.source
  FROM up LEFT JOIN o USING (channel_id),
       beat_changed_fields('{title,handle,subscribers,views,video_count}', to_jsonb(o),
                           to_jsonb(up)) AS changes
 WHERE up.created OR changes <> '{}'
)
SELECT * FROM up;

-- name: upsert_videos
-- Writes a post.youtube.created / .updated event (with old and new values) for each video
-- whose tracked fields changed, in the same statement; an unchanged video writes none.
-- Videos with metrics ($17, JSON; NULL for none) get their post_log snapshot in the same
-- statement too: one round trip and one commit per batch, atomic without a transaction block.
WITH o AS (
    SELECT video_id, title, views, likes, comments, comments_disabled
      FROM youtube_post WHERE video_id = ANY($1::text[])
), up AS (
INSERT INTO youtube_post AS p
       (video_id, channel_id, channel_title, title, description, published_at, duration_s,
        views, likes, comments, comments_disabled, tags, thumbnail_url, category_id, source,
        metric_sources, refreshed_at)
SELECT u.video_id, u.channel_id, u.channel_title, u.title, u.description, u.published_at,
       u.duration_s, u.views, u.likes, u.comments, u.comments_disabled, u.tags::jsonb,
       u.thumbnail_url, u.category_id, u.source, u.metric_sources::jsonb, now()
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[],
              $7::int[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bool[], $12::text[],
              $13::text[], $14::text[], $15::text[], $16::text[])
       AS u(video_id, channel_id, channel_title, title, description, published_at, duration_s,
            views, likes, comments, comments_disabled, tags, thumbnail_url, category_id, source,
            metric_sources)
ON CONFLICT (video_id) DO UPDATE SET
       channel_id        = coalesce(EXCLUDED.channel_id, p.channel_id),
       channel_title     = coalesce(EXCLUDED.channel_title, p.channel_title),
       title             = coalesce(EXCLUDED.title, p.title),
       description       = coalesce(EXCLUDED.description, p.description),
       published_at      = coalesce(EXCLUDED.published_at, p.published_at),
       duration_s        = coalesce(EXCLUDED.duration_s, p.duration_s),
       views             = coalesce(EXCLUDED.views, p.views),
       likes             = coalesce(EXCLUDED.likes, p.likes),
       comments          = coalesce(EXCLUDED.comments, p.comments),
       comments_disabled = coalesce(EXCLUDED.comments_disabled, p.comments_disabled),
       tags              = CASE WHEN EXCLUDED.tags = '[]'::jsonb THEN p.tags ELSE EXCLUDED.tags END,
       thumbnail_url     = coalesce(EXCLUDED.thumbnail_url, p.thumbnail_url),
       category_id       = coalesce(EXCLUDED.category_id, p.category_id),
       source            = EXCLUDED.source,
       metric_sources    = p.metric_sources || EXCLUDED.metric_sources,
       updated_at        = now(),
       refreshed_at      = now()
RETURNING p.video_id, p.title, p.views, p.likes, p.comments, p.comments_disabled, p.source,
          (p.xmax = 0) AS created
), snapshots AS (
INSERT INTO post_log (platform, post_id, profile_id, metrics, dimensions, source)
SELECT 'YOUTUBE', u.post_id, u.profile_id, u.metrics::jsonb, '{}'::jsonb, u.source
  FROM unnest($1::text[], $2::text[], $17::text[], $15::text[])
       AS u(post_id, profile_id, metrics, source)
 WHERE u.metrics IS NOT NULL
), events AS (
INSERT INTO event_outbox (type, platform, entity_key, changes, source)
SELECT CASE WHEN up.created THEN 'post.youtube.created' ELSE 'post.youtube.updated' END,
       'youtube', up.video_id, changes, up.source
  FROM up LEFT JOIN o USING (video_id),
       beat_changed_fields('{title,views,likes,comments,comments_disabled}', to_jsonb(o),
                           to_jsonb(up)) AS changes
 WHERE up.created OR changes <> '{}'
)
SELECT video_id FROM up;

-- name: snapshot_profiles
INSERT INTO profile_log (platform, profile_id, metrics, dimensions, source)
SELECT 'YOUTUBE', u.profile_id, u.metrics::jsonb, u.dimensions::jsonb, u.source
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
       AS u(profile_id, metrics, dimensions, source);

-- name: upsert_comments
-- A comment.youtube.created / .updated event for each comment whose text or counts changed (a
-- new reply's event names its parent_id).
WITH o AS (
    SELECT comment_id, text, likes, reply_count
      FROM youtube_comment WHERE comment_id = ANY($1::text[])
), up AS (
INSERT INTO youtube_comment AS c
       (comment_id, video_id, author, author_channel_id, text, likes, reply_count,
        published_at, updated_at, source, parent_id)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[],
                     $7::bigint[], $8::timestamptz[], $9::timestamptz[], $10::text[],
                     $11::text[])
ON CONFLICT (comment_id) DO UPDATE SET
       text = EXCLUDED.text, likes = coalesce(EXCLUDED.likes, c.likes),
       parent_id = coalesce(EXCLUDED.parent_id, c.parent_id),
       reply_count = coalesce(EXCLUDED.reply_count, c.reply_count),
       updated_at = EXCLUDED.updated_at, source = EXCLUDED.source, refreshed_at = now()
RETURNING c.comment_id, c.video_id, c.parent_id, c.text, c.likes, c.reply_count, c.source,
          (c.xmax = 0) AS created
)
INSERT INTO event_outbox (type, platform, entity_key, changes, source)
SELECT CASE WHEN up.created THEN 'comment.youtube.created' ELSE 'comment.youtube.updated' END,
       'youtube', up.comment_id,
       changes || jsonb_strip_nulls(jsonb_build_object(
                      'video_id', CASE WHEN up.created THEN up.video_id END,
                      'parent_id', CASE WHEN up.created THEN up.parent_id END)),
       up.source
  FROM up LEFT JOIN o USING (comment_id),
       beat_changed_fields('{text,likes,reply_count}', to_jsonb(o), to_jsonb(up)) AS changes
 WHERE up.created OR changes <> '{}';

-- name: mark_comments_disabled
UPDATE youtube_post SET comments_disabled = true, updated_at = now() WHERE video_id = $1;

-- name: channel_by_channel_id
SELECT * FROM youtube_account WHERE channel_id = $1;

-- name: channel_by_handle
SELECT * FROM youtube_account WHERE lower(handle) = lower($1) ORDER BY refreshed_at DESC LIMIT 1;

-- name: channel_by_id
SELECT * FROM youtube_account WHERE id = $1;

-- name: video_by_video_id
SELECT * FROM youtube_post WHERE video_id = $1;

-- name: recent_videos
-- Newest first; the cursor is (published_at, id) of the last row of the previous page.
SELECT * FROM youtube_post
 WHERE channel_id = $1
   AND ($2::timestamptz IS NULL OR (published_at, id) < ($2, $3))
 ORDER BY published_at DESC NULLS LAST, id DESC
 LIMIT $4;

-- name: videos_of_channel
SELECT * FROM youtube_post WHERE channel_id = $1 ORDER BY published_at DESC NULLS LAST LIMIT $2;

-- name: videos_refreshed_at
SELECT max(refreshed_at) AS refreshed_at FROM youtube_post WHERE channel_id = $1;

-- name: refreshed_videos
-- Freshness of many videos (watchlists): (key, refreshed_at) by video id.
SELECT video_id AS key, refreshed_at FROM youtube_post WHERE video_id = ANY($1::text[]);

-- name: refreshed_channels
SELECT channel_id AS key, refreshed_at FROM youtube_account WHERE channel_id = ANY($1::text[]);

-- name: refreshed_handles
-- By handle, lower case with its @.
SELECT lower(handle) AS key, refreshed_at FROM youtube_account
 WHERE lower(handle) = ANY($1::text[]);
