"""`GET /profiles/INSTAGRAM/byhandle/{handle}?include=enrichment`: the stored account with its
enrichment results by aspect (every prompt version kept, the latest run first), through the
generic endpoint (core learns the include from the registry); an unknown include is a 422
naming the known ones; /platforms lists who adds what."""

import asyncpg
import httpx
import pytest

from enrichment.store import save_result
from tests.api.support import app, client

__all__ = ["app", "client"]

ACCOUNT = """
TRUNCATE gpt_enrichment, event_outbox, instagram_account;
INSERT INTO instagram_account (profile_id, handle, biography, refreshed_at)
VALUES ('901', 'ana.travels', 'Coffee and mountains', now());
"""


def result(version: str, gender: str) -> dict[str, object]:
    return {"platform": "instagram", "profile_id": "901", "handle": "ana.travels",
            "aspect": "base_gender", "flow": "refresh_instagram_gpt_data_base_gender",
            "prompt_name": "instagram_base_gender", "prompt_version": version,
            "model": "gpt-4o-mini", "result": {"gender": gender, "confidence": 0.8,
                                               "reasoning": "bio"},
            "tokens_in": 120, "tokens_out": 30, "cost_usd": 0.000036, "calls": 1,
            "task_id": None}


@pytest.fixture
async def stored(pool: asyncpg.Pool) -> asyncpg.Pool:
    await pool.execute(ACCOUNT)
    await save_result(pool, result("1.0", "female"))
    await save_result(pool, result("1.1", "unknown"))
    return pool


async def test_the_profile_comes_with_its_enrichment(client: httpx.AsyncClient,
                                                     stored: asyncpg.Pool) -> None:
    plain = await client.get("/profiles/INSTAGRAM/byhandle/ana.travels")
    assert plain.status_code == 200 and "enrichment" not in plain.json()
    answer = await client.get("/profiles/INSTAGRAM/byhandle/ana.travels",
                              params={"include": "enrichment"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["biography"] == "Coffee and mountains"
    runs = body["enrichment"]["base_gender"]
    assert [(r["prompt_version"], r["result"]["gender"]) for r in runs] == [
        ("1.1", "unknown"), ("1.0", "female")]
    assert runs[0]["tokens_in"] == 120 and runs[0]["cost_usd"] == pytest.approx(0.000036)
    by_id = await client.get("/profiles/INSTAGRAM/byprofileid/901",
                             params={"include": "enrichment"})
    assert by_id.json()["enrichment"] == body["enrichment"]


async def test_an_unknown_include_is_refused_naming_the_known_ones(
        client: httpx.AsyncClient, stored: asyncpg.Pool) -> None:
    answer = await client.get("/profiles/INSTAGRAM/byhandle/ana.travels",
                              params={"include": "horoscope"})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["msg"] == "no include 'horoscope' (known: enrichment)"
    listed = {p["name"]: p for p in (await client.get("/platforms")).json()}
    assert listed["enrichment"]["includes"] == ["enrichment"]
    assert listed["instagram"]["includes"] == []
