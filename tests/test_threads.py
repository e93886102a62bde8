"""Comment threads on generated data: random reply trees (deeper than YouTube's own, so the
recursion is exercised) in youtube_comment, read through GET /comments/depth-analysis and
/comments/viral-chains, against a recount that walks the parents in Python."""

import random
from collections import Counter, defaultdict
from dataclasses import dataclass

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from tests.api.support import app, client

__all__ = ["app", "client"]


@dataclass(frozen=True)
class Row:
    comment_id: str
    video_id: str
    parent_id: str | None
    likes: int | None


@pytest.fixture
async def comments(pool: asyncpg.Pool) -> list[Row]:
    """8 videos, 40 comments each: a new comment replies to an earlier one of its video
    (often the latest, so chains run deep) or starts a thread; plus a reply whose parent is not
    stored."""
    rng = random.Random(3)
    rows: list[Row] = []
    for v in range(8):
        video = f"video{v:04d}xx"
        mine: list[str] = []
        for n in range(40):
            draw = rng.random()
            parent = None if not mine or draw < 0.2 else mine[-1] if draw < 0.6 \
                else rng.choice(mine)
            rows.append(Row(f"{video}.{n}", video, parent, rng.choice([None, rng.randint(0, 40)])))
            mine.append(rows[-1].comment_id)
    rows.append(Row("orphan", "video0000xx", "never-stored", 999))
    await pool.execute("TRUNCATE youtube_comment")
    await pool.executemany("INSERT INTO youtube_comment (comment_id, video_id, parent_id, likes)"
                           " VALUES ($1, $2, $3, $4)",
                           [(r.comment_id, r.video_id, r.parent_id, r.likes) for r in rows])
    return rows


def recount(rows: list[Row]) -> tuple[dict[str, list[int]], list[tuple[int, int, list[str]]]]:
    """Per video, comments per depth; and every chain from a thread to a comment without
    replies as (engagement, depth, path)."""
    children: dict[str | None, list[Row]] = defaultdict(list)
    for row in rows:
        children[row.parent_id].append(row)
    depths: dict[str, Counter[int]] = defaultdict(Counter)
    chains: list[tuple[int, int, list[str]]] = []

    def walk(row: Row, depth: int, likes: int, path: list[str]) -> None:
        depths[row.video_id][depth] += 1
        likes, path = likes + (row.likes or 0), [*path, row.comment_id]
        if not children[row.comment_id]:
            chains.append((likes, depth, path))
        for child in children[row.comment_id]:
            walk(child, depth + 1, likes, path)

    for top in children[None]:
        walk(top, 0, 0, [])
    per_depth = {video: [c[d] for d in range(max(c) + 1)] for video, c in depths.items()}
    return per_depth, chains


async def test_depth_analysis_equals_the_recount(comments: list[Row],
                                                 client: httpx.AsyncClient) -> None:
    per_depth, _ = recount(comments)
    answer = (await client.get("/comments/depth-analysis", params={"limit": 100})).json()
    assert answer["platforms"] == ["youtube"]
    got = {p["post_id"]: p["comments_per_depth"] for p in answer["posts"]}
    assert got == per_depth
    assert [p["max_depth"] for p in answer["posts"]] == sorted(
        (len(d) - 1 for d in per_depth.values()), reverse=True)
    assert all(p["comments"] == sum(p["comments_per_depth"]) for p in answer["posts"])
    assert max(len(d) for d in per_depth.values()) > 4, "the generated threads run deep"
    one = (await client.get("/comments/depth-analysis",
                            params={"post_id": "video0003xx"})).json()["posts"]
    assert [(p["post_id"], p["comments_per_depth"]) for p in one] == [
        ("video0003xx", per_depth["video0003xx"])]


@pytest.mark.parametrize(("min_depth", "min_engagement"), [(3, 50), (0, 0), (6, 120)])
async def test_viral_chains_equal_the_recount(comments: list[Row], client: httpx.AsyncClient,
                                              min_depth: int, min_engagement: int) -> None:
    _, chains = recount(comments)
    expected = sorted(((likes, depth, path) for likes, depth, path in chains
                       if depth >= min_depth and likes >= min_engagement),
                      key=lambda c: (-c[0], -c[1], c[2]))[:500]
    answer = (await client.get("/comments/viral-chains", params={
        "min_depth": min_depth, "min_engagement": min_engagement, "limit": 500})).json()
    assert [(c["engagement"], c["depth"], c["comment_ids"]) for c in answer["chains"]] == expected
    assert expected, "the generated data has such chains"
    assert all(c["post_id"] == c["comment_ids"][0].split(".")[0] for c in answer["chains"])


async def test_an_unknown_platform_is_refused(app: FastAPI,
                                              client: httpx.AsyncClient) -> None:
    answer = await client.get("/comments/viral-chains", params={"platform": "friendster"})
    assert answer.status_code == 422
    for bad in ({"post_id": "a\x00b"}, {"platform": "you\x00tube"}):
        refused = await client.get("/comments/depth-analysis", params=bad)
        assert refused.status_code == 422 and "NUL" in refused.text
    none = await client.get("/comments/depth-analysis", params={"platform": "x"})
    assert none.json() == {"platforms": [], "posts": []}


