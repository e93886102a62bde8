"""GPT enrichment: gpt_enrichment, one row per profile, aspect (base_gender, audience_cities,
...), prompt name + version and model, with the validated answer, the tokens it took and their
cost. A new prompt version (or model) adds a row beside the earlier ones; the same one run
again replaces its row. comment_sentiment: each stored comment's sentiment by method (VADER
first, with its positive/neutral/negative proportions; a chat model where asked, a score
alone); sentiment_log: one report per post and method (counts per label, mean compound, YAKE
keywords of its caption and comments).

Revision ID: 0017
Revises: 0016
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

UPGRADE = [
    """
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
    )
    """,
    """
    CREATE INDEX gpt_enrichment_profile_idx
        ON gpt_enrichment (platform, profile_id, aspect, updated_at DESC)
    """,
    """
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
    )
    """,
    "CREATE INDEX comment_sentiment_post_idx ON comment_sentiment (platform, post_id, method)",
    """
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
    )
    """,
]

DOWNGRADE = ["DROP TABLE sentiment_log", "DROP TABLE comment_sentiment",
             "DROP TABLE gpt_enrichment"]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
