-- Instagram current state and snapshots. A metric the new source does not carry (None) keeps its
-- earlier value and the source that gave it: metric_sources says where each number came from.
-- Change events carry [old, new] per tracked field that changed (beat_changed_fields).

-- name: upsert_accounts
-- A profile.instagram.created / .updated event when tracked fields changed, and one
-- profile_log snapshot per account ($19: metrics JSON), in the same statement. $21-$26: the
-- averages over recent posts, NULL for an account refreshed without them.
WITH o AS (
    SELECT profile_id, handle, full_name, followers, following, media_count, is_private
      FROM instagram_account WHERE profile_id = ANY($1::text[])
), up AS (
INSERT INTO instagram_account AS a
       (profile_id, graph_id, handle, full_name, biography, website, followers, following,
        media_count, profile_pic_url, profile_type, is_private, is_verified,
        is_business_or_creator, category, fbid, source, metric_sources, avg_likes,
        avg_comments, avg_reach, avg_engagement, avg_reels_plays, averages_posts,
        averages_source, refreshed_at)
SELECT u.profile_id, u.graph_id, u.handle, u.full_name, u.biography, u.website, u.followers,
       u.following, u.media_count, u.profile_pic_url, u.profile_type, u.is_private,
       u.is_verified, u.is_business_or_creator, u.category, u.fbid, u.source,
       u.metric_sources::jsonb, u.avg_likes, u.avg_comments, u.avg_reach, u.avg_engagement,
       u.avg_reels_plays, u.averages_posts, CASE WHEN u.averages_posts IS NOT NULL
                                                 THEN u.source END, now()
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[],
              $7::bigint[], $8::bigint[], $9::text[], $10::text[], $11::bool[], $12::bool[],
              $13::bool[], $14::text[], $15::text[], $16::text[], $17::text[], $20::text[],
              $21::float8[], $22::float8[], $23::float8[], $24::float8[], $25::float8[],
              $26::int[])
       AS u(profile_id, handle, full_name, biography, website, followers, following,
            media_count, profile_pic_url, profile_type, is_private, is_verified,
            is_business_or_creator, category, fbid, source, metric_sources, graph_id,
            avg_likes, avg_comments, avg_reach, avg_engagement, avg_reels_plays,
            averages_posts)
ON CONFLICT (profile_id) DO UPDATE SET
       handle                 = EXCLUDED.handle,
       graph_id               = coalesce(EXCLUDED.graph_id, a.graph_id),
       full_name              = coalesce(EXCLUDED.full_name, a.full_name),
       biography              = coalesce(EXCLUDED.biography, a.biography),
       website                = coalesce(EXCLUDED.website, a.website),
       followers              = coalesce(EXCLUDED.followers, a.followers),
       following              = coalesce(EXCLUDED.following, a.following),
       media_count            = coalesce(EXCLUDED.media_count, a.media_count),
       profile_pic_url        = coalesce(EXCLUDED.profile_pic_url, a.profile_pic_url),
       profile_type           = coalesce(EXCLUDED.profile_type, a.profile_type),
       is_private             = coalesce(EXCLUDED.is_private, a.is_private),
       is_verified            = coalesce(EXCLUDED.is_verified, a.is_verified),
       is_business_or_creator = coalesce(EXCLUDED.is_business_or_creator,
                                         a.is_business_or_creator),
       category               = coalesce(EXCLUDED.category, a.category),
       fbid                   = coalesce(EXCLUDED.fbid, a.fbid),
       source                 = EXCLUDED.source,
       metric_sources         = a.metric_sources || EXCLUDED.metric_sources,
       -- Averages move only with a refresh that computed them (over its recent posts).
       avg_likes       = CASE WHEN EXCLUDED.averages_posts IS NULL THEN a.avg_likes
                              ELSE EXCLUDED.avg_likes END,
       avg_comments    = CASE WHEN EXCLUDED.averages_posts IS NULL THEN a.avg_comments
                              ELSE EXCLUDED.avg_comments END,
       avg_reach       = CASE WHEN EXCLUDED.averages_posts IS NULL THEN a.avg_reach
                              ELSE EXCLUDED.avg_reach END,
       avg_engagement  = CASE WHEN EXCLUDED.averages_posts IS NULL THEN a.avg_engagement
                              ELSE EXCLUDED.avg_engagement END,
       avg_reels_plays = CASE WHEN EXCLUDED.averages_posts IS NULL THEN a.avg_reels_plays
                              ELSE EXCLUDED.avg_reels_plays END,
       averages_posts  = coalesce(EXCLUDED.averages_posts, a.averages_posts),
       averages_source = coalesce(EXCLUDED.averages_source, a.averages_source),
       updated_at             = now(),
       refreshed_at           = now()
RETURNING a.*, (a.xmax = 0) AS created
), snapshots AS (
INSERT INTO profile_log (platform, profile_id, metrics, dimensions, source)
SELECT 'INSTAGRAM', u.profile_id, u.metrics::jsonb, u.dimensions::jsonb, u.source
  FROM unnest($1::text[], $18::text[], $19::text[], $16::text[])
       AS u(profile_id, dimensions, metrics, source)
), events AS (
INSERT INTO event_outbox (type, platform, entity_key, changes, source)
SELECT CASE WHEN up.created THEN 'profile.instagram.created' ELSE 'profile.instagram.updated' END,
       'instagram', up.profile_id, changes, up.source
  FROM up LEFT JOIN o USING (profile_id),
       beat_changed_fields('{handle,full_name,followers,following,media_count,is_private}',
                           to_jsonb(o), to_jsonb(up)) AS changes
 WHERE up.created OR changes <> '{}'
)
SELECT * FROM up;

-- name: upsert_posts
-- Like upsert_accounts: a post.instagram.created / .updated event when tracked fields changed,
-- and a post_log snapshot for each post that carries metrics ($23: JSON, NULL for none).
WITH o AS (
    SELECT post_id, caption, likes, comments, plays, views, reach, shares, saved
      FROM instagram_post WHERE post_id = ANY($1::text[])
), up AS (
INSERT INTO instagram_post AS p
       (post_id, graph_id, shortcode, profile_id, handle, post_type, caption, permalink,
        thumbnail_url, display_url, likes, comments, plays, views, reach, impressions, shares,
        saved, children, publish_time, expires_at, source, metric_sources, refreshed_at)
SELECT u.post_id, u.graph_id, u.shortcode, u.profile_id, u.handle, u.post_type, u.caption, u.permalink,
       u.thumbnail_url, u.display_url, u.likes, u.comments, u.plays, u.views, u.reach,
       u.impressions, u.shares, u.saved, u.children, u.publish_time, u.expires_at, u.source,
       u.metric_sources::jsonb, now()
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
              $7::text[], $8::text[], $9::text[], $10::bigint[], $11::bigint[], $12::bigint[],
              $13::bigint[], $14::bigint[], $15::bigint[], $16::bigint[], $17::bigint[],
              $18::int[], $19::timestamptz[], $20::timestamptz[], $21::text[], $22::text[],
              $24::text[])
       AS u(post_id, shortcode, profile_id, handle, post_type, caption, permalink,
            thumbnail_url, display_url, likes, comments, plays, views, reach, impressions,
            shares, saved, children, publish_time, expires_at, source, metric_sources, graph_id)
ON CONFLICT (post_id) DO UPDATE SET
       graph_id      = coalesce(EXCLUDED.graph_id, p.graph_id),
       shortcode     = coalesce(EXCLUDED.shortcode, p.shortcode),
       profile_id    = coalesce(EXCLUDED.profile_id, p.profile_id),
       handle        = coalesce(EXCLUDED.handle, p.handle),
       post_type     = coalesce(EXCLUDED.post_type, p.post_type),
       caption       = coalesce(EXCLUDED.caption, p.caption),
       permalink     = coalesce(EXCLUDED.permalink, p.permalink),
       thumbnail_url = coalesce(EXCLUDED.thumbnail_url, p.thumbnail_url),
       display_url   = coalesce(EXCLUDED.display_url, p.display_url),
       likes         = coalesce(EXCLUDED.likes, p.likes),
       comments      = coalesce(EXCLUDED.comments, p.comments),
       plays         = coalesce(EXCLUDED.plays, p.plays),
       views         = coalesce(EXCLUDED.views, p.views),
       reach         = coalesce(EXCLUDED.reach, p.reach),
       impressions   = coalesce(EXCLUDED.impressions, p.impressions),
       shares        = coalesce(EXCLUDED.shares, p.shares),
       saved         = coalesce(EXCLUDED.saved, p.saved),
       children      = coalesce(EXCLUDED.children, p.children),
       publish_time  = coalesce(EXCLUDED.publish_time, p.publish_time),
       expires_at    = coalesce(EXCLUDED.expires_at, p.expires_at),
       source        = EXCLUDED.source,
       metric_sources = p.metric_sources || EXCLUDED.metric_sources,
       updated_at    = now(),
       refreshed_at  = now()
RETURNING p.post_id, p.caption, p.likes, p.comments, p.plays, p.views, p.reach, p.shares,
          p.saved, p.source, (p.xmax = 0) AS created
), snapshots AS (
INSERT INTO post_log (platform, post_id, profile_id, metrics, dimensions, source)
SELECT 'INSTAGRAM', u.post_id, u.profile_id, u.metrics::jsonb, '{}'::jsonb, u.source
  FROM unnest($1::text[], $3::text[], $23::text[], $21::text[])
       AS u(post_id, profile_id, metrics, source)
 WHERE u.metrics IS NOT NULL
), events AS (
INSERT INTO event_outbox (type, platform, entity_key, changes, source)
SELECT CASE WHEN up.created THEN 'post.instagram.created' ELSE 'post.instagram.updated' END,
       'instagram', up.post_id, changes, up.source
  FROM up LEFT JOIN o USING (post_id),
       beat_changed_fields('{caption,likes,comments,plays,views,reach,shares,saved}',
                           to_jsonb(o), to_jsonb(up)) AS changes
 WHERE up.created OR changes <> '{}'
)
SELECT post_id FROM up;

-- name: upsert_comments
-- A comment.instagram.created / .updated event for each comment whose text or counts changed.
WITH o AS (
    SELECT comment_id, text, likes, replies
      FROM instagram_comment WHERE comment_id = ANY($1::text[])
), up AS (
INSERT INTO instagram_comment AS c
       (comment_id, post_id, text, author_handle, author_id, likes, replies, published_at,
        source)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[],
                     $7::bigint[], $8::timestamptz[], $9::text[])
ON CONFLICT (comment_id) DO UPDATE SET
       text = coalesce(EXCLUDED.text, c.text), likes = coalesce(EXCLUDED.likes, c.likes),
       replies = coalesce(EXCLUDED.replies, c.replies), source = EXCLUDED.source,
       refreshed_at = now()
RETURNING c.comment_id, c.post_id, c.text, c.likes, c.replies, c.source,
          (c.xmax = 0) AS created
)
INSERT INTO event_outbox (type, platform, entity_key, changes, source)
SELECT CASE WHEN up.created THEN 'comment.instagram.created' ELSE 'comment.instagram.updated' END,
       'instagram', up.comment_id,
       changes || jsonb_strip_nulls(jsonb_build_object(
                      'post_id', CASE WHEN up.created THEN up.post_id END)),
       up.source
  FROM up LEFT JOIN o USING (comment_id),
       beat_changed_fields('{text,likes,replies}', to_jsonb(o), to_jsonb(up)) AS changes
 WHERE up.created OR changes <> '{}';

-- name: upsert_relationships
-- Followers / following of $1 (kind $2): one row per pair, last_seen_at moves on each sighting
-- (no event per follower: a 1M-follower fetch would flood the bus; the task's result counts them).
INSERT INTO instagram_relationship AS r
       (profile_id, kind, user_id, handle, full_name, is_private, is_verified, profile_pic_url,
        source)
SELECT $1, $2, u.* FROM unnest($3::text[], $4::text[], $5::text[], $6::bool[], $7::bool[],
                               $8::text[], $9::text[]) AS u
ON CONFLICT (profile_id, kind, user_id) DO UPDATE SET
       handle = EXCLUDED.handle, full_name = coalesce(EXCLUDED.full_name, r.full_name),
       is_private = coalesce(EXCLUDED.is_private, r.is_private),
       is_verified = coalesce(EXCLUDED.is_verified, r.is_verified),
       profile_pic_url = coalesce(EXCLUDED.profile_pic_url, r.profile_pic_url),
       source = EXCLUDED.source, last_seen_at = now();

-- name: upsert_likers
INSERT INTO instagram_post_liker AS l
       (post_id, user_id, handle, full_name, is_private, is_verified, source)
SELECT $1, u.* FROM unnest($2::text[], $3::text[], $4::text[], $5::bool[], $6::bool[],
                           $7::text[]) AS u
ON CONFLICT (post_id, user_id) DO UPDATE SET
       handle = EXCLUDED.handle, full_name = coalesce(EXCLUDED.full_name, l.full_name),
       source = EXCLUDED.source, last_seen_at = now();

-- name: upsert_links
-- Posts found under a hashtag or tagging an account ($1 kind, $2 key).
INSERT INTO instagram_post_link AS k (kind, key, post_id, source)
SELECT $1, $2, u.post_id, u.source FROM unnest($3::text[], $4::text[]) AS u(post_id, source)
ON CONFLICT (kind, key, post_id) DO UPDATE SET source = EXCLUDED.source, last_seen_at = now();

-- name: save_insights
-- JSON arrives as text ($2::text: the pool's jsonb codec would store a str as a JSON string).
UPDATE instagram_account
   SET insights = $2::text::jsonb, insights_source = $3, insights_at = now(), updated_at = now()
 WHERE profile_id = $1
RETURNING *;

-- name: save_audience
UPDATE instagram_account
   SET audience = $2::text::jsonb, audience_source = $3, audience_at = now(), updated_at = now()
 WHERE profile_id = $1
RETURNING *;

-- name: save_post_insights
-- A post's insights: the named columns take what they can, the whole set stays in `insights`.
-- JSON arrives as text, as for save_insights.
UPDATE instagram_post
   SET insights = $2::text::jsonb,
       reach = coalesce($3, reach), impressions = coalesce($4, impressions),
       saved = coalesce($5, saved), shares = coalesce($6, shares), plays = coalesce($7, plays),
       metric_sources = metric_sources || $8::text::jsonb, updated_at = now()
 WHERE post_id = $1
RETURNING *;

-- name: account_by_profile_id
SELECT * FROM instagram_account WHERE profile_id = $1 OR graph_id = $1
 ORDER BY profile_id = $1 DESC LIMIT 1;

-- name: account_by_handle
SELECT * FROM instagram_account WHERE lower(handle) = lower($1)
 ORDER BY refreshed_at DESC NULLS LAST LIMIT 1;

-- name: account_by_id
SELECT * FROM instagram_account WHERE id = $1;

-- name: post_by_shortcode
SELECT * FROM instagram_post WHERE shortcode = $1 ORDER BY refreshed_at DESC NULLS LAST LIMIT 1;

-- name: post_by_post_id
SELECT * FROM instagram_post WHERE post_id = $1 OR graph_id = $1
 ORDER BY post_id = $1 DESC LIMIT 1;

-- name: recent_posts
-- Newest first; the cursor is (publish_time, id) of the last row of the previous page.
SELECT * FROM instagram_post
 WHERE profile_id = $1 AND post_type IS DISTINCT FROM 'story'
   AND ($2::timestamptz IS NULL OR (publish_time, id) < ($2, $3))
 ORDER BY publish_time DESC NULLS LAST, id DESC
 LIMIT $4;

-- name: posts_refreshed_at
SELECT max(refreshed_at) AS refreshed_at FROM instagram_post WHERE profile_id = $1;

-- name: refreshed_posts
-- Freshness of many posts (watchlists): (key, refreshed_at) by shortcode.
SELECT shortcode AS key, refreshed_at FROM instagram_post WHERE shortcode = ANY($1::text[]);

-- name: refreshed_media
SELECT post_id AS key, refreshed_at FROM instagram_post WHERE post_id = ANY($1::text[]);

-- name: refreshed_accounts
SELECT lower(handle) AS key, refreshed_at FROM instagram_account
 WHERE lower(handle) = ANY($1::text[]);
