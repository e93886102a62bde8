"""GPT enrichment: gpt_enrichment, one row per profile, aspect (base_gender, audience_cities,
...), prompt name + version and model, with the validated answer, the tokens it took and their
cost. A new prompt version (or model) adds a row beside the earlier ones; the same one run
again replaces its row.

Revision ID: 0015
Revises: 0014
"""

from alembic import op

revision = "0015"
down_revision = "0014"
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
]

DOWNGRADE = ["DROP TABLE gpt_enrichment"]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
