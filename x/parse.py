"""`beat parse --platform x`: a raw answer of either X source (GraphQL TweetResultByRestId,
TweetDetail, UserByScreenName; the syndication tweet, bare or as react-tweet wraps it) as
normalized records, the shape recognised from the document. A deleted or protected tweet has
no record: its answer is reported in one line."""

from typing import Any

from core.errors import Permanent
from core.normalized import Normalized
from core.parsing import UnknownShape, shape_errors
from x.sources.graphql_parse import (
    detail_tweets,
    parse_tweet,
    parse_user,
    tweet_result_of,
    user_result_of,
)
from x.sources.syndication_parse import parse_syndication


@shape_errors
def normalize_document(document: Any) -> list[Normalized]:
    """Every tweet and account in `document`; UnknownShape when no source's shape fits, or
    for a tombstone (a deleted tweet) or a protected tweet."""
    try:
        return _read(document)
    except Permanent as exc:
        raise UnknownShape(f"no tweet to print: {exc}") from None


def _read(document: Any) -> list[Normalized]:
    data = document.get("data") if isinstance(document, dict) else None
    if isinstance(data, dict) and "tweetResult" in data:
        result = tweet_result_of(document)
        if result is None:
            raise UnknownShape("an empty tweetResult: X's answer for a tweet that does not "
                               "exist")
        return [parse_tweet(result).normalized()]
    if isinstance(data, dict) and "threaded_conversation_with_injections_v2" in data:
        return [parse_tweet(t).normalized() for t in detail_tweets(document)]
    if isinstance(data, dict) and "user" in data and "__typename" not in data:
        user = user_result_of(document)
        if user is None:
            raise UnknownShape("an empty user answer: X's answer for an unknown account")
        return [parse_user(user).normalized()]
    if isinstance(document, dict) and ("__typename" in document or
                                       isinstance(data, dict) and "__typename" in data):
        return [parse_syndication(document).normalized()]
    raise UnknownShape("not an X GraphQL or syndication answer Beat knows")
