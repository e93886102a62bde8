"""Generated posts on every platform, with their post.<platform>.created events in the outbox,
and the direct SQL recounts the Redis answers are checked against (written here by hand, per
platform table, apart from the platforms' PostText declarations)."""

import random
from datetime import datetime, timedelta

import asyncpg

VOCABULARY = ["python", "data", "ai", "music", "travel", "food", "café", "fitness", "news",
              "art", "tech", "sports", "gaming", "fashion", "nature", "ml", "retro", "diy",
              "books", "film", "cats", "dogs", "code", "beach", "summer"]
WEIGHTS = [1 / (rank + 1) for rank in range(len(VOCABULARY))]  # Zipf-like

# Every platform's post table, the text and time the recount reads, as SQL of its own.
POSTS = """
    SELECT 'youtube' AS platform, video_id AS key, concat_ws(' ', title, description) AS text,
           coalesce(published_at, created_at) AS posted, channel_id AS author,
           coalesce(likes, 0) + coalesce(comments, 0) AS engagement FROM youtube_post
    UNION ALL
    SELECT 'instagram', post_id, caption, coalesce(publish_time, created_at), profile_id,
           coalesce(likes, 0) + coalesce(comments, 0) FROM instagram_post
    UNION ALL
    SELECT 'facebook', post_id, concat_ws(' ', message, title), coalesce(publish_time, created_at),
           page_id, coalesce(likes, 0) + coalesce(comments, 0) + coalesce(shares, 0)
      FROM facebook_post
    UNION ALL
    SELECT 'x', tweet_id, text, coalesce(published_at, created_at), user_id,
           coalesce(likes, 0) + coalesce(comments, 0) + coalesce(shares, 0) + coalesce(quotes, 0)
      FROM x_post
"""
# One row per (post, distinct hashtag).
TAGGED = f"""
    SELECT DISTINCT p.platform, p.key, lower(m[1]) AS tag, p.posted
      FROM ({POSTS}) AS p, regexp_matches(p.text, '(?<!\\w)#(\\w+)', 'g') AS m
"""


def caption(rng: random.Random) -> str:
    """Some words, 0-6 hashtags (a repeat in another case, non-hashtags such as `a#b` and a URL
    fragment mixed in)."""
    tags = rng.choices(VOCABULARY, WEIGHTS, k=rng.randint(0, 6))
    words = ["look", "at", "this"] + [f"#{t}" for t in tags]
    if tags and rng.random() < 0.3:
        words.append(f"#{tags[0].upper()}")
    if rng.random() < 0.2:
        words += ["a#b", "https://example.com/page#frag"]
    rng.shuffle(words)
    return " ".join(words)


def published(rng: random.Random, now: datetime) -> datetime | None:
    """Mostly within the last 3 hours, some days old, some unknown (the stored time counts)."""
    draw = rng.random()
    if draw < 0.05:
        return None
    if draw < 0.12:
        return now - timedelta(days=rng.uniform(2, 20))
    return now - timedelta(minutes=rng.uniform(0, 180))


INSERTS = {
    "youtube": "INSERT INTO youtube_post (video_id, channel_id, title, description, published_at,"
               " likes, comments) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    "instagram": "INSERT INTO instagram_post (post_id, profile_id, caption, publish_time, likes,"
                 " comments) VALUES ($1, $2, concat_ws(' ', $3::text, $4::text), $5, $6, $7)",
    "facebook": "INSERT INTO facebook_post (post_id, page_id, message, title, publish_time, likes,"
                " comments) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    "x": "INSERT INTO x_post (tweet_id, user_id, text, published_at, likes, comments) "
         "VALUES ($1, $2, concat_ws(' ', $3::text, $4::text), $5, $6, $7)",
}


async def generate(pool: asyncpg.Pool, now: datetime, per_platform: int, seed: int = 7) -> int:
    """Empty post tables and outbox, then `per_platform` posts on each platform with a created
    event each; answers the number of events."""
    rng = random.Random(seed)
    await pool.execute("TRUNCATE youtube_post, instagram_post, facebook_post, x_post, "
                       "event_outbox RESTART IDENTITY")
    for platform, insert in INSERTS.items():
        for i in range(per_platform):
            key = f"{platform}-{i}"
            await pool.execute(insert, key, f"{platform}-author-{rng.randint(0, 9)}",
                               caption(rng), caption(rng) if rng.random() < 0.5 else None,
                               published(rng, now), rng.randint(0, 500),
                               rng.choice([None, rng.randint(0, 50)]))
            await pool.execute(
                "INSERT INTO event_outbox (type, platform, entity_key, changes, source) "
                "VALUES ($1, $2, $3, '{}', 'test')", f"post.{platform}.created", platform, key)
    return per_platform * len(INSERTS)


async def window_counts(pool: asyncpg.Pool, start: datetime, end: datetime,
                        platform: str | None = None) -> dict[str, int]:
    """Posts per hashtag posted in [start, end)."""
    rows = await pool.fetch(
        f"SELECT tag, count(*) AS n FROM ({TAGGED}) AS t WHERE posted >= $1 AND posted < $2 "
        "AND ($3::text IS NULL OR platform = $3) GROUP BY tag", start, end, platform)
    return {r["tag"]: r["n"] for r in rows}


async def all_time_counts(pool: asyncpg.Pool, platform: str | None = None) -> dict[str, int]:
    rows = await pool.fetch(f"SELECT tag, count(*) AS n FROM ({TAGGED}) AS t "
                            "WHERE $1::text IS NULL OR platform = $1 GROUP BY tag", platform)
    return {r["tag"]: r["n"] for r in rows}


async def cooccurrences(pool: asyncpg.Pool, target: str) -> dict[str, int]:
    """Posts holding both `target` and each other hashtag."""
    rows = await pool.fetch(
        f"WITH t AS ({TAGGED}) SELECT b.tag, count(*) AS n FROM t AS a JOIN t AS b "
        "ON a.platform = b.platform AND a.key = b.key AND a.tag <> b.tag "
        "WHERE a.tag = $1 GROUP BY b.tag", target)
    return {r["tag"]: r["n"] for r in rows}


async def engagement_by_author(pool: asyncpg.Pool) -> list[tuple[str, str, int, int]]:
    """(platform, author, posts, engagement), most engagement first."""
    rows = await pool.fetch(
        f"SELECT platform, author, count(*) AS posts, sum(engagement)::bigint AS engagement "
        f"FROM ({POSTS}) AS p WHERE author IS NOT NULL GROUP BY 1, 2 "
        "ORDER BY engagement DESC, posts DESC, platform, author")
    return [(r["platform"], r["author"], r["posts"], r["engagement"]) for r in rows]


def ranked(counts: dict[str, int], k: int) -> list[tuple[str, int]]:
    """The top k by count, then name."""
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:k]
