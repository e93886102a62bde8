"""The report read from PostgreSQL: the profiles with the most engagement over their stored
posts, across every platform whose posts say who wrote them (`Platform.post_text`)."""

from dataclasses import dataclass

import asyncpg

from core.posttext import PostText


@dataclass(frozen=True, slots=True)
class UserEngagement:
    platform: str
    profile_id: str
    post_count: int
    total_engagement: int

    @property
    def average(self) -> float:
        return round(self.total_engagement / self.post_count, 2)


def top_users_query(texts: dict[str, PostText]) -> str:
    """One UNION ALL over the platforms' post tables, grouped by author; $1 is the limit."""
    parts = [f"SELECT '{name}'::text AS platform, p.{text.author} AS profile_id, "
             f"({text.engagement_sql()})::bigint AS engagement "
             f"FROM {text.table} AS p WHERE p.{text.author} IS NOT NULL"
             for name, text in sorted(texts.items())]
    return ("SELECT platform, profile_id, count(*) AS post_count, "
            "sum(engagement)::bigint AS total_engagement FROM (" + " UNION ALL ".join(parts)
            + ") AS posts GROUP BY platform, profile_id "
            "ORDER BY total_engagement DESC, post_count DESC, platform, profile_id LIMIT $1")


async def top_users(pool: asyncpg.Pool, texts: dict[str, PostText], limit: int
                    ) -> list[UserEngagement]:
    if not texts:
        return []
    rows = await pool.fetch(top_users_query(texts), limit)
    return [UserEngagement(r["platform"], r["profile_id"], r["post_count"],
                           r["total_engagement"]) for r in rows]
