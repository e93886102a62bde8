"""Read the syndication answer behind embedded tweets (cdn.syndication.twimg.com/tweet-result,
also as react-tweet's API wraps it in {"data": …}): a Tweet with favorite_count,
conversation_count (replies), the text and the author, but no retweet, quote or view counts
for the tweet itself (those are None, never 0). A TweetTombstone is a deleted tweet."""

from typing import Any

from core.normalized import parse_time, to_int
from core.parsing import UnknownShape
from x.models import SYNDICATION, Tweet
from x.sources.errors import Deleted
from x.sources.graphql_parse import first_media_url

Json = dict[str, Any]


def syndication_tweet(body: Any) -> Json:
    """The tweet object of an answer (unwrapping react-tweet's {"data": …})."""
    if isinstance(body, dict) and "__typename" not in body and isinstance(body.get("data"), dict):
        body = body["data"]
    if not isinstance(body, dict):
        raise UnknownShape("a syndication answer is a JSON object")
    if body.get("__typename") == "TweetTombstone":
        text = ((body.get("tombstone") or {}).get("text") or {}).get("text") or "a tombstone"
        raise Deleted(f"tweet deleted: {text}")
    if body.get("__typename") != "Tweet" or "id_str" not in body:
        raise UnknownShape(f"not a syndication tweet: {body.get('__typename')}")
    return body


def parse_syndication(body: Any, source: str = SYNDICATION) -> Tweet:
    tweet = syndication_tweet(body)
    user = tweet.get("user") or {}
    media = tweet.get("mediaDetails") or []
    return Tweet(
        tweet_id=str(tweet["id_str"]), user_id=user.get("id_str"),
        handle=user.get("screen_name"), text=tweet.get("text"),
        likes=to_int(tweet.get("favorite_count")),
        replies=to_int(tweet.get("conversation_count")),
        lang=tweet.get("lang"),
        quoted_tweet_id=(tweet.get("quoted_tweet") or {}).get("id_str"),
        has_video="video" in tweet or any(m.get("type") == "video" for m in media),
        thumbnail_url=first_media_url(media) or _poster(tweet),
        created_at=parse_time(tweet.get("created_at")),
        source=source)


def _poster(tweet: Json) -> str | None:
    """A video's poster frame where mediaDetails is absent; else the first photo."""
    video = tweet.get("video")
    if isinstance(video, dict) and video.get("poster"):
        return str(video["poster"])
    photos = tweet.get("photos")
    if isinstance(photos, list) and photos and isinstance(photos[0], dict):
        return photos[0].get("url")
    return None
