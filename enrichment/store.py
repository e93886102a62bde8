"""Storing an enrichment result and its event in one transaction, and reading a profile's
results for `GET /profiles/{platform}/byhandle/{handle}?include=enrichment`.

A result is keyed by platform, profile, prompt name + version and model: a new prompt version
or model adds a row beside the earlier ones (to compare them), the same one run again replaces
its row (a task run twice leaves the same rows)."""

from typing import Any

import asyncpg

UPSERT = """
INSERT INTO gpt_enrichment AS g (platform, profile_id, handle, aspect, flow, prompt_name,
                                 prompt_version, model, result, tokens_in, tokens_out, cost_usd,
                                 calls, task_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12, $13, $14)
ON CONFLICT ON CONSTRAINT gpt_enrichment_run_key DO UPDATE
   SET handle = EXCLUDED.handle, aspect = EXCLUDED.aspect, flow = EXCLUDED.flow,
       result = EXCLUDED.result, tokens_in = EXCLUDED.tokens_in,
       tokens_out = EXCLUDED.tokens_out, cost_usd = EXCLUDED.cost_usd, calls = EXCLUDED.calls,
       task_id = EXCLUDED.task_id, updated_at = now()
RETURNING id, (xmax = 0) AS created
"""
INSERT_EVENT = """
INSERT INTO event_outbox (type, platform, entity_key, changes, source)
VALUES ($1, $2, $3, $4::jsonb, 'enrichment')
"""
FOR_PROFILE = """
SELECT aspect, prompt_name, prompt_version, model, result, tokens_in, tokens_out,
       cost_usd::float8 AS cost_usd, calls, task_id, created_at, updated_at
  FROM gpt_enrichment
 WHERE platform = $1 AND profile_id = $2
 ORDER BY aspect, updated_at DESC, id DESC
"""
# The leaderboards' labels of each enriched profile (Platform.profile_labels): the category
# of its newest categ_lang_topics answer, and the language of its newest answer naming one (the
# first of `languages`, or `language`), under the platform's API name.
LABELS = """
SELECT upper(platform) AS platform, profile_id,
       (array_agg(nullif(lower(result ->> 'category'), '') ORDER BY updated_at DESC, id DESC)
            FILTER (WHERE aspect = 'base_categ_lang_topics'))[1] AS category,
       (array_agg(nullif(lower(coalesce(result -> 'languages' ->> 0, result ->> 'language')), '')
                  ORDER BY updated_at DESC, id DESC))[1] AS language
  FROM gpt_enrichment
 WHERE aspect IN ('base_categ_lang_topics', 'gender_location_lang')
 GROUP BY platform, profile_id
"""
COLUMNS = ("platform", "profile_id", "handle", "aspect", "flow", "prompt_name",
           "prompt_version", "model", "result", "tokens_in", "tokens_out", "cost_usd", "calls",
           "task_id")


async def save_result(pool: asyncpg.Pool, row: dict[str, Any]) -> dict[str, Any]:
    """Upsert one result and write `enrichment.<platform>.created|updated`; its id and
    whether it is new."""
    values = [row[c] for c in COLUMNS]  # the pool's jsonb codec encodes the result
    async with pool.acquire() as conn, conn.transaction():
        saved = await conn.fetchrow(UPSERT, *values)
        kind = "created" if saved["created"] else "updated"
        changes = {c: row[c] for c in COLUMNS if c not in ("platform", "profile_id")}
        await conn.execute(INSERT_EVENT, f"enrichment.{row['platform']}.{kind}",
                           row["platform"], row["profile_id"],
                           {**changes, "id": saved["id"]})
    return {"id": saved["id"], "created": saved["created"]}


async def profile_enrichment(pool: asyncpg.Pool, platform: str,
                             profile: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """A stored profile's results by aspect, newest first (every prompt version and model
    kept)."""
    profile_id = profile.get("profile_id")
    if profile_id is None:
        return {}
    by_aspect: dict[str, list[dict[str, Any]]] = {}
    for record in await pool.fetch(FOR_PROFILE, platform, str(profile_id)):
        row = dict(record)
        by_aspect.setdefault(row.pop("aspect"), []).append(row)
    return by_aspect
