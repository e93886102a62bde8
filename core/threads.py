"""Comment threads read with recursive queries over each platform's comment table (declared as
`Platform.comment_threads`): how deep each post's threads go, and the reply chains that run
deep and gather many likes.

Depth: a top-level comment is 0, a reply to it 1, a reply to that 2, ... A reply whose parent is
not stored is left out (its depth is unknown). A chain runs from a top-level comment down to a
comment with no stored replies; its engagement is the likes of every comment on it. Any chain
reaching `min_depth` with `min_engagement` has such an end below it (likes are never negative),
so reporting the chains to those ends misses none."""

from dataclasses import dataclass

import asyncpg

from core.posttext import CommentThreads

MAX_DEPTH = 1000  # a guard against bad data; the path check already stops cycles


@dataclass(frozen=True, slots=True)
class PostDepths:
    platform: str
    post_id: str
    comments: int
    max_depth: int
    per_depth: list[int]  # comments at depth 0, 1, 2, ...


@dataclass(frozen=True, slots=True)
class Chain:
    platform: str
    post_id: str
    depth: int
    engagement: int
    path: list[str]  # comment ids, top-level first


def _tree(t: CommentThreads) -> str:
    """Every comment reachable from a top-level one ($1: one post, or NULL for all)."""
    return f"""
WITH RECURSIVE tree AS (
    SELECT c.{t.key} AS id, c.{t.post} AS post_id, 0 AS depth,
           coalesce(c.{t.likes}, 0)::bigint AS engagement, ARRAY[c.{t.key}] AS path
      FROM {t.table} AS c
     WHERE c.{t.parent} IS NULL AND ($1::text IS NULL OR c.{t.post} = $1)
    UNION ALL
    SELECT r.{t.key}, tree.post_id, tree.depth + 1,
           tree.engagement + coalesce(r.{t.likes}, 0), tree.path || r.{t.key}
      FROM tree JOIN {t.table} AS r ON r.{t.parent} = tree.id
     WHERE tree.depth < {MAX_DEPTH} AND r.{t.key} <> ALL(tree.path)
)"""


def depths_query(t: CommentThreads) -> str:
    """Per post: comments at each depth; $2 the limit, deepest and busiest first."""
    return _tree(t) + """
SELECT post_id, sum(n)::bigint AS comments, max(depth) AS max_depth,
       array_agg(n ORDER BY depth) AS per_depth
  FROM (SELECT post_id, depth, count(*) AS n FROM tree GROUP BY post_id, depth) AS d
 GROUP BY post_id
 ORDER BY max_depth DESC, comments DESC, post_id
 LIMIT $2"""


def chains_query(t: CommentThreads) -> str:
    """Chains to comments without replies, $2 deep and $3 likes at least; $4 the limit."""
    return _tree(t) + f"""
SELECT post_id, depth, engagement, path FROM tree
 WHERE depth >= $2 AND engagement >= $3
   AND NOT EXISTS (SELECT 1 FROM {t.table} AS r WHERE r.{t.parent} = tree.id)
 ORDER BY engagement DESC, depth DESC, path
 LIMIT $4"""


async def depth_analysis(pool: asyncpg.Pool, threads: dict[str, CommentThreads],
                         post_id: str | None, limit: int) -> list[PostDepths]:
    found: list[PostDepths] = []
    for name, t in sorted(threads.items()):
        for r in await pool.fetch(depths_query(t), post_id, limit):
            found.append(PostDepths(name, r["post_id"], r["comments"], r["max_depth"],
                                    list(r["per_depth"])))
    found.sort(key=lambda d: (-d.max_depth, -d.comments, d.platform, d.post_id))
    return found[:limit]


async def viral_chains(pool: asyncpg.Pool, threads: dict[str, CommentThreads],
                       post_id: str | None, min_depth: int, min_engagement: int,
                       limit: int) -> list[Chain]:
    found: list[Chain] = []
    for name, t in sorted(threads.items()):
        rows = await pool.fetch(chains_query(t), post_id, min_depth, min_engagement, limit)
        found += [Chain(name, r["post_id"], r["depth"], r["engagement"], list(r["path"]))
                  for r in rows]
    found.sort(key=lambda c: (-c.engagement, -c.depth, c.platform, c.path))
    return found[:limit]
