"""The sandbox's X answers in the real shapes: the syndication tweet (as
cdn.syndication.twimg.com answers embeds), its tombstone, and GraphQL tweet and user results
(legacy user shape, or the 2026 one for accounts that have it)."""

from datetime import datetime
from typing import Any

from sandbox.x.world import Account, Tweet, World

Json = dict[str, Any]
TOMBSTONE_TEXT = "This Post was deleted by the Post author. Learn more"


def twitter_time(moment: datetime) -> str:
    return moment.strftime("%a %b %d %H:%M:%S +0000 %Y")


def syndication(world: World, tweet: Tweet) -> Json:
    if tweet.deleted:
        return {"__typename": "TweetTombstone",
                "tombstone": {"text": {"text": TOMBSTONE_TEXT, "entities": [], "rtl": False}}}
    user = world.accounts[tweet.user_id]
    body: Json = {
        "__typename": "Tweet", "lang": "en", "favorite_count": tweet.likes,
        "created_at": tweet.created_at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "display_text_range": [0, len(tweet.text)],
        "entities": {"hashtags": [], "urls": [], "user_mentions": [], "symbols": []},
        "id_str": tweet.tweet_id, "text": tweet.text,
        "user": {"id_str": user.user_id, "name": user.name, "screen_name": user.handle,
                 "is_blue_verified": user.verified, "verified": False,
                 "profile_image_url_https": _avatar(user)},
        "conversation_count": tweet.replies, "news_action_type": "conversation",
        "isEdited": False, "isStaleEdit": False,
    }
    if tweet.video:
        body["mediaDetails"] = [{"type": "video", "media_url_https": _media(tweet)}]
        body["video"] = {"viewCount": tweet.views, "variants": [], "poster": _media(tweet)}
    elif tweet.photo:
        body["mediaDetails"] = [{"type": "photo", "media_url_https": _photo(tweet)}]
        body["photos"] = [{"url": _photo(tweet), "width": 1200, "height": 675}]
    if tweet.quoted_id and tweet.quoted_id in world.tweets:
        quoted = syndication(world, world.tweets[tweet.quoted_id])
        body["quoted_tweet"] = {**quoted, "reply_count": tweet.replies,
                                "retweet_count": tweet.retweets}
    return body


def tweet_result(world: World, tweet: Tweet, depth: int = 0) -> Json:
    """A GraphQL tweet result: a tombstone, TweetUnavailable for a protected account's tweet,
    else the tweet with its legacy counts and views."""
    user = world.accounts[tweet.user_id]
    if tweet.deleted:
        return {"__typename": "TweetTombstone",
                "tombstone": {"__typename": "TextTombstone",
                              "text": {"rtl": False, "text": TOMBSTONE_TEXT, "entities": []}}}
    if user.protected:
        return {"__typename": "TweetUnavailable", "reason": "Protected"}
    views: Json = {"state": "Enabled"} if tweet.views is None else \
        {"count": str(tweet.views), "state": "EnabledWithCount"}
    legacy: Json = {
        "bookmark_count": tweet.bookmarks, "bookmarked": False,
        "created_at": twitter_time(tweet.created_at), "conversation_id_str": tweet.tweet_id,
        "display_text_range": [0, len(tweet.text)],
        "entities": {"hashtags": [], "symbols": [], "timestamps": [], "urls": [],
                     "user_mentions": []},
        "favorite_count": tweet.likes, "favorited": False, "full_text": tweet.text,
        "is_quote_status": tweet.quoted_id is not None, "lang": "en",
        "quote_count": tweet.quotes, "reply_count": tweet.replies,
        "retweet_count": tweet.retweets, "retweeted": False, "user_id_str": user.user_id,
        "id_str": tweet.tweet_id,
    }
    result: Json = {"__typename": "Tweet", "rest_id": tweet.tweet_id,
                    "core": {"user_results": {"result": user_result(user)}},
                    "is_translatable": False, "views": views,
                    "source": '<a href="https://x.com" rel="nofollow">X Web App</a>',
                    "legacy": legacy}
    if tweet.video or tweet.photo:
        kind, url = ("video", _media(tweet)) if tweet.video else ("photo", _photo(tweet))
        legacy["extended_entities"] = {"media": [{"type": kind, "id_str": tweet.tweet_id,
                                                  "media_url_https": url}]}
    if tweet.quoted_id and depth == 0 and tweet.quoted_id in world.tweets:
        legacy["quoted_status_id_str"] = tweet.quoted_id
        result["quoted_status_result"] = {
            "result": tweet_result(world, world.tweets[tweet.quoted_id], depth + 1)}
    return result


def user_result(user: Account) -> Json:
    return _user_2026(user) if user.shape_2026 else _user_legacy(user)


def _user_legacy(user: Account) -> Json:
    return {
        "__typename": "User", "id": f"VXNlcjo{user.user_id}", "rest_id": user.user_id,
        "is_blue_verified": user.verified,
        "legacy": {
            "created_at": twitter_time(user.created_at), "default_profile": False,
            "description": f"{user.name} in the sandbox", "fast_followers_count": 0,
            "favourites_count": user.favourites, "followers_count": user.followers,
            "friends_count": user.following, "listed_count": user.listed, "location": "",
            "media_count": user.media, "name": user.name,
            "normal_followers_count": user.followers, "pinned_tweet_ids_str": [],
            "possibly_sensitive": False, "profile_image_url_https": _avatar(user),
            "protected": user.protected, "screen_name": user.handle,
            "statuses_count": user.tweets, "verified": False, "withheld_in_countries": [],
        },
    }


def _user_2026(user: Account) -> Json:
    return {
        "__typename": "User", "id": f"VXNlcjo{user.user_id}", "rest_id": user.user_id,
        "action_counts": {"favorites_count": user.favourites},
        "avatar": {"image_url": _avatar(user)},
        "core": {"created_at": twitter_time(user.created_at), "name": user.name,
                 "screen_name": user.handle},
        "is_blue_verified": user.verified, "location": {"location": "Sandbox"},
        "privacy": {"protected": user.protected},
        "profile_bio": {"description": f"{user.name} in the sandbox"},
        "relationship_counts": {"followers": user.followers, "following": user.following},
        "tweet_counts": {"media_tweets": user.media, "tweets": user.tweets},
        "verification": {"verified": False},
    }


def _avatar(user: Account) -> str:
    return f"https://pbs.twimg.com/profile_images/{user.user_id}/sandbox_normal.jpg"


def _media(tweet: Tweet) -> str:
    return f"https://pbs.twimg.com/amplify_video_thumb/{tweet.tweet_id}/img/sandbox.jpg"


def _photo(tweet: Tweet) -> str:
    return f"https://pbs.twimg.com/media/sandbox{tweet.tweet_id}.jpg"
