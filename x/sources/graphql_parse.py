"""Read the GraphQL answers of X's web app: TweetResultByRestId ({"data": {"tweetResult":
{"result": tweet}}}), TweetDetail (a timeline of entries whose itemContent holds tweets) and
UserByScreenName / UserByRestId ({"data": {"user": {"result": user}}}), in both user shapes:
the legacy one (counts under `legacy`) and the 2026 one (core, relationship_counts,
tweet_counts, verification, privacy).

A tweet result may be wrapped (TweetWithVisibilityResults: the tweet under `tweet`), a
tombstone (deleted: Deleted) or TweetUnavailable (reason Protected: Protected; else Deleted).
An empty result ({"tweetResult": {}}) is how X answers for a tweet that does not exist.
Views are None when `views` has no count (old tweets: state "Enabled" without one).
"""

from datetime import UTC, datetime
from typing import Any

from core.normalized import to_int
from core.parsing import UnknownShape
from x.models import GRAPHQL, Account, Tweet
from x.sources.errors import Deleted, Protected

TWITTER_TIME = "%a %b %d %H:%M:%S %z %Y"  # Tue Mar 21 20:50:14 +0000 2006
VIDEO_TYPES = ("video", "animated_gif")
Json = dict[str, Any]


def twitter_time(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.strptime(str(value), TWITTER_TIME).astimezone(UTC)


def tweet_result_of(body: Any) -> Json | None:
    """The result of a TweetResultByRestId answer; None for an empty one (no such tweet)."""
    result = body["data"]["tweetResult"]
    return result.get("result") if isinstance(result, dict) else None


def user_result_of(body: Any) -> Json | None:
    """The result of a UserByScreenName / UserByRestId answer; None when there is no user."""
    user = body["data"].get("user")
    return user.get("result") if isinstance(user, dict) else None


def unwrap(result: Json) -> Json:
    """The tweet itself; Deleted for a tombstone or an unavailable tweet, Protected for a
    protected account's."""
    kind = result.get("__typename")
    if kind == "TweetWithVisibilityResults":
        result = result["tweet"]
        kind = result.get("__typename", "Tweet")
    if kind == "TweetTombstone":
        raise Deleted(f"tweet deleted: {_tombstone_text(result)}")
    if kind == "TweetUnavailable":
        reason = str(result.get("reason") or "Unavailable")
        if reason == "Protected":
            raise Protected("the tweet's account is protected: only its followers see it")
        raise Deleted(f"tweet unavailable ({reason})")
    if kind not in (None, "Tweet"):
        raise UnknownShape(f"not a tweet result: {kind}")
    return result


def _tombstone_text(result: Json) -> str:
    text = (result.get("tombstone") or {}).get("text") or {}
    return str(text.get("text") or "a tombstone")


def parse_tweet(result: Json, source: str = GRAPHQL) -> Tweet:
    """A (possibly wrapped) tweet result as a Tweet."""
    tweet = unwrap(result)
    legacy = tweet["legacy"]
    user = tweet.get("core", {}).get("user_results", {}).get("result") or {}
    quoted = (tweet.get("quoted_status_result") or {}).get("result") or {}
    media = (legacy.get("extended_entities") or {}).get("media") or []
    return Tweet(
        tweet_id=str(tweet.get("rest_id") or legacy["id_str"]),
        user_id=legacy.get("user_id_str") or user.get("rest_id"),
        handle=_screen_name(user),
        text=_text(tweet, legacy),
        likes=to_int(legacy.get("favorite_count")),
        replies=to_int(legacy.get("reply_count")),
        retweets=to_int(legacy.get("retweet_count")),
        quotes=to_int(legacy.get("quote_count")),
        bookmarks=to_int(legacy.get("bookmark_count")),
        views=to_int((tweet.get("views") or {}).get("count")),
        lang=legacy.get("lang"),
        quoted_tweet_id=legacy.get("quoted_status_id_str") or quoted.get("rest_id"),
        has_video=any(m.get("type") in VIDEO_TYPES for m in media),
        thumbnail_url=first_media_url(media),
        created_at=twitter_time(legacy.get("created_at")),
        source=source,
    )


def first_media_url(media: list[Json]) -> str | None:
    """The first attached photo, or a video's poster frame (media_url_https of either)."""
    for item in media:
        if isinstance(item, dict) and item.get("media_url_https"):
            return str(item["media_url_https"])
    return None


def _text(tweet: Json, legacy: Json) -> str | None:
    """A long tweet's whole text is its note tweet; full_text is cut at 280 characters."""
    note = (((tweet.get("note_tweet") or {}).get("note_tweet_results") or {})
            .get("result") or {}).get("text")
    return note or legacy.get("full_text")


def _screen_name(user: Json) -> str | None:
    return (user.get("core") or {}).get("screen_name") or \
        (user.get("legacy") or {}).get("screen_name")


def parse_user(user: Json, source: str = GRAPHQL) -> Account:
    """A user result, legacy or 2026 shape."""
    if user.get("__typename") == "UserUnavailable":
        raise Deleted(f"account unavailable ({user.get('reason') or 'unavailable'})")
    if "legacy" in user and user["legacy"].get("screen_name"):
        return _legacy_user(user, source)
    return _user_2026(user, source)


def _legacy_user(user: Json, source: str) -> Account:
    legacy = user["legacy"]
    return Account(
        user_id=str(user["rest_id"]), handle=legacy["screen_name"], name=legacy.get("name"),
        description=legacy.get("description"), location=legacy.get("location") or None,
        followers=to_int(legacy.get("followers_count")),
        following=to_int(legacy.get("friends_count")),
        tweets=to_int(legacy.get("statuses_count")),
        listed=to_int(legacy.get("listed_count")),
        media_count=to_int(legacy.get("media_count")),
        favourites=to_int(legacy.get("favourites_count")),
        verified=legacy.get("verified"), blue_verified=user.get("is_blue_verified"),
        protected=bool(legacy.get("protected")),
        profile_image_url=legacy.get("profile_image_url_https"),
        created_at=twitter_time(legacy.get("created_at")), source=source)


def _user_2026(user: Json, source: str) -> Account:
    core = user["core"]
    counts = user.get("relationship_counts") or {}
    tweets = user.get("tweet_counts") or {}
    return Account(
        user_id=str(user["rest_id"]), handle=core["screen_name"], name=core.get("name"),
        description=(user.get("profile_bio") or {}).get("description"),
        location=(user.get("location") or {}).get("location") or None,
        followers=to_int(counts.get("followers")), following=to_int(counts.get("following")),
        tweets=to_int(tweets.get("tweets")), media_count=to_int(tweets.get("media_tweets")),
        favourites=to_int((user.get("action_counts") or {}).get("favorites_count")),
        verified=(user.get("verification") or {}).get("verified"),
        blue_verified=user.get("is_blue_verified"),
        protected=bool((user.get("privacy") or {}).get("protected")),
        profile_image_url=(user.get("avatar") or {}).get("image_url"),
        created_at=twitter_time(core.get("created_at")), source=source)


def detail_tweets(body: Any) -> list[Json]:
    """The tweet results of a TweetDetail answer, in timeline order (the focal tweet first,
    then the replies of each conversation thread)."""
    found: list[Json] = []
    timeline = body["data"]["threaded_conversation_with_injections_v2"]
    for instruction in timeline["instructions"]:
        for entry in instruction.get("entries", []):
            content = entry["content"]
            items = [content] + [i["item"] for i in content.get("items", [])]
            for item in items:
                result = (item.get("itemContent") or {}).get("tweet_results", {}).get("result")
                if result is not None:
                    found.append(result)
    return found
