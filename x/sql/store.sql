-- X current state and snapshots. A metric the new source does not carry (None: syndication has
-- no retweets or views, old tweets no views) keeps its earlier value and the source that gave
-- it: metric_sources says where each number came from. Change events carry [old, new] per
-- tracked field that changed (beat_changed_fields).

-- name: upsert_accounts
-- A profile.x.created / .updated event when tracked fields changed, and one profile_log
-- snapshot per account ($18: metrics JSON), in the same statement.
WITH o AS (
    SELECT user_id, handle, name, followers, following, tweets, listed, protected
      FROM x_account WHERE user_id = ANY($1::text[])
), up AS (
INSERT INTO x_account AS a
       (user_id, handle, name, description, location, followers, following, tweets, listed,
        media_count, favourites, verified, blue_verified, protected, profile_image_url,
        account_created_at, source, metric_sources, refreshed_at)
SELECT u.user_id, u.handle, u.name, u.description, u.location, u.followers, u.following,
       u.tweets, u.listed, u.media_count, u.favourites, u.verified, u.blue_verified,
       u.protected, u.profile_image_url, u.account_created_at, u.source,
       u.metric_sources::jsonb, now()
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[],
              $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[],
              $12::bool[], $13::bool[], $14::bool[], $15::text[], $16::timestamptz[],
              $17::text[], $19::text[])
       AS u(user_id, handle, name, description, location, followers, following, tweets,
            listed, media_count, favourites, verified, blue_verified, protected,
            profile_image_url, account_created_at, source, metric_sources)
ON CONFLICT (user_id) DO UPDATE SET
       handle             = EXCLUDED.handle,
       name               = coalesce(EXCLUDED.name, a.name),
       description        = coalesce(EXCLUDED.description, a.description),
       location           = coalesce(EXCLUDED.location, a.location),
       followers          = coalesce(EXCLUDED.followers, a.followers),
       following          = coalesce(EXCLUDED.following, a.following),
       tweets             = coalesce(EXCLUDED.tweets, a.tweets),
       listed             = coalesce(EXCLUDED.listed, a.listed),
       media_count        = coalesce(EXCLUDED.media_count, a.media_count),
       favourites         = coalesce(EXCLUDED.favourites, a.favourites),
       verified           = coalesce(EXCLUDED.verified, a.verified),
       blue_verified      = coalesce(EXCLUDED.blue_verified, a.blue_verified),
       protected          = coalesce(EXCLUDED.protected, a.protected),
       profile_image_url  = coalesce(EXCLUDED.profile_image_url, a.profile_image_url),
       account_created_at = coalesce(EXCLUDED.account_created_at, a.account_created_at),
       source             = EXCLUDED.source,
       metric_sources     = a.metric_sources || EXCLUDED.metric_sources,
       updated_at         = now(),
       refreshed_at       = now()
RETURNING a.*, (a.xmax = 0) AS created
), snapshots AS (
INSERT INTO profile_log (platform, profile_id, metrics, dimensions, source)
SELECT 'X', u.user_id, u.metrics::jsonb, jsonb_build_object('handle', u.handle), u.source
  FROM unnest($1::text[], $2::text[], $18::text[], $17::text[])
       AS u(user_id, handle, metrics, source)
), events AS (
INSERT INTO event_outbox (type, platform, entity_key, changes, source)
SELECT CASE WHEN up.created THEN 'profile.x.created' ELSE 'profile.x.updated' END,
       'x', up.user_id, changes, up.source
  FROM up LEFT JOIN o USING (user_id),
       beat_changed_fields('{handle,name,followers,following,tweets,listed,protected}',
                           to_jsonb(o), to_jsonb(up)) AS changes
 WHERE up.created OR changes <> '{}'
)
SELECT * FROM up;

-- name: upsert_posts
-- Like upsert_accounts: a post.x.created / .updated event when tracked fields changed, and a
-- post_log snapshot for each tweet that carries metrics ($17: JSON, NULL for none).
WITH o AS (
    SELECT tweet_id, text, likes, comments, shares, quotes, bookmarks, views
      FROM x_post WHERE tweet_id = ANY($1::text[])
), up AS (
INSERT INTO x_post AS p
       (tweet_id, user_id, handle, text, likes, comments, shares, quotes, bookmarks, views,
        lang, quoted_tweet_id, has_video, thumbnail_url, published_at, source, metric_sources,
        refreshed_at)
SELECT u.tweet_id, u.user_id, u.handle, u.text, u.likes, u.comments, u.shares, u.quotes,
       u.bookmarks, u.views, u.lang, u.quoted_tweet_id, u.has_video, u.thumbnail_url,
       u.published_at, u.source, u.metric_sources::jsonb, now()
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[],
              $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::text[],
              $12::text[], $13::bool[], $14::timestamptz[], $15::text[], $16::text[],
              $18::text[])
       AS u(tweet_id, user_id, handle, text, likes, comments, shares, quotes, bookmarks,
            views, lang, quoted_tweet_id, has_video, published_at, source, metric_sources,
            thumbnail_url)
ON CONFLICT (tweet_id) DO UPDATE SET
       user_id         = coalesce(EXCLUDED.user_id, p.user_id),
       handle          = coalesce(EXCLUDED.handle, p.handle),
       text            = coalesce(EXCLUDED.text, p.text),
       likes           = coalesce(EXCLUDED.likes, p.likes),
       comments        = coalesce(EXCLUDED.comments, p.comments),
       shares          = coalesce(EXCLUDED.shares, p.shares),
       quotes          = coalesce(EXCLUDED.quotes, p.quotes),
       bookmarks       = coalesce(EXCLUDED.bookmarks, p.bookmarks),
       views           = coalesce(EXCLUDED.views, p.views),
       lang            = coalesce(EXCLUDED.lang, p.lang),
       quoted_tweet_id = coalesce(EXCLUDED.quoted_tweet_id, p.quoted_tweet_id),
       has_video       = coalesce(EXCLUDED.has_video, p.has_video),
       thumbnail_url   = coalesce(EXCLUDED.thumbnail_url, p.thumbnail_url),
       published_at    = coalesce(EXCLUDED.published_at, p.published_at),
       source          = EXCLUDED.source,
       metric_sources  = p.metric_sources || EXCLUDED.metric_sources,
       updated_at      = now(),
       refreshed_at    = now()
RETURNING p.*, (p.xmax = 0) AS created
), snapshots AS (
INSERT INTO post_log (platform, post_id, profile_id, metrics, dimensions, source)
SELECT 'X', u.tweet_id, u.user_id, u.metrics::jsonb, '{}'::jsonb, u.source
  FROM unnest($1::text[], $2::text[], $17::text[], $15::text[])
       AS u(tweet_id, user_id, metrics, source)
 WHERE u.metrics IS NOT NULL
), events AS (
INSERT INTO event_outbox (type, platform, entity_key, changes, source)
SELECT CASE WHEN up.created THEN 'post.x.created' ELSE 'post.x.updated' END,
       'x', up.tweet_id, changes, up.source
  FROM up LEFT JOIN o USING (tweet_id),
       beat_changed_fields('{text,likes,comments,shares,quotes,bookmarks,views}',
                           to_jsonb(o), to_jsonb(up)) AS changes
 WHERE up.created OR changes <> '{}'
)
SELECT * FROM up;

-- name: account_by_user_id
SELECT * FROM x_account WHERE user_id = $1;

-- name: account_by_handle
SELECT * FROM x_account WHERE lower(handle) = lower($1)
 ORDER BY refreshed_at DESC NULLS LAST LIMIT 1;

-- name: account_by_id
SELECT * FROM x_account WHERE id = $1;

-- name: post_by_tweet_id
SELECT * FROM x_post WHERE tweet_id = $1;

-- name: refreshed_tweets
-- Freshness of many tweets (watchlists): (key, refreshed_at) by tweet id.
SELECT tweet_id AS key, refreshed_at FROM x_post WHERE tweet_id = ANY($1::text[]);

-- name: refreshed_accounts
SELECT lower(handle) AS key, refreshed_at FROM x_account WHERE lower(handle) = ANY($1::text[]);
