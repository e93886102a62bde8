"""The seed's sentiment listeners, with a local model first (VADER: no call, no cost) and YAKE
keywords, on the events path (AMQP, `beat listen`):

    sentiment_analysis  beat.dx  post_activity_log_bulk_rk          sentiment_analysis_q  1
        {"post_id": "..." | "post_ids": [...], "platform"?: "instagram"}: each stored comment
        of those posts scored (compound, positive, neutral, negative; a label by VADER's usual
        +/-0.05 thresholds) into comment_sentiment
    sentiment_report    beat.dx  sentiment_collection_report_in_rk  sentiment_report_q    1
        the same body: per post, its scored comments summed up (counts per label, mean
        compound) with YAKE's keywords over the caption and comments, into one sentiment_log
        row, and a `sentiment.<platform>.reported` event

Both write in the listener's transaction, so a redelivered message changes nothing twice; a
post that is not stored is refused (dead-lettered with the reason), not retried."""

import functools
from typing import Any

from pydantic import BaseModel, Field, model_validator

from core.consumers import Listener, ListenerContext, Reject
from core.listeners import parse
from enrichment.profile import PLATFORM

METHOD = "vader"
KEYWORDS = 10
POST = "SELECT post_id, caption FROM instagram_post WHERE post_id = $1"
COMMENTS = """
SELECT comment_id, text FROM instagram_comment
 WHERE post_id = $1 AND text IS NOT NULL AND text <> '' ORDER BY comment_id
"""
SCORE = """
INSERT INTO comment_sentiment AS s (platform, comment_id, post_id, method, compound, positive,
                                    neutral, negative, label)
SELECT $1, x.comment_id, $2, $3, x.compound, x.positive, x.neutral, x.negative, x.label
  FROM jsonb_to_recordset($4::jsonb) AS x(comment_id text, compound float8, positive float8,
                                          neutral float8, negative float8, label text)
ON CONFLICT (platform, comment_id, method) DO UPDATE
   SET compound = EXCLUDED.compound, positive = EXCLUDED.positive,
       neutral = EXCLUDED.neutral, negative = EXCLUDED.negative, label = EXCLUDED.label,
       post_id = EXCLUDED.post_id, updated_at = now()
"""
SUMMARY = """
SELECT count(*) AS comments, count(*) FILTER (WHERE label = 'positive') AS positive,
       count(*) FILTER (WHERE label = 'neutral') AS neutral,
       count(*) FILTER (WHERE label = 'negative') AS negative, avg(compound) AS compound_mean
  FROM comment_sentiment WHERE platform = $1 AND post_id = $2 AND method = $3
"""
REPORT = """
INSERT INTO sentiment_log AS r (platform, post_id, method, comments, positive, neutral, negative,
                                compound_mean, keywords)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb)
ON CONFLICT (platform, post_id, method) DO UPDATE
   SET comments = EXCLUDED.comments, positive = EXCLUDED.positive,
       neutral = EXCLUDED.neutral, negative = EXCLUDED.negative,
       compound_mean = EXCLUDED.compound_mean, keywords = EXCLUDED.keywords, updated_at = now()
"""
EVENT = """
INSERT INTO event_outbox (type, platform, entity_key, changes, source)
VALUES ($1, $2, $3, $4::jsonb, 'enrichment')
"""


class Posts(BaseModel):
    post_id: str | None = Field(default=None, min_length=1, max_length=64)
    post_ids: list[str] = Field(default=[], max_length=500)
    platform: str = PLATFORM

    @model_validator(mode="after")
    def _some_post(self) -> "Posts":
        if self.platform != PLATFORM:
            raise ValueError(f"only {PLATFORM} comments are stored for sentiment")
        if not self.all_posts():
            raise ValueError("give a post_id or post_ids")
        return self

    def all_posts(self) -> list[str]:
        return list(dict.fromkeys([*([self.post_id] if self.post_id else []), *self.post_ids]))


@functools.cache
def _analyzer() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def score(text: str) -> dict[str, Any]:
    """VADER's scores of one text and its label."""
    found = _analyzer().polarity_scores(text)
    compound = float(found["compound"])
    label = "positive" if compound >= 0.05 else "negative" if compound <= -0.05 else "neutral"
    return {"compound": compound, "positive": float(found["pos"]),
            "neutral": float(found["neu"]), "negative": float(found["neg"]), "label": label}


def keywords(text: str, top: int = KEYWORDS) -> list[dict[str, Any]]:
    """YAKE's keywords of a text (one or two words each), best first (a lower score is
    better)."""
    import yake

    if not text.strip():
        return []
    found = yake.KeywordExtractor(lan="en", n=2, top=top).extract_keywords(text)
    return [{"keyword": word, "score": round(float(value), 6)} for word, value in found]


async def _stored_post(ctx: ListenerContext, post_id: str) -> dict[str, Any]:
    post = await ctx.conn.fetchrow(POST, post_id)
    if post is None:
        raise Reject(f"{PLATFORM} post {post_id} is not stored")
    return dict(post)


async def sentiment_analysis(body: dict[str, Any], ctx: ListenerContext) -> None:
    """Score every stored comment of the posts."""
    for post_id in parse(Posts, body).all_posts():
        await _stored_post(ctx, post_id)
        comments = await ctx.conn.fetch(COMMENTS, post_id)
        scored = [{"comment_id": c["comment_id"], **score(c["text"])} for c in comments]
        await ctx.conn.execute(SCORE, PLATFORM, post_id, METHOD, scored)


async def sentiment_report(body: dict[str, Any], ctx: ListenerContext) -> None:
    """One report row per post: its scored comments summed up, and its keywords."""
    for post_id in parse(Posts, body).all_posts():
        post = await _stored_post(ctx, post_id)
        summary = dict(await ctx.conn.fetchrow(SUMMARY, PLATFORM, post_id, METHOD))
        texts = [post["caption"] or "", *(c["text"] for c in
                                          await ctx.conn.fetch(COMMENTS, post_id))]
        found = keywords("\n".join(texts))
        mean = summary["compound_mean"]
        report = {**summary, "compound_mean": None if mean is None else round(mean, 4),
                  "keywords": found, "method": METHOD}
        await ctx.conn.execute(REPORT, PLATFORM, post_id, METHOD, summary["comments"],
                               summary["positive"], summary["neutral"], summary["negative"],
                               report["compound_mean"], found)
        await ctx.conn.execute(EVENT, f"sentiment.{PLATFORM}.reported", PLATFORM, post_id,
                               report)


LISTENERS = [
    Listener("sentiment_analysis", "beat.dx", "direct", "post_activity_log_bulk_rk",
             "sentiment_analysis_q", 1, sentiment_analysis),
    Listener("sentiment_report", "beat.dx", "direct", "sentiment_collection_report_in_rk",
             "sentiment_report_q", 1, sentiment_report),
]
