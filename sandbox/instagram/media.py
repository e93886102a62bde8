"""Media, stories, comments and insights of the sandbox's Instagram world (sandbox/instagram/
world.py), each generated alone from (seed, account, number) and its ids.

Ids encode where an item lives, so any id is resolved in O(1): a post's web pk is
POST_PK + index * 100,000 + number (number 1 = the account's oldest post), its Graph id
POST_GRAPH + the same key; carousel children and stories have ranges of their own. The
shortcode is the pk in Instagram's base64 alphabet (A-Za-z0-9-_), as Instagram derives it.
"""

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from itertools import product
from typing import TYPE_CHECKING, Literal

from sandbox import rng as r
from sandbox.instagram.text import AGES, CITIES, COMMENTS, HASHTAGS, caption

if TYPE_CHECKING:
    from sandbox.instagram.world import Account

MediaType = Literal["image", "carousel", "video", "reels", "story"]
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
PER_ACCOUNT = 100_000  # numbers of one account's posts stay below this
POST_PK, CHILD_PK, STORY_PK = (3_000_000_000_000_000_000, 3_100_000_000_000_000_000,
                               3_200_000_000_000_000_000)
POST_GRAPH, CHILD_GRAPH, STORY_GRAPH = (17_900_000_000_000_000, 18_000_000_000_000_000,
                                        18_100_000_000_000_000)
COMMENT_BASE = 180_000_000_000_000_000
_RANGE = 10**17  # width of each id range above
HASHTAG_IDS = {name: str(17843000000000000 + 7919 * (i + 1)) for i, name in enumerate(HASHTAGS)}
HASHTAG_NAMES = {v: k for k, v in HASHTAG_IDS.items()}
POOL_RECENT = 150  # recent media per pool account scanned for hashtag and tag pages
MAX_COMMENTS = PER_ACCOUNT - 1
DIMENSIONS = {"media_product_type": ("POST", "CAROUSEL_CONTAINER", "REEL", "STORY", "AD",
                                     "IGTV"),
              "follow_type": ("FOLLOWER", "NON_FOLLOWER"),
              "contact_button_type": ("BOOK_NOW", "CALL", "DIRECTION", "EMAIL", "TEXT"),
              "action_type": ("bio_link_clicked", "call", "direction", "email", "text")}
COUNTRIES = ("US", "GB", "BR", "DE", "FR", "ES", "IN", "JP", "CA", "AU", "MX", "IT", "NL")


@dataclass(frozen=True)
class Media:
    pk: str  # the web's media pk
    graph_id: str  # the Graph API's IG media id
    shortcode: str
    owner_index: int
    owner_handle: str
    owner_graph_id: str | None
    number: int  # posts: 1 = the account's oldest; stories and children: their position
    media_type: MediaType
    video: bool  # a video (video, reels, a video story or carousel child)
    caption: str | None
    hashtags: tuple[str, ...]
    taken_at: datetime
    likes: int | None
    comments: int | None
    plays: int | None
    display_url: str
    video_url: str | None
    owner_followers: int
    children: tuple["Media", ...] = ()
    tagged: tuple[int, ...] = ()  # indexes of the accounts tagged
    expires_at: datetime | None = None
    is_child: bool = False

    @property
    def permalink(self) -> str:
        if self.media_type == "story":
            return f"https://www.instagram.com/stories/{self.owner_handle}/{self.pk}/"
        kind = "reel" if self.media_type == "reels" else "p"
        return f"https://www.instagram.com/{kind}/{self.shortcode}/"


@dataclass(frozen=True)
class Comment:
    comment_id: str  # the same number on the web (pk) and the Graph API (id)
    media_pk: str
    media_graph_id: str
    text: str
    author_index: int
    author_handle: str
    author_pk: str
    likes: int
    replies: int
    created: datetime


def shortcode(pk: int) -> str:
    """The pk in Instagram's URL-safe base64 alphabet, most significant digit first."""
    out = ""
    while pk:
        pk, digit = divmod(pk, 64)
        out = ALPHABET[digit] + out
    return out or "A"


def shortcode_pk(code: str) -> int | None:
    """The pk of a shortcode (the first 11 characters; longer web codes carry extra)."""
    code = code[:11]
    if not code or any(c not in ALPHABET for c in code):
        return None
    pk = 0
    for c in code:
        pk = pk * 64 + ALPHABET.index(c)
    return pk


def decode_id(value: int) -> tuple[str, int, int, int] | None:
    """(what, account index, number, child) of a post, child or story id (pk or Graph id)."""
    for base, what in ((POST_PK, "post"), (CHILD_PK, "child"), (STORY_PK, "story"),
                       (POST_GRAPH, "post"), (CHILD_GRAPH, "child"), (STORY_GRAPH, "story")):
        key = value - base
        if 0 <= key < (_RANGE if base >= POST_PK else 10**17 // 1000):
            if what == "story":
                return what, key // 100, key % 100, 0
            if what == "child":
                key, child = divmod(key, 10)
                return what, key // PER_ACCOUNT, key % PER_ACCOUNT, child
            return what, key // PER_ACCOUNT, key % PER_ACCOUNT, 0
    return None


def hashtag_id(name: str) -> str:
    return HASHTAG_IDS[name]


def media_hashtags(seed: int, index: int, number: int) -> tuple[str, ...]:
    """A post's hashtags, cheaply (hashtag pages scan many posts); none without a caption."""
    raw = r.digest(seed, "hashtags", index, number)
    return tuple(dict.fromkeys(HASHTAGS[b % len(HASHTAGS)] for b in raw[1:1 + raw[0] % 5]))


def taken_at(seed: int, account: "Account", number: int, now: datetime) -> datetime:
    """Newest first, spread from the account's creation to two hours before `now`."""
    position = account.media_count - number
    newest = now - timedelta(hours=2)
    span = (newest - account.created - timedelta(days=1)) / max(1, account.media_count)
    jitter = 0.9 * r.unit(seed, "taken", account.index, number)
    return (newest - span * (position + jitter)).replace(microsecond=0)


@lru_cache(maxsize=65_536)  # a pure function, and the hot path of profile answers
def media(seed: int, account: "Account", number: int, now: datetime,
          pool: tuple[int, ...]) -> Media:
    rand = r.rng_for(seed, "media", account.index, number)
    kind: MediaType = _media_type(rand)
    key = account.index * PER_ACCOUNT + number
    likes = int(account.followers * min(0.5, r.lognormal(rand, 0.03, 0.7)))
    comments = min(MAX_COMMENTS, int(likes * rand.uniform(0.005, 0.06)))
    has_caption = rand.random() < 0.95
    hashtags = media_hashtags(seed, account.index, number) if has_caption else ()
    video = kind in ("video", "reels")
    pk = POST_PK + key
    others = [i for i in pool if i != account.index]
    tagged = (others[rand.randrange(len(others))],) if others and rand.random() < 0.15 else ()
    base = Media(
        pk=str(pk), graph_id=str(POST_GRAPH + key), shortcode=shortcode(pk),
        owner_index=account.index, owner_handle=account.handle,
        owner_graph_id=account.graph_id, number=number, media_type=kind, video=video,
        caption=caption(rand, hashtags) if has_caption else None, hashtags=hashtags,
        taken_at=taken_at(seed, account, number, now), likes=likes, comments=comments,
        plays=int(likes * rand.uniform(8, 30)) if video else None,
        display_url=_cdn(rand, "jpg"), video_url=_cdn(rand, "mp4") if video else None,
        owner_followers=account.followers, tagged=tagged)
    if kind != "carousel":
        return base
    kids = tuple(_child(rand, base, key, k) for k in range(rand.randint(2, 10)))
    return Media(**{**base.__dict__, "children": kids})


def _media_type(rand: random.Random) -> MediaType:
    u = rand.random()
    return "image" if u < 0.5 else "carousel" if u < 0.72 else "video" if u < 0.82 else "reels"


def _child(rand: random.Random, parent: Media, key: int, k: int) -> Media:
    pk = CHILD_PK + key * 10 + k
    video = rand.random() < 0.2
    return Media(
        pk=str(pk), graph_id=str(CHILD_GRAPH + key * 10 + k), shortcode=shortcode(pk),
        owner_index=parent.owner_index, owner_handle=parent.owner_handle,
        owner_graph_id=parent.owner_graph_id, number=k, media_type="video" if video else "image",
        video=video, caption=None, hashtags=(), taken_at=parent.taken_at - timedelta(seconds=1),
        likes=None, comments=None, plays=None, display_url=_cdn(rand, "jpg"),
        video_url=_cdn(rand, "mp4") if video else None, owner_followers=parent.owner_followers,
        is_child=True)


def stories(seed: int, account: "Account", now: datetime) -> list[Media]:
    """0-3 stories (3 for the owner, 5 for the million account) posted in the last 24 h."""
    rand = r.rng_for(seed, "stories", account.index)
    count = {0: 3, 1: 5}.get(account.index, rand.randint(0, 3))
    ages = sorted(rand.uniform(0.2, 23.5) for _ in range(count))
    found = []
    for s, age in enumerate(ages):
        pk = STORY_PK + account.index * 100 + s
        video = rand.random() < 0.4
        posted = (now - timedelta(hours=age)).replace(microsecond=0)
        found.append(Media(
            pk=str(pk), graph_id=str(STORY_GRAPH + account.index * 100 + s),
            shortcode=shortcode(pk), owner_index=account.index, owner_handle=account.handle,
            owner_graph_id=account.graph_id, number=s, media_type="story", video=video,
            caption=None, hashtags=(), taken_at=posted, likes=None, comments=None, plays=None,
            display_url=_cdn(rand, "jpg"), video_url=_cdn(rand, "mp4") if video else None,
            owner_followers=account.followers, expires_at=posted + timedelta(hours=24)))
    return found


def comment(seed: int, media: Media, position: int, now: datetime,
            author: "Account") -> Comment:
    """The comment at `position` (0 = newest) of a post."""
    rand = r.rng_for(seed, "comment", media.pk, position)
    count = media.comments or 0
    share = ((count - position) / (count + 1)) ** 2
    key = (int(media.pk) - POST_PK) * PER_ACCOUNT + position
    return Comment(
        comment_id=str(COMMENT_BASE + key), media_pk=media.pk, media_graph_id=media.graph_id,
        text=rand.choice(COMMENTS), author_index=author.index, author_handle=author.handle,
        author_pk=author.pk, likes=int(r.lognormal(rand, 2, 1.2)) if rand.random() < 0.6 else 0,
        replies=rand.choice((0, 0, 0, 1, 2)),
        created=(media.taken_at + (now - media.taken_at) * share).replace(microsecond=0))


def insights(seed: int, media: Media) -> dict[str, int]:
    rand = r.rng_for(seed, "insights", media.pk)
    followers = media.owner_followers
    reach = int(followers * rand.uniform(0.08, 0.5) + (media.likes or 0) * 1.5)
    found = {"reach": reach, "impressions": int(reach * rand.uniform(1.1, 1.9)),
             "shares": int(reach * rand.uniform(0.001, 0.01)),
             "profile_visits": int(reach * rand.uniform(0.005, 0.03)),
             "follows": int(reach * rand.uniform(0.0, 0.003))}
    if media.media_type == "story":
        found |= {"replies": int(reach * rand.uniform(0.001, 0.01)),
                  "exits": int(reach * rand.uniform(0.02, 0.1)),
                  "taps_forward": int(reach * rand.uniform(0.3, 0.7)),
                  "taps_back": int(reach * rand.uniform(0.01, 0.05))}
        found["navigation"] = found["exits"] + found["taps_forward"] + found["taps_back"]
        found["total_interactions"] = found["replies"] + found["shares"]
        return found
    likes, comments = media.likes or 0, media.comments or 0
    found |= {"likes": likes, "comments": comments, "saved": int(likes * rand.uniform(0.01, 0.1))}
    if media.plays is not None:
        found["plays"] = found["views"] = media.plays
    found["total_interactions"] = likes + comments + found["saved"] + found["shares"]
    return found


def account_day(seed: int, account: "Account", day: date) -> dict[str, int]:
    rand = r.rng_for(seed, "account_day", account.index, day.isoformat())
    reach = int(account.followers * rand.uniform(0.05, 0.3)) + 1
    likes = int(reach * rand.uniform(0.02, 0.08))
    comments, shares = int(likes * rand.uniform(0.01, 0.06)), int(likes * rand.uniform(0, .05))
    saves, replies = int(likes * rand.uniform(0.01, 0.08)), int(likes * rand.uniform(0, 0.02))
    impressions = int(reach * rand.uniform(1.2, 2.5))
    return {"reach": reach, "impressions": impressions,
            "views": int(impressions * rand.uniform(1.0, 1.4)),
            "profile_views": int(reach * rand.uniform(0.01, 0.05)),
            "accounts_engaged": int(reach * rand.uniform(0.02, 0.08)), "likes": likes,
            "comments": comments, "shares": shares, "saves": saves, "replies": replies,
            "total_interactions": likes + comments + shares + saves + replies,
            "website_clicks": int(reach * rand.uniform(0.001, 0.01)),
            "profile_links_taps": int(reach * rand.uniform(0.001, 0.01)),
            "follows_and_unfollows": int(account.followers * rand.uniform(0.0005, 0.003)),
            "follower_count": int(account.followers * rand.uniform(0.0005, 0.003))}


def breakdown(seed: int, index: int, metric: str, dimensions: tuple[str, ...],
              total: int) -> dict[tuple[str, ...], int]:
    """`total` split over every combination of the dimensions' values (unknown: "UNKNOWN")."""
    combos = list(product(*(DIMENSIONS.get(d, ("UNKNOWN",)) for d in dimensions)))
    return _split(seed, total, combos, "breakdown", index, metric, *dimensions)


def demographics(seed: int, account: "Account", by: str) -> dict[str, int]:
    names = {"age": AGES, "gender": ("F", "M", "U"), "city": tuple(c for c, _ in CITIES),
             "country": COUNTRIES}.get(by, ())
    labels: list[tuple[str, ...]] = [(name,) for name in names]
    # Cities cover the top ones only: about 60 % of the followers.
    total = int(account.followers * (0.6 if by == "city" else 1.0))
    split = _split(seed, total, labels, "demographics", account.index, by)
    return {k[0]: v for k, v in sorted(split.items(), key=lambda kv: -kv[1])}


def _split(seed: int, total: int, combos: list[tuple[str, ...]],
           *parts: str | int) -> dict[tuple[str, ...], int]:
    if not combos:
        return {}
    rand = r.rng_for(seed, *parts)
    weights = [rand.random() ** 2 + 0.01 for _ in combos]
    scale = sum(weights)
    shares = [int(total * w / scale) for w in weights]
    shares[weights.index(max(weights))] += total - sum(shares)
    return {combo: n for combo, n in zip(combos, shares, strict=True) if n > 0}


def _cdn(rand: random.Random, ext: str) -> str:
    host = "scontent" if ext == "jpg" else "video"
    folder = "t51.29350-15" if ext == "jpg" else "t50.2886-16"
    token = f"{rand.getrandbits(40)}_{rand.getrandbits(52)}_{rand.getrandbits(62)}"
    return f"https://{host}.cdninstagram.com/v/{folder}/{token}_n.{ext}"
