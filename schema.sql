BEGIN;

CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL, 
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);

-- Running upgrade  -> 0001

CREATE TABLE scrape_request_log (
        id              bigserial PRIMARY KEY,
        idempotency_key text,
        platform        text,
        flow            text        NOT NULL,
        status          text        NOT NULL DEFAULT 'PENDING',
        params          jsonb       NOT NULL DEFAULT '{}'::jsonb,
        data            jsonb,
        priority        integer     NOT NULL DEFAULT 1,
        retry_count     integer     NOT NULL DEFAULT 0,
        account_id      text,
        created_at      timestamptz NOT NULL DEFAULT now(),
        picked_at       timestamptz,
        scraped_at      timestamptz,
        expires_at      timestamptz,
        run_after       timestamptz NOT NULL DEFAULT now(),
        lease_until     timestamptz,
        worker_id       text,
        max_attempts    integer     NOT NULL DEFAULT 3,
        last_error      text,
        CONSTRAINT scrape_request_log_status_check CHECK (status IN
            ('PENDING', 'PROCESSING', 'COMPLETE', 'FAILED', 'TIMEOUT', 'EXPIRED', 'CANCELLED'))
    ) WITH (fillfactor = 90, autovacuum_vacuum_scale_factor = 0.02,
            autovacuum_analyze_scale_factor = 0.02, autovacuum_vacuum_cost_delay = 0);

CREATE INDEX scrape_request_log_pending_idx
        ON scrape_request_log (flow, priority DESC, id) WHERE status = 'PENDING';

CREATE INDEX scrape_request_log_lease_idx
        ON scrape_request_log (lease_until) WHERE status = 'PROCESSING';

CREATE INDEX scrape_request_log_expiry_idx
        ON scrape_request_log (expires_at) WHERE status = 'PENDING' AND expires_at IS NOT NULL;

CREATE UNIQUE INDEX scrape_request_log_active_key_idx
        ON scrape_request_log (idempotency_key)
        WHERE status IN ('PENDING', 'PROCESSING') AND idempotency_key IS NOT NULL;

CREATE INDEX scrape_request_log_account_idx
        ON scrape_request_log (account_id, id DESC) WHERE account_id IS NOT NULL;

CREATE VIEW queue_stats AS
    SELECT flow,
           count(*) FILTER (WHERE status = 'PENDING')    AS pending,
           count(*) FILTER (WHERE status = 'PROCESSING') AS processing,
           count(*) FILTER (WHERE status IN ('FAILED', 'TIMEOUT')
                            AND scraped_at > now() - interval '1 hour') AS failed_last_hour,
           coalesce(extract(epoch FROM now() - min(created_at) FILTER (WHERE status = 'PENDING')),
                    0)::double precision AS oldest_pending_age_s,
           count(*) FILTER (WHERE status = 'COMPLETE'
                            AND scraped_at > now() - interval '1 minute') AS completed_per_minute
      FROM scrape_request_log
     WHERE status IN ('PENDING', 'PROCESSING') OR scraped_at > now() - interval '1 hour'
     GROUP BY flow;

CREATE TABLE credential (
        id                  bigserial PRIMARY KEY,
        idempotency_key     text UNIQUE,
        source              text        NOT NULL,
        credentials         jsonb       NOT NULL DEFAULT '{}'::jsonb,
        handle              text,
        enabled             boolean     NOT NULL DEFAULT true,
        data_access_expired boolean     NOT NULL DEFAULT false,
        disabled_till       timestamptz,
        created_at          timestamptz NOT NULL DEFAULT now(),
        updated_at          timestamptz
    );

CREATE INDEX credential_source_idx ON credential (source) WHERE enabled;

CREATE TABLE profile_log (
        id          bigserial PRIMARY KEY,
        platform    text        NOT NULL,
        profile_id  text        NOT NULL,
        dimensions  jsonb       NOT NULL DEFAULT '{}'::jsonb,
        metrics     jsonb       NOT NULL DEFAULT '{}'::jsonb,
        source      text,
        timestamp   timestamptz NOT NULL DEFAULT now()
    );

CREATE INDEX profile_log_profile_idx ON profile_log (platform, profile_id, timestamp);

CREATE TABLE post_log (
        id          bigserial PRIMARY KEY,
        platform    text        NOT NULL,
        post_id     text        NOT NULL,
        profile_id  text,
        dimensions  jsonb       NOT NULL DEFAULT '{}'::jsonb,
        metrics     jsonb       NOT NULL DEFAULT '{}'::jsonb,
        source      text,
        timestamp   timestamptz NOT NULL DEFAULT now()
    );

CREATE INDEX post_log_post_idx ON post_log (platform, post_id, timestamp);

INSERT INTO alembic_version (version_num) VALUES ('0001') RETURNING alembic_version.version_num;

-- Running upgrade 0001 -> 0002

CREATE TABLE youtube_account (
        id                  bigserial PRIMARY KEY,
        channel_id          text        NOT NULL UNIQUE,
        handle              text,
        title               text,
        description         text,
        published_at        timestamptz,
        country             text,
        thumbnail_url       text,
        subscribers         bigint,
        views               bigint,
        video_count         bigint,
        uploads_playlist_id text,
        avg_views           double precision,
        avg_likes           double precision,
        avg_comments        double precision,
        engagement_rate     double precision,
        uploads_per_week    double precision,
        insights_videos     integer,
        source              text,
        metric_sources      jsonb       NOT NULL DEFAULT '{}'::jsonb,
        created_at          timestamptz NOT NULL DEFAULT now(),
        updated_at          timestamptz NOT NULL DEFAULT now(),
        refreshed_at        timestamptz
    );

CREATE INDEX youtube_account_handle_idx ON youtube_account (lower(handle));

CREATE TABLE youtube_post (
        id                  bigserial PRIMARY KEY,
        video_id            text        NOT NULL UNIQUE,
        channel_id          text,
        channel_title       text,
        title               text,
        description         text,
        published_at        timestamptz,
        duration_s          integer,
        views               bigint,
        likes               bigint,
        comments            bigint,
        comments_disabled   boolean,
        tags                jsonb       NOT NULL DEFAULT '[]'::jsonb,
        thumbnail_url       text,
        category_id         text,
        source              text,
        metric_sources      jsonb       NOT NULL DEFAULT '{}'::jsonb,
        created_at          timestamptz NOT NULL DEFAULT now(),
        updated_at          timestamptz NOT NULL DEFAULT now(),
        refreshed_at        timestamptz
    );

CREATE INDEX youtube_post_channel_idx ON youtube_post (channel_id, published_at DESC, id);

CREATE TABLE youtube_comment (
        id                  bigserial PRIMARY KEY,
        comment_id          text        NOT NULL UNIQUE,
        video_id            text        NOT NULL,
        author              text,
        author_channel_id   text,
        text                text,
        likes               bigint,
        reply_count         bigint,
        published_at        timestamptz,
        updated_at          timestamptz,
        source              text,
        refreshed_at        timestamptz NOT NULL DEFAULT now()
    );

CREATE INDEX youtube_comment_video_idx ON youtube_comment (video_id, published_at DESC);

UPDATE alembic_version SET version_num='0002' WHERE alembic_version.version_num = '0001';

-- Running upgrade 0002 -> 0003

ALTER TABLE credential
        ADD COLUMN validated_at           timestamptz,
        ADD COLUMN scopes                 text[],
        ADD COLUMN expires_at             timestamptz,
        ADD COLUMN data_access_expires_at timestamptz,
        ADD COLUMN last_error             text;

UPDATE alembic_version SET version_num='0003' WHERE alembic_version.version_num = '0002';

-- Running upgrade 0003 -> 0004

CREATE TABLE event_outbox (
        id             bigserial PRIMARY KEY,
        event_id       uuid        NOT NULL DEFAULT gen_random_uuid(),
        type           text        NOT NULL,
        occurred_at    timestamptz NOT NULL DEFAULT now(),
        platform       text,
        entity_key     text,
        changes        jsonb       NOT NULL DEFAULT '{}'::jsonb,
        source         text,
        schema_version integer     NOT NULL DEFAULT 1,
        status         text        NOT NULL DEFAULT 'PENDING',
        attempts       integer     NOT NULL DEFAULT 0,
        last_error     text,
        claimed_until  timestamptz,
        sent_at        timestamptz,
        CONSTRAINT event_outbox_status_check CHECK (status IN ('PENDING', 'SENT', 'PARKED'))
    ) WITH (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02);

CREATE INDEX event_outbox_pending_idx ON event_outbox (id) WHERE status = 'PENDING';

CREATE INDEX event_outbox_sent_idx ON event_outbox (sent_at) WHERE status = 'SENT';

UPDATE alembic_version SET version_num='0004' WHERE alembic_version.version_num = '0003';

-- Running upgrade 0004 -> 0005

CREATE TABLE consumed_event (
        consumer    text        NOT NULL,
        event_id    text        NOT NULL,
        consumed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, event_id)
    );

CREATE INDEX consumed_event_consumed_at_idx ON consumed_event (consumed_at);

UPDATE alembic_version SET version_num='0005' WHERE alembic_version.version_num = '0004';

-- Running upgrade 0005 -> 0006

ALTER TABLE scrape_request_log ADD COLUMN lease_token bigint NOT NULL DEFAULT 0;

ALTER TABLE scrape_request_log ADD COLUMN progress jsonb;

ALTER TABLE event_outbox ADD COLUMN txid xid8 NOT NULL DEFAULT pg_current_xact_id();

CREATE INDEX event_outbox_txid_idx ON event_outbox (txid, id);

CREATE INDEX event_outbox_status_time_idx ON event_outbox (status, occurred_at);

CREATE VIEW outbox_stats AS
    SELECT status,
           count(*) AS events,
           coalesce(extract(epoch FROM now() - min(occurred_at)), 0)::double precision
               AS oldest_age_s
      FROM event_outbox
     GROUP BY status;

UPDATE alembic_version SET version_num='0006' WHERE alembic_version.version_num = '0005';

-- Running upgrade 0006 -> 0007

ALTER TABLE scrape_request_log ADD COLUMN error_kind text;

CREATE FUNCTION beat_task_finished_changes(
        id bigint[], flow text[], platform text[], status text[], attempt integer[],
        account_id text[], last_error text[], error_kind text[]
    ) RETURNS jsonb LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
    BEGIN
        RETURN jsonb_build_object(
                   'id', id, 'flow', flow, 'platform', lower(platform::text)::text[],
                   'status', status, 'attempt', attempt, 'account_id', account_id,
                   'last_error', last_error, 'error_kind', error_kind);
    END
    $$;

CREATE FUNCTION beat_changed_fields(fields text[], old jsonb, new jsonb)
    RETURNS SETOF jsonb LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(jsonb_object_agg(field, jsonb_build_array(v.old -> field, v.new -> field)),
                    '{}'::jsonb)
      FROM (SELECT old, new OFFSET 0) AS v, unnest(fields) AS field
     WHERE coalesce(v.old -> field, 'null'::jsonb) IS DISTINCT FROM
           coalesce(v.new -> field, 'null'::jsonb)
    $$;

UPDATE alembic_version SET version_num='0007' WHERE alembic_version.version_num = '0006';

-- Running upgrade 0007 -> 0008

ALTER TABLE scrape_request_log ADD COLUMN checkpoint jsonb;

UPDATE alembic_version SET version_num='0008' WHERE alembic_version.version_num = '0007';

-- Running upgrade 0008 -> 0009

CREATE TABLE instagram_account (
        id                      bigserial PRIMARY KEY,
        profile_id              text        NOT NULL UNIQUE,
        graph_id                text,
        handle                  text        NOT NULL,
        full_name               text,
        biography               text,
        website                 text,
        followers               bigint,
        following               bigint,
        media_count             bigint,
        avg_likes               double precision,
        avg_comments            double precision,
        avg_reach               double precision,
        avg_engagement          double precision,
        avg_reels_plays         double precision,
        averages_posts          integer,
        averages_source         text,
        profile_pic_url         text,
        profile_type            text,
        is_private              boolean,
        is_verified             boolean,
        is_business_or_creator  boolean,
        category                text,
        fbid                    text,
        insights                jsonb,
        insights_source         text,
        insights_at             timestamptz,
        audience                jsonb,
        audience_source         text,
        audience_at             timestamptz,
        source                  text,
        metric_sources          jsonb       NOT NULL DEFAULT '{}'::jsonb,
        created_at              timestamptz NOT NULL DEFAULT now(),
        updated_at              timestamptz NOT NULL DEFAULT now(),
        refreshed_at            timestamptz
    );

CREATE INDEX instagram_account_handle_idx ON instagram_account (lower(handle));

CREATE TABLE instagram_post (
        id              bigserial PRIMARY KEY,
        post_id         text        NOT NULL UNIQUE,
        graph_id        text,
        shortcode       text,
        profile_id      text,
        handle          text,
        post_type       text,
        caption         text,
        permalink       text,
        thumbnail_url   text,
        display_url     text,
        likes           bigint,
        comments        bigint,
        plays           bigint,
        views           bigint,
        reach           bigint,
        impressions     bigint,
        shares          bigint,
        saved           bigint,
        children        integer,
        insights        jsonb,
        publish_time    timestamptz,
        expires_at      timestamptz,
        source          text,
        metric_sources  jsonb       NOT NULL DEFAULT '{}'::jsonb,
        created_at      timestamptz NOT NULL DEFAULT now(),
        updated_at      timestamptz NOT NULL DEFAULT now(),
        refreshed_at    timestamptz
    );

CREATE INDEX instagram_post_shortcode_idx ON instagram_post (shortcode);

CREATE INDEX instagram_post_graph_idx ON instagram_post (graph_id);

CREATE INDEX instagram_account_graph_idx ON instagram_account (graph_id);

CREATE INDEX instagram_post_profile_idx ON instagram_post (profile_id, publish_time DESC, id);

CREATE TABLE instagram_comment (
        id              bigserial PRIMARY KEY,
        comment_id      text        NOT NULL UNIQUE,
        post_id         text        NOT NULL,
        text            text,
        author_handle   text,
        author_id       text,
        likes           bigint,
        replies         bigint,
        published_at    timestamptz,
        source          text,
        refreshed_at    timestamptz NOT NULL DEFAULT now()
    );

CREATE INDEX instagram_comment_post_idx ON instagram_comment (post_id, published_at DESC);

CREATE TABLE instagram_relationship (
        profile_id      text        NOT NULL,
        kind            text        NOT NULL CHECK (kind IN ('follower', 'following')),
        user_id         text        NOT NULL,
        handle          text        NOT NULL,
        full_name       text,
        is_private      boolean,
        is_verified     boolean,
        profile_pic_url text,
        source          text,
        first_seen_at   timestamptz NOT NULL DEFAULT now(),
        last_seen_at    timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (profile_id, kind, user_id)
    );

CREATE TABLE instagram_post_liker (
        post_id         text        NOT NULL,
        user_id         text        NOT NULL,
        handle          text        NOT NULL,
        full_name       text,
        is_private      boolean,
        is_verified     boolean,
        source          text,
        first_seen_at   timestamptz NOT NULL DEFAULT now(),
        last_seen_at    timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (post_id, user_id)
    );

CREATE TABLE instagram_post_link (
        kind            text        NOT NULL CHECK (kind IN ('hashtag', 'tagged')),
        key             text        NOT NULL,
        post_id         text        NOT NULL,
        source          text,
        first_seen_at   timestamptz NOT NULL DEFAULT now(),
        last_seen_at    timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (kind, key, post_id)
    );

UPDATE alembic_version SET version_num='0009' WHERE alembic_version.version_num = '0008';

-- Running upgrade 0009 -> 0010

CREATE TABLE facebook_page (
        id                   bigserial PRIMARY KEY,
        page_id              text        NOT NULL UNIQUE,
        username             text,
        name                 text,
        link                 text,
        category             text,
        verification_status  text,
        fan_count            bigint,
        followers            bigint,
        talking_about        bigint,
        source               text,
        metric_sources       jsonb       NOT NULL DEFAULT '{}'::jsonb,
        created_at           timestamptz NOT NULL DEFAULT now(),
        updated_at           timestamptz NOT NULL DEFAULT now(),
        refreshed_at         timestamptz
    );

CREATE INDEX facebook_page_username_idx ON facebook_page (lower(username));

CREATE TABLE facebook_post (
        id              bigserial PRIMARY KEY,
        post_id         text        NOT NULL UNIQUE,
        aliases         text[]      NOT NULL DEFAULT '{}',
        post_type       text,
        page_id         text,
        author          text,
        message         text,
        title           text,
        permalink       text,
        likes           bigint,
        comments        bigint,
        shares          bigint,
        views           bigint,
        length_s        double precision,
        publish_time    timestamptz,
        source          text,
        metric_sources  jsonb       NOT NULL DEFAULT '{}'::jsonb,
        created_at      timestamptz NOT NULL DEFAULT now(),
        updated_at      timestamptz NOT NULL DEFAULT now(),
        refreshed_at    timestamptz
    );

CREATE INDEX facebook_post_aliases_idx ON facebook_post USING gin (aliases);

CREATE INDEX facebook_post_page_idx ON facebook_post (page_id, publish_time DESC, id);

UPDATE alembic_version SET version_num='0010' WHERE alembic_version.version_num = '0009';

-- Running upgrade 0010 -> 0011

CREATE TABLE x_account (
        id                  bigserial PRIMARY KEY,
        user_id             text        NOT NULL UNIQUE,
        handle              text        NOT NULL,
        name                text,
        description         text,
        location            text,
        followers           bigint,
        following           bigint,
        tweets              bigint,
        listed              bigint,
        media_count         bigint,
        favourites          bigint,
        verified            boolean,
        blue_verified       boolean,
        protected           boolean,
        profile_image_url   text,
        account_created_at  timestamptz,
        source              text,
        metric_sources      jsonb       NOT NULL DEFAULT '{}'::jsonb,
        created_at          timestamptz NOT NULL DEFAULT now(),
        updated_at          timestamptz NOT NULL DEFAULT now(),
        refreshed_at        timestamptz
    );

CREATE INDEX x_account_handle_idx ON x_account (lower(handle));

CREATE TABLE x_post (
        id               bigserial PRIMARY KEY,
        tweet_id         text        NOT NULL UNIQUE,
        user_id          text,
        handle           text,
        text             text,
        likes            bigint,
        comments         bigint,
        shares           bigint,
        quotes           bigint,
        bookmarks        bigint,
        views            bigint,
        lang             text,
        quoted_tweet_id  text,
        has_video        boolean,
        published_at     timestamptz,
        source           text,
        metric_sources   jsonb       NOT NULL DEFAULT '{}'::jsonb,
        created_at       timestamptz NOT NULL DEFAULT now(),
        updated_at       timestamptz NOT NULL DEFAULT now(),
        refreshed_at     timestamptz
    );

CREATE INDEX x_post_user_idx ON x_post (user_id, published_at);

UPDATE alembic_version SET version_num='0011' WHERE alembic_version.version_num = '0010';

-- Running upgrade 0011 -> 0012

ALTER TABLE facebook_page ADD COLUMN picture_url text;

ALTER TABLE facebook_post ADD COLUMN thumbnail_url text;

ALTER TABLE x_post ADD COLUMN thumbnail_url text;

UPDATE alembic_version SET version_num='0012' WHERE alembic_version.version_num = '0011';

-- Running upgrade 0012 -> 0013

CREATE TABLE watchlist (
        id           bigserial   PRIMARY KEY,
        name         text        NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
        description  text,
        created_at   timestamptz NOT NULL DEFAULT now()
    );

CREATE TABLE watchlist_item (
        watchlist_id bigint      NOT NULL REFERENCES watchlist (id) ON DELETE CASCADE,
        platform     text        NOT NULL,
        kind         text        NOT NULL,
        item_id      text        NOT NULL,
        importance   double precision NOT NULL DEFAULT 1 CHECK (importance > 0),
        max_age_s    integer     NOT NULL CHECK (max_age_s > 0),
        added_at     timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (watchlist_id, platform, kind, item_id)
    );

CREATE INDEX watchlist_item_platform_idx ON watchlist_item (platform, kind, item_id);

UPDATE alembic_version SET version_num='0013' WHERE alembic_version.version_num = '0012';

-- Running upgrade 0013 -> 0014

CREATE TABLE asset_log (
        id              bigserial   PRIMARY KEY,
        source_url      text        NOT NULL,
        final_url       text,
        platform        text,
        entity_kind     text,
        entity_id       text,
        key             text,
        url             text,
        bytes           bigint,
        source_bytes    bigint,
        width           integer,
        height          integer,
        content_type    text,
        sha256          text,
        status          text        NOT NULL,
        created         boolean,
        error           text,
        error_kind      text,
        task_id         bigint,
        created_at      timestamptz NOT NULL DEFAULT now(),
        updated_at      timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT asset_log_status_check CHECK (status IN ('STORED', 'FAILED'))
    );

CREATE INDEX asset_log_sha256_idx ON asset_log (sha256) WHERE sha256 IS NOT NULL;

CREATE INDEX asset_log_entity_idx ON asset_log (platform, entity_kind, entity_id);

CREATE INDEX asset_log_created_idx ON asset_log (created_at);

ALTER TABLE youtube_account ADD COLUMN asset_url text;

ALTER TABLE youtube_post ADD COLUMN asset_url text;

ALTER TABLE instagram_account ADD COLUMN asset_url text;

ALTER TABLE instagram_post ADD COLUMN asset_url text;

ALTER TABLE facebook_page ADD COLUMN asset_url text;

ALTER TABLE facebook_post ADD COLUMN asset_url text;

ALTER TABLE x_account ADD COLUMN asset_url text;

ALTER TABLE x_post ADD COLUMN asset_url text;

UPDATE alembic_version SET version_num='0014' WHERE alembic_version.version_num = '0013';

-- Running upgrade 0014 -> 0015

COMMIT;

CREATE INDEX CONCURRENTLY IF NOT EXISTS scrape_request_log_failed_idx ON scrape_request_log (scraped_at DESC NULLS LAST, id DESC) WHERE status IN ('FAILED', 'TIMEOUT');

BEGIN;

UPDATE alembic_version SET version_num='0015' WHERE alembic_version.version_num = '0014';

-- Running upgrade 0015 -> 0016

CREATE TABLE youtube_channel_daily (
        channel_id                  text        NOT NULL,
        day                         date        NOT NULL,
        views                       bigint,
        estimated_minutes_watched   bigint,
        average_view_duration_s     integer,
        subscribers_gained          bigint,
        subscribers_lost            bigint,
        likes                       bigint,
        comments                    bigint,
        shares                      bigint,
        source                      text        NOT NULL,
        refreshed_at                timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (channel_id, day)
    );

CREATE TABLE youtube_channel_audience (
        channel_id          text        NOT NULL,
        start_date          date        NOT NULL,
        end_date            date        NOT NULL,
        age_group           text        NOT NULL,
        gender              text        NOT NULL,
        viewer_percentage   double precision NOT NULL,
        source              text        NOT NULL,
        refreshed_at        timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (channel_id, start_date, end_date, age_group, gender)
    );

CREATE TABLE youtube_channel_country (
        channel_id                  text        NOT NULL,
        start_date                  date        NOT NULL,
        end_date                    date        NOT NULL,
        country                     text        NOT NULL,
        views                       bigint,
        estimated_minutes_watched   bigint,
        viewer_percentage           double precision,
        source                      text        NOT NULL,
        refreshed_at                timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (channel_id, start_date, end_date, country)
    );

ALTER TABLE youtube_account ADD COLUMN views_28d bigint;

ALTER TABLE youtube_account ADD COLUMN watch_minutes_28d bigint;

ALTER TABLE youtube_account ADD COLUMN avg_view_duration_s integer;

ALTER TABLE youtube_account ADD COLUMN subscribers_net_28d bigint;

ALTER TABLE youtube_account ADD COLUMN insights_sources jsonb NOT NULL DEFAULT '{}'::jsonb;

UPDATE alembic_version SET version_num='0016' WHERE alembic_version.version_num = '0015';

-- Running upgrade 0016 -> 0017

CREATE TABLE gpt_enrichment (
        id              bigserial   PRIMARY KEY,
        platform        text        NOT NULL,
        profile_id      text        NOT NULL,
        handle          text        NOT NULL,
        aspect          text        NOT NULL,
        flow            text        NOT NULL,
        prompt_name     text        NOT NULL,
        prompt_version  text        NOT NULL,
        model           text        NOT NULL,
        result          jsonb       NOT NULL,
        tokens_in       integer     NOT NULL,
        tokens_out      integer     NOT NULL,
        cost_usd        numeric(14, 8) NOT NULL,
        calls           integer     NOT NULL,
        task_id         bigint,
        created_at      timestamptz NOT NULL DEFAULT now(),
        updated_at      timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT gpt_enrichment_run_key
            UNIQUE (platform, profile_id, prompt_name, prompt_version, model)
    );

CREATE INDEX gpt_enrichment_profile_idx
        ON gpt_enrichment (platform, profile_id, aspect, updated_at DESC);

CREATE TABLE comment_sentiment (
        platform        text        NOT NULL,
        comment_id      text        NOT NULL,
        post_id         text        NOT NULL,
        method          text        NOT NULL,
        compound        double precision NOT NULL,
        positive        double precision,
        neutral         double precision,
        negative        double precision,
        label           text        NOT NULL
                        CHECK (label IN ('positive', 'neutral', 'negative')),
        created_at      timestamptz NOT NULL DEFAULT now(),
        updated_at      timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (platform, comment_id, method)
    );

CREATE INDEX comment_sentiment_post_idx ON comment_sentiment (platform, post_id, method);

CREATE TABLE sentiment_log (
        id              bigserial   PRIMARY KEY,
        platform        text        NOT NULL,
        post_id         text        NOT NULL,
        method          text        NOT NULL,
        comments        integer     NOT NULL,
        positive        integer     NOT NULL,
        neutral         integer     NOT NULL,
        negative        integer     NOT NULL,
        compound_mean   double precision,
        keywords        jsonb       NOT NULL DEFAULT '[]'::jsonb,
        created_at      timestamptz NOT NULL DEFAULT now(),
        updated_at      timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT sentiment_log_post_key UNIQUE (platform, post_id, method)
    );

UPDATE alembic_version SET version_num='0017' WHERE alembic_version.version_num = '0016';

-- Running upgrade 0017 -> 0018

ALTER TABLE youtube_comment ADD COLUMN parent_id text;

CREATE INDEX youtube_comment_parent_idx ON youtube_comment (parent_id) WHERE parent_id IS NOT NULL;

UPDATE alembic_version SET version_num='0018' WHERE alembic_version.version_num = '0017';

-- Running upgrade 0018 -> 0019

ALTER TABLE profile_log RENAME TO profile_log_moving;

ALTER SEQUENCE profile_log_id_seq RENAME TO profile_log_moving_id_seq;

ALTER INDEX profile_log_pkey RENAME TO profile_log_moving_pkey;

ALTER INDEX profile_log_profile_idx RENAME TO profile_log_profile_idx_moving;

CREATE TABLE profile_log (
        id          bigserial   NOT NULL,
        platform    text        NOT NULL,
        profile_id  text        NOT NULL,
        dimensions  jsonb       NOT NULL DEFAULT '{}'::jsonb,
        metrics     jsonb       NOT NULL DEFAULT '{}'::jsonb,
        source      text,
        timestamp   timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (id, timestamp)
    ) PARTITION BY RANGE (timestamp);

CREATE TABLE profile_log_default PARTITION OF profile_log DEFAULT;

CREATE INDEX profile_log_profile_idx ON profile_log (platform, profile_id, timestamp);

INSERT INTO profile_log (id, platform, profile_id, dimensions, metrics, source, timestamp) SELECT id, platform, profile_id, dimensions, metrics, source, timestamp FROM profile_log_moving;

SELECT setval('profile_log_id_seq', coalesce((SELECT max(id) FROM profile_log), 0) + 1, false);

DROP TABLE profile_log_moving;

ALTER TABLE post_log RENAME TO post_log_moving;

ALTER SEQUENCE post_log_id_seq RENAME TO post_log_moving_id_seq;

ALTER INDEX post_log_pkey RENAME TO post_log_moving_pkey;

ALTER INDEX post_log_post_idx RENAME TO post_log_post_idx_moving;

CREATE TABLE post_log (
        id          bigserial   NOT NULL,
        platform    text        NOT NULL,
        post_id     text        NOT NULL,
        profile_id  text,
        dimensions  jsonb       NOT NULL DEFAULT '{}'::jsonb,
        metrics     jsonb       NOT NULL DEFAULT '{}'::jsonb,
        source      text,
        timestamp   timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (id, timestamp)
    ) PARTITION BY RANGE (timestamp);

CREATE TABLE post_log_default PARTITION OF post_log DEFAULT;

CREATE INDEX post_log_post_idx ON post_log (platform, post_id, timestamp);

INSERT INTO post_log (id, platform, post_id, profile_id, dimensions, metrics, source, timestamp) SELECT id, platform, post_id, profile_id, dimensions, metrics, source, timestamp FROM post_log_moving;

SELECT setval('post_log_id_seq', coalesce((SELECT max(id) FROM post_log), 0) + 1, false);

DROP TABLE post_log_moving;

UPDATE alembic_version SET version_num='0019' WHERE alembic_version.version_num = '0018';

-- Running upgrade 0019 -> 0020

CREATE TABLE leaderboard_platform (
        platform          text PRIMARY KEY,
        followers_metric  text NOT NULL
    );

CREATE TABLE leaderboard_refreshed (refreshed_at timestamptz NOT NULL);

CREATE MATERIALIZED VIEW leaderboard AS
WITH snapshots AS (
    SELECT l.platform, l.profile_id, l.timestamp, l.dimensions,
           (l.metrics ->> m.followers_metric)::float8 AS followers
      FROM profile_log l JOIN leaderboard_platform m USING (platform)
     WHERE l.timestamp > now() - interval '60 days' AND l.metrics ? m.followers_metric
), profiles AS (
    SELECT platform, profile_id,
           (array_agg(dimensions ORDER BY timestamp DESC))[1] AS dimensions,
           (array_agg(followers ORDER BY timestamp DESC))[1] AS followers,
           (array_agg(followers ORDER BY timestamp DESC)
               FILTER (WHERE timestamp <= now() - interval '7 days'))[1] AS followers_before,
           (array_agg(followers ORDER BY timestamp DESC)
               FILTER (WHERE timestamp <= now() - interval '14 days'))[1] AS followers_earlier
      FROM snapshots GROUP BY platform, profile_id
), posts AS (
    SELECT DISTINCT ON (platform, post_id, timestamp > now() - interval '7 days')
           platform, profile_id, timestamp > now() - interval '7 days' AS recent,
           (metrics ->> 'likes')::float8 AS likes, (metrics ->> 'comments')::float8 AS comments
      FROM post_log
     WHERE timestamp > now() - interval '14 days' AND profile_id IS NOT NULL
       AND (metrics ? 'likes' OR metrics ? 'comments')
     ORDER BY platform, post_id, timestamp > now() - interval '7 days', timestamp DESC
), engagement AS (
    SELECT platform, profile_id,
           avg(coalesce(likes, 0) + coalesce(comments, 0)) FILTER (WHERE recent) AS recent,
           avg(coalesce(likes, 0) + coalesce(comments, 0)) FILTER (WHERE NOT recent) AS before
      FROM posts GROUP BY platform, profile_id
), measures AS (
    SELECT p.platform, p.profile_id, p.dimensions ->> 'handle' AS handle,
           nullif(p.dimensions ->> 'category', '') AS category,
           nullif(p.dimensions ->> 'language', '') AS language,
           p.followers, p.followers_before,
           round((100 * e.recent / nullif(p.followers, 0))::numeric, 4)::float8
               AS engagement_rate,
           round((100 * e.before / nullif(p.followers_before, 0))::numeric, 4)::float8
               AS engagement_rate_before,
           p.followers - p.followers_before AS growth,
           p.followers_before - p.followers_earlier AS growth_before
      FROM profiles p LEFT JOIN engagement e USING (platform, profile_id)
)
SELECT measures.*,
           CASE WHEN followers IS NOT NULL THEN rank() OVER (PARTITION BY platform, (followers IS NULL) ORDER BY followers DESC) END AS followers_rank_p,
           CASE WHEN followers_before IS NOT NULL THEN rank() OVER (PARTITION BY platform, (followers_before IS NULL) ORDER BY followers_before DESC) END AS followers_before_rank_p,
           CASE WHEN followers IS NOT NULL THEN rank() OVER (PARTITION BY platform, category, (followers IS NULL) ORDER BY followers DESC) END AS followers_rank_pc,
           CASE WHEN followers_before IS NOT NULL THEN rank() OVER (PARTITION BY platform, category, (followers_before IS NULL) ORDER BY followers_before DESC) END AS followers_before_rank_pc,
           CASE WHEN followers IS NOT NULL THEN rank() OVER (PARTITION BY platform, language, (followers IS NULL) ORDER BY followers DESC) END AS followers_rank_pl,
           CASE WHEN followers_before IS NOT NULL THEN rank() OVER (PARTITION BY platform, language, (followers_before IS NULL) ORDER BY followers_before DESC) END AS followers_before_rank_pl,
           CASE WHEN followers IS NOT NULL THEN rank() OVER (PARTITION BY platform, category, language, (followers IS NULL) ORDER BY followers DESC) END AS followers_rank_pcl,
           CASE WHEN followers_before IS NOT NULL THEN rank() OVER (PARTITION BY platform, category, language, (followers_before IS NULL) ORDER BY followers_before DESC) END AS followers_before_rank_pcl,
           CASE WHEN followers IS NOT NULL THEN rank() OVER (PARTITION BY (followers IS NULL) ORDER BY followers DESC) END AS followers_rank_a,
           CASE WHEN followers_before IS NOT NULL THEN rank() OVER (PARTITION BY (followers_before IS NULL) ORDER BY followers_before DESC) END AS followers_before_rank_a,
           CASE WHEN followers IS NOT NULL THEN rank() OVER (PARTITION BY category, (followers IS NULL) ORDER BY followers DESC) END AS followers_rank_ac,
           CASE WHEN followers_before IS NOT NULL THEN rank() OVER (PARTITION BY category, (followers_before IS NULL) ORDER BY followers_before DESC) END AS followers_before_rank_ac,
           CASE WHEN followers IS NOT NULL THEN rank() OVER (PARTITION BY language, (followers IS NULL) ORDER BY followers DESC) END AS followers_rank_al,
           CASE WHEN followers_before IS NOT NULL THEN rank() OVER (PARTITION BY language, (followers_before IS NULL) ORDER BY followers_before DESC) END AS followers_before_rank_al,
           CASE WHEN followers IS NOT NULL THEN rank() OVER (PARTITION BY category, language, (followers IS NULL) ORDER BY followers DESC) END AS followers_rank_acl,
           CASE WHEN followers_before IS NOT NULL THEN rank() OVER (PARTITION BY category, language, (followers_before IS NULL) ORDER BY followers_before DESC) END AS followers_before_rank_acl,
           CASE WHEN engagement_rate IS NOT NULL THEN rank() OVER (PARTITION BY platform, (engagement_rate IS NULL) ORDER BY engagement_rate DESC) END AS engagement_rate_rank_p,
           CASE WHEN engagement_rate_before IS NOT NULL THEN rank() OVER (PARTITION BY platform, (engagement_rate_before IS NULL) ORDER BY engagement_rate_before DESC) END AS engagement_rate_before_rank_p,
           CASE WHEN engagement_rate IS NOT NULL THEN rank() OVER (PARTITION BY platform, category, (engagement_rate IS NULL) ORDER BY engagement_rate DESC) END AS engagement_rate_rank_pc,
           CASE WHEN engagement_rate_before IS NOT NULL THEN rank() OVER (PARTITION BY platform, category, (engagement_rate_before IS NULL) ORDER BY engagement_rate_before DESC) END AS engagement_rate_before_rank_pc,
           CASE WHEN engagement_rate IS NOT NULL THEN rank() OVER (PARTITION BY platform, language, (engagement_rate IS NULL) ORDER BY engagement_rate DESC) END AS engagement_rate_rank_pl,
           CASE WHEN engagement_rate_before IS NOT NULL THEN rank() OVER (PARTITION BY platform, language, (engagement_rate_before IS NULL) ORDER BY engagement_rate_before DESC) END AS engagement_rate_before_rank_pl,
           CASE WHEN engagement_rate IS NOT NULL THEN rank() OVER (PARTITION BY platform, category, language, (engagement_rate IS NULL) ORDER BY engagement_rate DESC) END AS engagement_rate_rank_pcl,
           CASE WHEN engagement_rate_before IS NOT NULL THEN rank() OVER (PARTITION BY platform, category, language, (engagement_rate_before IS NULL) ORDER BY engagement_rate_before DESC) END AS engagement_rate_before_rank_pcl,
           CASE WHEN engagement_rate IS NOT NULL THEN rank() OVER (PARTITION BY (engagement_rate IS NULL) ORDER BY engagement_rate DESC) END AS engagement_rate_rank_a,
           CASE WHEN engagement_rate_before IS NOT NULL THEN rank() OVER (PARTITION BY (engagement_rate_before IS NULL) ORDER BY engagement_rate_before DESC) END AS engagement_rate_before_rank_a,
           CASE WHEN engagement_rate IS NOT NULL THEN rank() OVER (PARTITION BY category, (engagement_rate IS NULL) ORDER BY engagement_rate DESC) END AS engagement_rate_rank_ac,
           CASE WHEN engagement_rate_before IS NOT NULL THEN rank() OVER (PARTITION BY category, (engagement_rate_before IS NULL) ORDER BY engagement_rate_before DESC) END AS engagement_rate_before_rank_ac,
           CASE WHEN engagement_rate IS NOT NULL THEN rank() OVER (PARTITION BY language, (engagement_rate IS NULL) ORDER BY engagement_rate DESC) END AS engagement_rate_rank_al,
           CASE WHEN engagement_rate_before IS NOT NULL THEN rank() OVER (PARTITION BY language, (engagement_rate_before IS NULL) ORDER BY engagement_rate_before DESC) END AS engagement_rate_before_rank_al,
           CASE WHEN engagement_rate IS NOT NULL THEN rank() OVER (PARTITION BY category, language, (engagement_rate IS NULL) ORDER BY engagement_rate DESC) END AS engagement_rate_rank_acl,
           CASE WHEN engagement_rate_before IS NOT NULL THEN rank() OVER (PARTITION BY category, language, (engagement_rate_before IS NULL) ORDER BY engagement_rate_before DESC) END AS engagement_rate_before_rank_acl,
           CASE WHEN growth IS NOT NULL THEN rank() OVER (PARTITION BY platform, (growth IS NULL) ORDER BY growth DESC) END AS growth_rank_p,
           CASE WHEN growth_before IS NOT NULL THEN rank() OVER (PARTITION BY platform, (growth_before IS NULL) ORDER BY growth_before DESC) END AS growth_before_rank_p,
           CASE WHEN growth IS NOT NULL THEN rank() OVER (PARTITION BY platform, category, (growth IS NULL) ORDER BY growth DESC) END AS growth_rank_pc,
           CASE WHEN growth_before IS NOT NULL THEN rank() OVER (PARTITION BY platform, category, (growth_before IS NULL) ORDER BY growth_before DESC) END AS growth_before_rank_pc,
           CASE WHEN growth IS NOT NULL THEN rank() OVER (PARTITION BY platform, language, (growth IS NULL) ORDER BY growth DESC) END AS growth_rank_pl,
           CASE WHEN growth_before IS NOT NULL THEN rank() OVER (PARTITION BY platform, language, (growth_before IS NULL) ORDER BY growth_before DESC) END AS growth_before_rank_pl,
           CASE WHEN growth IS NOT NULL THEN rank() OVER (PARTITION BY platform, category, language, (growth IS NULL) ORDER BY growth DESC) END AS growth_rank_pcl,
           CASE WHEN growth_before IS NOT NULL THEN rank() OVER (PARTITION BY platform, category, language, (growth_before IS NULL) ORDER BY growth_before DESC) END AS growth_before_rank_pcl,
           CASE WHEN growth IS NOT NULL THEN rank() OVER (PARTITION BY (growth IS NULL) ORDER BY growth DESC) END AS growth_rank_a,
           CASE WHEN growth_before IS NOT NULL THEN rank() OVER (PARTITION BY (growth_before IS NULL) ORDER BY growth_before DESC) END AS growth_before_rank_a,
           CASE WHEN growth IS NOT NULL THEN rank() OVER (PARTITION BY category, (growth IS NULL) ORDER BY growth DESC) END AS growth_rank_ac,
           CASE WHEN growth_before IS NOT NULL THEN rank() OVER (PARTITION BY category, (growth_before IS NULL) ORDER BY growth_before DESC) END AS growth_before_rank_ac,
           CASE WHEN growth IS NOT NULL THEN rank() OVER (PARTITION BY language, (growth IS NULL) ORDER BY growth DESC) END AS growth_rank_al,
           CASE WHEN growth_before IS NOT NULL THEN rank() OVER (PARTITION BY language, (growth_before IS NULL) ORDER BY growth_before DESC) END AS growth_before_rank_al,
           CASE WHEN growth IS NOT NULL THEN rank() OVER (PARTITION BY category, language, (growth IS NULL) ORDER BY growth DESC) END AS growth_rank_acl,
           CASE WHEN growth_before IS NOT NULL THEN rank() OVER (PARTITION BY category, language, (growth_before IS NULL) ORDER BY growth_before DESC) END AS growth_before_rank_acl
  FROM measures
WITH NO DATA;

CREATE UNIQUE INDEX leaderboard_profile_idx ON leaderboard (platform, profile_id);

CREATE INDEX leaderboard_followers_p_idx ON leaderboard (platform, followers_rank_p, profile_id);

CREATE INDEX leaderboard_followers_pc_idx ON leaderboard (platform, category, followers_rank_pc, profile_id);

CREATE INDEX leaderboard_followers_pl_idx ON leaderboard (platform, language, followers_rank_pl, profile_id);

CREATE INDEX leaderboard_followers_pcl_idx ON leaderboard (platform, category, language, followers_rank_pcl, profile_id);

CREATE INDEX leaderboard_followers_a_idx ON leaderboard (followers_rank_a, platform, profile_id);

CREATE INDEX leaderboard_followers_ac_idx ON leaderboard (category, followers_rank_ac, platform, profile_id);

CREATE INDEX leaderboard_followers_al_idx ON leaderboard (language, followers_rank_al, platform, profile_id);

CREATE INDEX leaderboard_followers_acl_idx ON leaderboard (category, language, followers_rank_acl, platform, profile_id);

CREATE INDEX leaderboard_engagement_rate_p_idx ON leaderboard (platform, engagement_rate_rank_p, profile_id);

CREATE INDEX leaderboard_engagement_rate_pc_idx ON leaderboard (platform, category, engagement_rate_rank_pc, profile_id);

CREATE INDEX leaderboard_engagement_rate_pl_idx ON leaderboard (platform, language, engagement_rate_rank_pl, profile_id);

CREATE INDEX leaderboard_engagement_rate_pcl_idx ON leaderboard (platform, category, language, engagement_rate_rank_pcl, profile_id);

CREATE INDEX leaderboard_engagement_rate_a_idx ON leaderboard (engagement_rate_rank_a, platform, profile_id);

CREATE INDEX leaderboard_engagement_rate_ac_idx ON leaderboard (category, engagement_rate_rank_ac, platform, profile_id);

CREATE INDEX leaderboard_engagement_rate_al_idx ON leaderboard (language, engagement_rate_rank_al, platform, profile_id);

CREATE INDEX leaderboard_engagement_rate_acl_idx ON leaderboard (category, language, engagement_rate_rank_acl, platform, profile_id);

CREATE INDEX leaderboard_growth_p_idx ON leaderboard (platform, growth_rank_p, profile_id);

CREATE INDEX leaderboard_growth_pc_idx ON leaderboard (platform, category, growth_rank_pc, profile_id);

CREATE INDEX leaderboard_growth_pl_idx ON leaderboard (platform, language, growth_rank_pl, profile_id);

CREATE INDEX leaderboard_growth_pcl_idx ON leaderboard (platform, category, language, growth_rank_pcl, profile_id);

CREATE INDEX leaderboard_growth_a_idx ON leaderboard (growth_rank_a, platform, profile_id);

CREATE INDEX leaderboard_growth_ac_idx ON leaderboard (category, growth_rank_ac, platform, profile_id);

CREATE INDEX leaderboard_growth_al_idx ON leaderboard (language, growth_rank_al, platform, profile_id);

CREATE INDEX leaderboard_growth_acl_idx ON leaderboard (category, language, growth_rank_acl, platform, profile_id);

UPDATE alembic_version SET version_num='0020' WHERE alembic_version.version_num = '0019';

-- Running upgrade 0020 -> 0021

CREATE TABLE watch_item_state (
        platform     text        NOT NULL,
        kind         text        NOT NULL,
        item_id      text        NOT NULL,
        task_id      bigint,
        refreshed_at timestamptz,
        failures     integer     NOT NULL DEFAULT 0 CHECK (failures >= 0),
        retry_at     timestamptz,
        failed_at    timestamptz,
        error_kind   text,
        last_error   text,
        PRIMARY KEY (platform, kind, item_id)
    );

CREATE INDEX watch_item_state_task_idx ON watch_item_state (task_id) WHERE task_id IS NOT NULL;

UPDATE alembic_version SET version_num='0021' WHERE alembic_version.version_num = '0020';

-- Running upgrade 0021 -> 0022

ALTER TABLE credential ADD COLUMN usage jsonb;

UPDATE alembic_version SET version_num='0022' WHERE alembic_version.version_num = '0021';

-- Running upgrade 0022 -> 0023

CREATE TABLE profile_daily (
        platform    text        NOT NULL,
        profile_id  text        NOT NULL,
        day         date        NOT NULL,
        followers   float8      NOT NULL,
        handle      text,
        category    text,
        language    text,
        PRIMARY KEY (platform, profile_id, day)
    );

CREATE INDEX profile_daily_day_idx ON profile_daily (day);

CREATE TABLE post_daily (
        platform      text      NOT NULL,
        post_id       text      NOT NULL,
        day           date      NOT NULL,
        profile_id    text      NOT NULL,
        interactions  float8    NOT NULL,
        PRIMARY KEY (platform, post_id, day)
    );

CREATE INDEX post_daily_day_idx ON post_daily (day);

CREATE TABLE leaderboard_rollup (rolled_until timestamptz NOT NULL);

CREATE TABLE leaderboard_label (
        platform    text        NOT NULL,
        profile_id  text        NOT NULL,
        source      text        NOT NULL,
        category    text,
        language    text,
        PRIMARY KEY (platform, profile_id)
    );

CREATE INDEX profile_log_time_brin ON profile_log USING brin (timestamp);

CREATE INDEX post_log_time_brin ON post_log USING brin (timestamp);

DROP MATERIALIZED VIEW leaderboard;

DELETE FROM leaderboard_refreshed;

CREATE MATERIALIZED VIEW leaderboard AS
WITH profiles AS (
    SELECT platform, profile_id,
           max(ARRAY[(day - DATE '2000-01-01')::float8, followers]) AS latest,
           max(ARRAY[(day - DATE '2000-01-01')::float8, followers]) FILTER (WHERE day <= (now() AT TIME ZONE 'UTC')::date - 7) AS before,
           max(ARRAY[(day - DATE '2000-01-01')::float8, followers]) FILTER (WHERE day <= (now() AT TIME ZONE 'UTC')::date - 14) AS earlier,
           max(ARRAY[day::text, handle]) AS handle,
           max(ARRAY[day::text, category]) AS category,
           max(ARRAY[day::text, language]) AS language
      FROM profile_daily
     WHERE day > (now() AT TIME ZONE 'UTC')::date - 60
     GROUP BY platform, profile_id
), posts AS (
    SELECT platform, profile_id, day > (now() AT TIME ZONE 'UTC')::date - 7 AS recent,
           (max(ARRAY[(day - DATE '2000-01-01')::float8, interactions]))[2] AS interactions
      FROM post_daily
     WHERE day > (now() AT TIME ZONE 'UTC')::date - 14
     GROUP BY platform, post_id, profile_id, day > (now() AT TIME ZONE 'UTC')::date - 7
), engagement AS (
    SELECT platform, profile_id,
           avg(interactions) FILTER (WHERE recent) AS recent,
           avg(interactions) FILTER (WHERE NOT recent) AS before
      FROM posts GROUP BY platform, profile_id
), measures AS MATERIALIZED (
    SELECT p.platform, p.profile_id, p.handle[2] AS handle,
           coalesce(p.category[2], l.category) AS category,
           coalesce(p.language[2], l.language) AS language,
           p.latest[2] AS followers, p.before[2] AS followers_before,
           round((100 * e.recent / nullif(p.latest[2], 0))::numeric, 4)::float8
               AS engagement_rate,
           round((100 * e.before / nullif(p.before[2], 0))::numeric, 4)::float8
               AS engagement_rate_before,
           p.latest[2] - p.before[2] AS growth,
           p.before[2] - p.earlier[2] AS growth_before
      FROM profiles p
      LEFT JOIN engagement e USING (platform, profile_id)
      LEFT JOIN leaderboard_label l USING (platform, profile_id)
)
SELECT measures.*,
           CASE WHEN followers IS NOT NULL THEN rank() OVER (PARTITION BY platform ORDER BY followers DESC NULLS LAST) END AS followers_rank_p,
           CASE WHEN followers_before IS NOT NULL THEN rank() OVER (PARTITION BY platform ORDER BY followers_before DESC NULLS LAST) END AS followers_before_rank_p,
           CASE WHEN followers IS NOT NULL THEN rank() OVER (PARTITION BY platform, category ORDER BY followers DESC NULLS LAST) END AS followers_rank_pc,
           CASE WHEN followers_before IS NOT NULL THEN rank() OVER (PARTITION BY platform, category ORDER BY followers_before DESC NULLS LAST) END AS followers_before_rank_pc,
           CASE WHEN followers IS NOT NULL THEN rank() OVER (PARTITION BY platform, language ORDER BY followers DESC NULLS LAST) END AS followers_rank_pl,
           CASE WHEN followers_before IS NOT NULL THEN rank() OVER (PARTITION BY platform, language ORDER BY followers_before DESC NULLS LAST) END AS followers_before_rank_pl,
           CASE WHEN followers IS NOT NULL THEN rank() OVER (PARTITION BY platform, category, language ORDER BY followers DESC NULLS LAST) END AS followers_rank_pcl,
           CASE WHEN followers_before IS NOT NULL THEN rank() OVER (PARTITION BY platform, category, language ORDER BY followers_before DESC NULLS LAST) END AS followers_before_rank_pcl,
           CASE WHEN followers IS NOT NULL THEN rank() OVER (ORDER BY followers DESC NULLS LAST) END AS followers_rank_a,
           CASE WHEN followers_before IS NOT NULL THEN rank() OVER (ORDER BY followers_before DESC NULLS LAST) END AS followers_before_rank_a,
           CASE WHEN followers IS NOT NULL THEN rank() OVER (PARTITION BY category ORDER BY followers DESC NULLS LAST) END AS followers_rank_ac,
           CASE WHEN followers_before IS NOT NULL THEN rank() OVER (PARTITION BY category ORDER BY followers_before DESC NULLS LAST) END AS followers_before_rank_ac,
           CASE WHEN followers IS NOT NULL THEN rank() OVER (PARTITION BY language ORDER BY followers DESC NULLS LAST) END AS followers_rank_al,
           CASE WHEN followers_before IS NOT NULL THEN rank() OVER (PARTITION BY language ORDER BY followers_before DESC NULLS LAST) END AS followers_before_rank_al,
           CASE WHEN followers IS NOT NULL THEN rank() OVER (PARTITION BY category, language ORDER BY followers DESC NULLS LAST) END AS followers_rank_acl,
           CASE WHEN followers_before IS NOT NULL THEN rank() OVER (PARTITION BY category, language ORDER BY followers_before DESC NULLS LAST) END AS followers_before_rank_acl,
           CASE WHEN engagement_rate IS NOT NULL THEN rank() OVER (PARTITION BY platform ORDER BY engagement_rate DESC NULLS LAST) END AS engagement_rate_rank_p,
           CASE WHEN engagement_rate_before IS NOT NULL THEN rank() OVER (PARTITION BY platform ORDER BY engagement_rate_before DESC NULLS LAST) END AS engagement_rate_before_rank_p,
           CASE WHEN engagement_rate IS NOT NULL THEN rank() OVER (PARTITION BY platform, category ORDER BY engagement_rate DESC NULLS LAST) END AS engagement_rate_rank_pc,
           CASE WHEN engagement_rate_before IS NOT NULL THEN rank() OVER (PARTITION BY platform, category ORDER BY engagement_rate_before DESC NULLS LAST) END AS engagement_rate_before_rank_pc,
           CASE WHEN engagement_rate IS NOT NULL THEN rank() OVER (PARTITION BY platform, language ORDER BY engagement_rate DESC NULLS LAST) END AS engagement_rate_rank_pl,
           CASE WHEN engagement_rate_before IS NOT NULL THEN rank() OVER (PARTITION BY platform, language ORDER BY engagement_rate_before DESC NULLS LAST) END AS engagement_rate_before_rank_pl,
           CASE WHEN engagement_rate IS NOT NULL THEN rank() OVER (PARTITION BY platform, category, language ORDER BY engagement_rate DESC NULLS LAST) END AS engagement_rate_rank_pcl,
           CASE WHEN engagement_rate_before IS NOT NULL THEN rank() OVER (PARTITION BY platform, category, language ORDER BY engagement_rate_before DESC NULLS LAST) END AS engagement_rate_before_rank_pcl,
           CASE WHEN engagement_rate IS NOT NULL THEN rank() OVER (ORDER BY engagement_rate DESC NULLS LAST) END AS engagement_rate_rank_a,
           CASE WHEN engagement_rate_before IS NOT NULL THEN rank() OVER (ORDER BY engagement_rate_before DESC NULLS LAST) END AS engagement_rate_before_rank_a,
           CASE WHEN engagement_rate IS NOT NULL THEN rank() OVER (PARTITION BY category ORDER BY engagement_rate DESC NULLS LAST) END AS engagement_rate_rank_ac,
           CASE WHEN engagement_rate_before IS NOT NULL THEN rank() OVER (PARTITION BY category ORDER BY engagement_rate_before DESC NULLS LAST) END AS engagement_rate_before_rank_ac,
           CASE WHEN engagement_rate IS NOT NULL THEN rank() OVER (PARTITION BY language ORDER BY engagement_rate DESC NULLS LAST) END AS engagement_rate_rank_al,
           CASE WHEN engagement_rate_before IS NOT NULL THEN rank() OVER (PARTITION BY language ORDER BY engagement_rate_before DESC NULLS LAST) END AS engagement_rate_before_rank_al,
           CASE WHEN engagement_rate IS NOT NULL THEN rank() OVER (PARTITION BY category, language ORDER BY engagement_rate DESC NULLS LAST) END AS engagement_rate_rank_acl,
           CASE WHEN engagement_rate_before IS NOT NULL THEN rank() OVER (PARTITION BY category, language ORDER BY engagement_rate_before DESC NULLS LAST) END AS engagement_rate_before_rank_acl,
           CASE WHEN growth IS NOT NULL THEN rank() OVER (PARTITION BY platform ORDER BY growth DESC NULLS LAST) END AS growth_rank_p,
           CASE WHEN growth_before IS NOT NULL THEN rank() OVER (PARTITION BY platform ORDER BY growth_before DESC NULLS LAST) END AS growth_before_rank_p,
           CASE WHEN growth IS NOT NULL THEN rank() OVER (PARTITION BY platform, category ORDER BY growth DESC NULLS LAST) END AS growth_rank_pc,
           CASE WHEN growth_before IS NOT NULL THEN rank() OVER (PARTITION BY platform, category ORDER BY growth_before DESC NULLS LAST) END AS growth_before_rank_pc,
           CASE WHEN growth IS NOT NULL THEN rank() OVER (PARTITION BY platform, language ORDER BY growth DESC NULLS LAST) END AS growth_rank_pl,
           CASE WHEN growth_before IS NOT NULL THEN rank() OVER (PARTITION BY platform, language ORDER BY growth_before DESC NULLS LAST) END AS growth_before_rank_pl,
           CASE WHEN growth IS NOT NULL THEN rank() OVER (PARTITION BY platform, category, language ORDER BY growth DESC NULLS LAST) END AS growth_rank_pcl,
           CASE WHEN growth_before IS NOT NULL THEN rank() OVER (PARTITION BY platform, category, language ORDER BY growth_before DESC NULLS LAST) END AS growth_before_rank_pcl,
           CASE WHEN growth IS NOT NULL THEN rank() OVER (ORDER BY growth DESC NULLS LAST) END AS growth_rank_a,
           CASE WHEN growth_before IS NOT NULL THEN rank() OVER (ORDER BY growth_before DESC NULLS LAST) END AS growth_before_rank_a,
           CASE WHEN growth IS NOT NULL THEN rank() OVER (PARTITION BY category ORDER BY growth DESC NULLS LAST) END AS growth_rank_ac,
           CASE WHEN growth_before IS NOT NULL THEN rank() OVER (PARTITION BY category ORDER BY growth_before DESC NULLS LAST) END AS growth_before_rank_ac,
           CASE WHEN growth IS NOT NULL THEN rank() OVER (PARTITION BY language ORDER BY growth DESC NULLS LAST) END AS growth_rank_al,
           CASE WHEN growth_before IS NOT NULL THEN rank() OVER (PARTITION BY language ORDER BY growth_before DESC NULLS LAST) END AS growth_before_rank_al,
           CASE WHEN growth IS NOT NULL THEN rank() OVER (PARTITION BY category, language ORDER BY growth DESC NULLS LAST) END AS growth_rank_acl,
           CASE WHEN growth_before IS NOT NULL THEN rank() OVER (PARTITION BY category, language ORDER BY growth_before DESC NULLS LAST) END AS growth_before_rank_acl
  FROM measures
WITH NO DATA;

CREATE UNIQUE INDEX leaderboard_profile_idx ON leaderboard (platform, profile_id);

CREATE INDEX leaderboard_followers_p_idx ON leaderboard (platform, followers_rank_p, profile_id);

CREATE INDEX leaderboard_followers_pc_idx ON leaderboard (platform, category, followers_rank_pc, profile_id);

CREATE INDEX leaderboard_followers_pl_idx ON leaderboard (platform, language, followers_rank_pl, profile_id);

CREATE INDEX leaderboard_followers_pcl_idx ON leaderboard (platform, category, language, followers_rank_pcl, profile_id);

CREATE INDEX leaderboard_followers_a_idx ON leaderboard (followers_rank_a, platform, profile_id);

CREATE INDEX leaderboard_followers_ac_idx ON leaderboard (category, followers_rank_ac, platform, profile_id);

CREATE INDEX leaderboard_followers_al_idx ON leaderboard (language, followers_rank_al, platform, profile_id);

CREATE INDEX leaderboard_followers_acl_idx ON leaderboard (category, language, followers_rank_acl, platform, profile_id);

CREATE INDEX leaderboard_engagement_rate_p_idx ON leaderboard (platform, engagement_rate_rank_p, profile_id);

CREATE INDEX leaderboard_engagement_rate_pc_idx ON leaderboard (platform, category, engagement_rate_rank_pc, profile_id);

CREATE INDEX leaderboard_engagement_rate_pl_idx ON leaderboard (platform, language, engagement_rate_rank_pl, profile_id);

CREATE INDEX leaderboard_engagement_rate_pcl_idx ON leaderboard (platform, category, language, engagement_rate_rank_pcl, profile_id);

CREATE INDEX leaderboard_engagement_rate_a_idx ON leaderboard (engagement_rate_rank_a, platform, profile_id);

CREATE INDEX leaderboard_engagement_rate_ac_idx ON leaderboard (category, engagement_rate_rank_ac, platform, profile_id);

CREATE INDEX leaderboard_engagement_rate_al_idx ON leaderboard (language, engagement_rate_rank_al, platform, profile_id);

CREATE INDEX leaderboard_engagement_rate_acl_idx ON leaderboard (category, language, engagement_rate_rank_acl, platform, profile_id);

CREATE INDEX leaderboard_growth_p_idx ON leaderboard (platform, growth_rank_p, profile_id);

CREATE INDEX leaderboard_growth_pc_idx ON leaderboard (platform, category, growth_rank_pc, profile_id);

CREATE INDEX leaderboard_growth_pl_idx ON leaderboard (platform, language, growth_rank_pl, profile_id);

CREATE INDEX leaderboard_growth_pcl_idx ON leaderboard (platform, category, language, growth_rank_pcl, profile_id);

CREATE INDEX leaderboard_growth_a_idx ON leaderboard (growth_rank_a, platform, profile_id);

CREATE INDEX leaderboard_growth_ac_idx ON leaderboard (category, growth_rank_ac, platform, profile_id);

CREATE INDEX leaderboard_growth_al_idx ON leaderboard (language, growth_rank_al, platform, profile_id);

CREATE INDEX leaderboard_growth_acl_idx ON leaderboard (category, language, growth_rank_acl, platform, profile_id);

UPDATE alembic_version SET version_num='0023' WHERE alembic_version.version_num = '0022';

COMMIT;

