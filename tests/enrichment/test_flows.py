"""The six enrichment flows against a real database and the sandbox's chat model (in process):
each reads the stored account, its newest captions and their comments, stores its validated
answer with prompt name + version, model, tokens and cost, and announces it; the same prompt
version run again replaces its row, a new version adds one beside it; the results come back by
aspect for `?include=enrichment`."""

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import yaml
from fastapi import FastAPI

from core.config import Settings
from core.errors import BadParams, NotFound
from core.flows import TaskContext, load_flows
from enrichment import chat
from enrichment.flows import ASPECTS, EnrichParams
from enrichment.prompts import BUILT_IN
from enrichment.store import profile_enrichment
from sandbox.app import create_sandbox_app
from tests.sandbox.helpers import client_for

HANDLE, PROFILE = "ana.travels", "17841400001"
ROWS = """
TRUNCATE gpt_enrichment, event_outbox, instagram_account, instagram_post, instagram_comment;
INSERT INTO instagram_account (profile_id, handle, full_name, biography, refreshed_at)
VALUES ('17841400001', 'ana.travels', 'Ana Lima', 'Coffee, mountains and trains. Lisbon.',
        now());
INSERT INTO instagram_post (post_id, profile_id, handle, caption, publish_time)
SELECT 'p' || n, '17841400001', 'ana.travels', 'Sunrise hike number ' || n || ' #mountains',
       now() - n * interval '1 day' FROM generate_series(1, 15) AS n;
INSERT INTO instagram_comment (comment_id, post_id, text, likes)
VALUES ('c1', 'p1', 'Which trail is this? Gorgeous', 5), ('c2', 'p2', 'Saudades de Lisboa', 2),
       ('c3', 'p14', 'an old post nobody reads', 1);
"""


@pytest.fixture
async def db(pool: asyncpg.Pool) -> asyncpg.Pool:
    await pool.execute(ROWS)
    return pool


@pytest.fixture
def sandbox() -> FastAPI:
    return create_sandbox_app(seed=1)


@pytest.fixture
async def run_settings(settings: Settings, tmp_path: Path,
                       sandbox: FastAPI) -> AsyncIterator[Settings]:
    """Settings in sandbox mode whose chat calls reach an in-process sandbox."""
    own = settings.model_copy(update={
        "sandbox_url": "http://test", "redis_url": None, "platform_settings": {
            "enrichment": {"enrichment_prompt_dirs": [str(tmp_path)],
                           "enrichment_recent_posts": 12}}})
    async with client_for(sandbox) as client:
        chat._directors.pop(id(own), None)
        chat.director(own, http_client=client)
        yield own
        chat._directors.pop(id(own), None)


async def run(flow: str, pool: asyncpg.Pool, settings: Settings, **params: Any) -> Any:
    registered = load_flows(settings)[flow]
    ctx = TaskContext(task_id=7, flow=flow, attempt=1, pool=pool, log=logging.getLogger("t"),
                      settings=settings)
    return await registered.handler(EnrichParams(handle=HANDLE, **params), ctx)


def test_the_six_flows_are_registered_with_the_seed_sizes() -> None:
    flows = load_flows(Settings())
    for name in ASPECTS:
        assert (flows[name].processes, flows[name].concurrency) == (2, 5)
        assert flows[name].platform == "ENRICHMENT"


async def test_each_flow_stores_its_answer_with_prompt_tokens_and_cost(
        db: asyncpg.Pool, run_settings: Settings) -> None:
    for flow in ASPECTS:
        result = await run(flow, db, run_settings)
        assert result["created"] and result["calls"] == 1 and result["tokens_in"] > 0
    rows = {r["flow"]: dict(r) for r in await db.fetch("SELECT * FROM gpt_enrichment")}
    assert set(rows) == set(ASPECTS)
    for flow, (aspect, prompt) in ASPECTS.items():
        row = rows[flow]
        assert (row["platform"], row["profile_id"], row["handle"]) == ("instagram", PROFILE,
                                                                       HANDLE)
        assert (row["aspect"], row["prompt_name"], row["prompt_version"]) == (aspect, prompt,
                                                                              "1.0")
        assert row["model"] == "gpt-4o-mini" and row["task_id"] == 7
        expected = (row["tokens_in"] * 0.15 + row["tokens_out"] * 0.60) / 1e6
        assert float(row["cost_usd"]) == pytest.approx(expected, abs=1e-8)
    cities = rows["refresh_instagram_gpt_data_audience_cities"]["result"]["cities"]
    assert cities and all(0 <= c["percentage"] <= 100 for c in cities)
    events = await db.fetch("SELECT * FROM event_outbox WHERE source = 'enrichment'")
    assert len(events) == 6 and {e["type"] for e in events} == {"enrichment.instagram.created"}
    assert all(e["entity_key"] == PROFILE and e["changes"]["tokens_in"] > 0 for e in events)


async def test_the_prompt_sees_bio_captions_and_comments(
        db: asyncpg.Pool, run_settings: Settings, sandbox: FastAPI) -> None:
    await run("refresh_instagram_gpt_data_audience_cities", db, run_settings)
    async with client_for(sandbox) as client:
        recent = (await client.get("/_sandbox/openai")).json()["recent"]
    sent = recent[-1]["messages"][1]["content"]
    assert "Bio: Coffee, mountains and trains. Lisbon." in sent
    assert "Sunrise hike number 1 #mountains" in sent and "number 13" not in sent  # newest 12
    assert "Which trail is this? Gorgeous" in sent and "Saudades de Lisboa" in sent
    assert "an old post nobody reads" not in sent  # a comment of a post not among the 12


async def test_a_new_prompt_version_adds_a_row_beside_the_first(
        db: asyncpg.Pool, run_settings: Settings, tmp_path: Path) -> None:
    flow = "refresh_instagram_gpt_data_base_gender"
    first = await run(flow, db, run_settings)
    again = await run(flow, db, run_settings)
    assert again["id"] == first["id"] and not again["created"]  # the same version: replaced
    raw = yaml.safe_load((BUILT_IN / "base_gender.yaml").read_text())
    raw.update(version="1.1", system=raw["system"] + "Prefer 'unknown' when in doubt.\n")
    (tmp_path / "base_gender-1.1.yaml").write_text(yaml.safe_dump(raw))
    second = await run(flow, db, run_settings)
    assert second["created"] and second["prompt_version"] == "1.1"
    older = await run(flow, db, run_settings, prompt_version="1.0")
    assert older["id"] == first["id"]
    versions = await db.fetch("SELECT prompt_version FROM gpt_enrichment ORDER BY id")
    assert [r["prompt_version"] for r in versions] == ["1.0", "1.1"]
    types = [r["type"] for r in await db.fetch("SELECT type FROM event_outbox ORDER BY id")]
    assert types == ["enrichment.instagram.created", "enrichment.instagram.updated",
                     "enrichment.instagram.created", "enrichment.instagram.updated"]
    included = await profile_enrichment(db, "instagram", {"profile_id": PROFILE})
    assert list(included) == ["base_gender"]
    # the latest run first
    assert [r["prompt_version"] for r in included["base_gender"]] == ["1.0", "1.1"]
    assert set(included["base_gender"][0]["result"]) == {"gender", "confidence", "reasoning"}


async def test_a_profile_not_stored_or_an_unknown_version_fails_for_good(
        db: asyncpg.Pool, run_settings: Settings) -> None:
    await db.execute("DELETE FROM instagram_account")
    with pytest.raises(NotFound, match="refresh_profile_by_handle"):
        await run("refresh_instagram_gpt_data_base_gender", db, run_settings)
    with pytest.raises(BadParams, match="version 9.9"):
        await run("refresh_instagram_gpt_data_base_gender", db, run_settings,
                  prompt_version="9.9")
