"""The `hashtags` listener: on each post.<platform>.created event, read the stored post's text
through its platform's `PostText` and count its hashtags in Redis (core/hashtags/counts.py).

The consumer framework already skips an event id it recorded; Redis keeps its own mark per
post too, in the same script as the counts, so an event whose counts reached Redis but whose
database transaction did not commit is still counted once when it comes back (and a post that
`beat trending --rebuild` counted before its event arrived is not counted again)."""

from typing import Any

from core.config import Settings
from core.consumers import Listener, ListenerContext, Reject
from core.events import events_queue
from core.hashtags.counts import HashtagCounts
from core.hashtags.extract import hashtags
from core.platforms import registry
from core.posttext import PostText

ROUTING_KEY = "post.*.created"


def post_text_query(text: PostText) -> str:
    """One stored post's text and when it counts as posted, by the key its events carry."""
    return (f"SELECT {text.text_sql()} AS text, {text.time_sql()} AS posted "
            f"FROM {text.table} AS p WHERE p.{text.key} = $1")


async def count_hashtags(body: dict[str, Any], ctx: ListenerContext) -> None:
    """Count the hashtags of the post the event announces (nothing for a platform that does
    not say what its posts' text is, or a post no longer stored)."""
    platform_name, key = body.get("platform"), body.get("entity_key")
    if not isinstance(platform_name, str) or not isinstance(key, str):
        raise Reject("a post event names its platform and entity_key")
    platform = registry(ctx.settings).get(platform_name)
    if platform is None or platform.post_text is None:
        ctx.log.debug("hashtags: %s posts have no text to read", platform_name)
        return
    row = await ctx.conn.fetchrow(post_text_query(platform.post_text), key)
    if row is None:
        return
    found = hashtags(row["text"])
    if found:
        await _counts(ctx).record(platform.name, key, found, row["posted"])


def _counts(ctx: ListenerContext) -> HashtagCounts:
    if "hashtag_counts" not in ctx.state:
        ctx.state["hashtag_counts"] = HashtagCounts.from_settings(ctx.settings)
    counts: HashtagCounts = ctx.state["hashtag_counts"]
    return counts


def hashtags_listener(settings: Settings) -> Listener:
    """The listener on the events exchange the relay publishes to (AMQP_EXCHANGE): queue
    `hashtags_q` on the default exchange, `<exchange>.hashtags_q` on another."""
    return Listener("hashtags", settings.amqp_exchange, "topic", ROUTING_KEY,
                    events_queue(settings.amqp_exchange, "hashtags_q"), 50, count_hashtags)
