"""The seed's sentiment listeners, with a local model first (VADER: no call, no cost) and YAKE
keywords, on the events path (AMQP, `beat listen`):

    sentiment_analysis  beat.dx  post_activity_log_bulk_rk          sentiment_analysis_q  1
        {"post_id": "..." | "post_ids": [...], "platform"?: "instagram", "method"?: "vader"}:
        each stored comment of those posts scored (compound, positive, neutral, negative; a
        label by VADER's usual +/-0.05 thresholds) into comment_sentiment. "method": "gpt"
        asks the chat model instead (one call per post, prompt instagram_comment_sentiment: a
        label and a score per comment), announcing the call's prompt version, model, tokens
        and cost in a `sentiment.<platform>.scored` event
    sentiment_report    beat.dx  sentiment_collection_report_in_rk  sentiment_report_q    1
        the same body: per post, its comments scored by that method summed up (counts per
        label, mean compound) with YAKE's keywords over the caption and comments, into one
        sentiment_log row, and a `sentiment.<platform>.reported` event

Both write in the listener's transaction, so a redelivered message changes nothing twice; a
post that is not stored is refused (dead-lettered with the reason), not retried."""

import functools
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from core.consumers import Listener, ListenerContext, Reject
from core.errors import Permanent
from core.listeners import parse
from enrichment import chat
from enrichment.profile import PLATFORM
from enrichment.prompts import pick
from enrichment.settings import EnrichmentSettings

KEYWORDS = 10
CHAT_PROMPT = "instagram_comment_sentiment"
CHAT_COMMENTS = 200  # comments of one post in one call, at most
CHAT_COMMENT_CHARS = 300
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
    method: Literal["vader", "gpt"] = "vader"

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
    """Score every stored comment of the posts (VADER, or the chat model when asked)."""
    request = parse(Posts, body)
    for post_id in request.all_posts():
        post = await _stored_post(ctx, post_id)
        comments = [dict(c) for c in await ctx.conn.fetch(COMMENTS, post_id)]
        if request.method == "gpt":
            scored = await _chat_scores(ctx, post, comments)
        else:
            scored = [{"comment_id": c["comment_id"], **score(c["text"])} for c in comments]
        await ctx.conn.execute(SCORE, PLATFORM, post_id, request.method, scored)


async def _chat_scores(ctx: ListenerContext, post: dict[str, Any],
                       comments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The chat model's label and score per comment (ids it invents are dropped); the call's
    prompt, model, tokens and cost in an event. A permanent failure (an answer invalid twice,
    no key) is refused; rate limits and outages raise, so the message is retried."""
    if not comments:
        return []
    own = EnrichmentSettings.of(ctx.settings)
    prompt = pick(CHAT_PROMPT, own.enrichment_prompt_dirs)
    listed = "\n".join(f"{c['comment_id']}: {' '.join(c['text'].split())[:CHAT_COMMENT_CHARS]}"
                       for c in comments[:CHAT_COMMENTS])
    user = prompt.render({"caption": post["caption"] or "(none)", "comments": listed})
    try:
        answer = await chat.ask(chat.director(ctx.settings), prompt, user)
    except Permanent as exc:
        raise Reject(str(exc)) from None
    known = {c["comment_id"] for c in comments}
    scored = [{"comment_id": a["id"], "compound": a["score"], "positive": None,
               "neutral": None, "negative": None, "label": a["label"]}
              for a in answer.value["comments"] if a["id"] in known]
    await ctx.conn.execute(EVENT, f"sentiment.{PLATFORM}.scored", PLATFORM, post["post_id"], {
        "method": "gpt", "prompt_name": prompt.name, "prompt_version": prompt.version,
        "model": answer.model, "comments": len(scored), "tokens_in": answer.tokens_in,
        "tokens_out": answer.tokens_out,
        "cost_usd": own.cost_usd(answer.tokens_in, answer.tokens_out)})
    return list({row["comment_id"]: row for row in scored}.values())


async def sentiment_report(body: dict[str, Any], ctx: ListenerContext) -> None:
    """One report row per post: its scored comments summed up, and its keywords."""
    request = parse(Posts, body)
    for post_id in request.all_posts():
        post = await _stored_post(ctx, post_id)
        summary = dict(await ctx.conn.fetchrow(SUMMARY, PLATFORM, post_id, request.method))
        texts = [post["caption"] or "", *(c["text"] for c in
                                          await ctx.conn.fetch(COMMENTS, post_id))]
        found = keywords("\n".join(texts))
        mean = summary["compound_mean"]
        report = {**summary, "compound_mean": None if mean is None else round(mean, 4),
                  "keywords": found, "method": request.method}
        await ctx.conn.execute(REPORT, PLATFORM, post_id, request.method, summary["comments"],
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
