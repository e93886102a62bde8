"""The sandbox's Instagram: a deterministic world of accounts, media, stories, comments, likers,
followers, hashtags and insights from a seed, for every Instagram stand-in (Graph API, web JSON,
RapidAPI-style provider). Nothing is laid out up front: an account is a pure function of
(seed, index), a media of (seed, account, number), so any item is generated alone in O(1).
The world's clock is fixed at WORLD_NOW.

    world = build_world(1)
    world.account_by_handle("million.brand")   # Account, or None for an unknown handle
    world.account_by_id("17841400000000101")   # by Graph IG user id or by web pk
    world.business_handles(5000)               # distinct business/creator handles, cheap
    world.media_of(account, start, count)      # Media, newest first (positions start...)
    world.media_by_id(id) / media_by_shortcode(code)   # pk, Graph id, child or story id
    world.stories_of(account)                  # Media (media_type "story"), live at WORLD_NOW
    world.comments_of(media, start, count)     # Comment, newest first; count = media.comments
    world.likers_of(media, start, count)       # Account
    world.followers_of(account, start, count) / following_of(...)      # Account
    world.hashtag(name) / hashtag_by_id(id), world.hashtag_media(name, top=False)
    world.tagged_media(account)                # Media of others that tag the account
    world.media_insights(media) -> dict; world.account_insights(account, day) -> dict
    world.insight_breakdown(account, metric, dimensions, day) -> {("REEL", "FOLLOWER"): n}
    world.follower_demographics(account, "age"|"gender"|"city"|"country") -> {"25-34": n}

Special handles: OWNER_HANDLE (index 0, Graph id 17841400000000101: the business account that
owns the sandbox Graph tokens), MILLION_HANDLE (a business account with exactly 1,000,000
followers, listed lazily by position), PRIVATE_HANDLE (private personal account),
PERSONAL_HANDLE (public personal account, no Graph id) and MISSING_HANDLE (does not exist).
Other handles end in their index ("sunny.bakery1234"). Ids: web pks are PK_BASE + index, Graph
IG user ids GRAPH_USER_BASE + index (business and creator accounts only). Listings of related
accounts are not reciprocal (A following B does not put A among B's followers).
"""

import random
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Literal

from sandbox import rng as r
from sandbox.instagram import media as m
from sandbox.instagram.media import Comment, Media
from sandbox.instagram.text import CATEGORIES, full_name, handle_words

WORLD_NOW = datetime(2025, 6, 1, tzinfo=UTC)
ACCOUNT_SPACE = 2_000_000
GRAPH_USER_BASE = 17841400000000101
PK_BASE = 5_100_000_000
OWNER_HANDLE, MILLION_HANDLE = "beat.sandbox", "million.brand"
PRIVATE_HANDLE, PERSONAL_HANDLE = "hidden.person", "just.a.person"
MISSING_HANDLE = "no.such.account"
MILLION_FOLLOWERS = 1_000_000
_SPECIAL = {OWNER_HANDLE: 0, MILLION_HANDLE: 1, PRIVATE_HANDLE: 2, PERSONAL_HANDLE: 3}
_FIRST_REGULAR = len(_SPECIAL)
_STRIDE = 1_000_003  # prime, larger than half the regular space: positions map one-to-one
_HANDLE = re.compile(r"^[a-z._]+?(\d+)$")
_FIRST = datetime(2012, 1, 1, tzinfo=UTC).timestamp()
_LAST = datetime(2023, 1, 1, tzinfo=UTC).timestamp()
POOL_SIZE = 40  # accounts whose recent media feed hashtag pages and tagged media

Kind = Literal["business", "creator", "personal"]


@dataclass(frozen=True)
class Account:
    index: int
    pk: str  # the web's user id
    graph_id: str | None  # the Graph API's IG user id (business and creator accounts only)
    handle: str
    full_name: str
    biography: str
    website: str | None
    category: str | None
    kind: Kind
    is_private: bool
    is_verified: bool
    followers: int
    following: int
    media_count: int
    created: datetime
    pic_token: str

    @property
    def is_business(self) -> bool:
        return self.kind != "personal"

    @property
    def fbid(self) -> str:
        return str(17841400000000000 + 9_000_000 + self.index)

    @property
    def profile_pic_url(self) -> str:
        return f"https://scontent.cdninstagram.com/v/t51.2885-19/{self.pic_token}_n.jpg"


@dataclass(frozen=True)
class Hashtag:
    hashtag_id: str
    name: str


class World:
    """Instagram of one seed; see the module docstring."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.now = WORLD_NOW
        self._hashtag_media: dict[str, list[Media]] = {}
        self._tagged: dict[int, list[Media]] | None = None
        self._pool_media: list[Media] | None = None
        self._pool_indexes: tuple[int, ...] | None = None

    # accounts

    def account(self, index: int) -> Account | None:
        if not 0 <= index < ACCOUNT_SPACE:
            return None
        return _account(self.seed, index)

    def account_by_handle(self, handle: str) -> Account | None:
        """Case-insensitive, with or without "@"; None for a handle that does not exist."""
        handle = handle.lower().lstrip("@")
        if handle in _SPECIAL:
            return self.account(_SPECIAL[handle])
        match = _HANDLE.match(handle)
        found = self.account(int(match.group(1))) if match else None
        return found if found is not None and found.handle == handle and \
            found.index >= _FIRST_REGULAR else None

    def account_by_id(self, account_id: str | int) -> Account | None:
        """By Graph IG user id (business/creator only) or by web pk."""
        value = int(account_id) if str(account_id).isdigit() else -1
        if value >= GRAPH_USER_BASE:
            found = self.account(value - GRAPH_USER_BASE)
            return found if found is not None and found.graph_id == str(value) else None
        return self.account(value - PK_BASE) if value >= PK_BASE else None

    def owner(self) -> Account:
        """The business account that owns the sandbox's Graph API tokens."""
        return _account(self.seed, 0)

    def million(self) -> Account:
        return _account(self.seed, 1)

    def business_handles(self, n: int) -> list[str]:
        """`n` distinct handles of public business/creator accounts (the special ones excluded),
        in index order: the same list for the same seed."""
        return [_account(self.seed, i).handle for i in self._business_indexes(n)]

    def _business_indexes(self, n: int) -> list[int]:
        found: list[int] = []
        index = _FIRST_REGULAR
        while len(found) < n and index < ACCOUNT_SPACE:
            kind, private = _kind(self.seed, index)
            if kind != "personal" and not private:
                found.append(index)
            index += 1
        return found

    def followers_of(self, account: Account, start: int = 0, count: int = 50) -> list[Account]:
        """Followers newest first, positions start..start+count (O(count))."""
        return self._related(account, "followers", account.followers, start, count)

    def following_of(self, account: Account, start: int = 0, count: int = 50) -> list[Account]:
        return self._related(account, "following", account.following, start, count)

    def _related(self, account: Account, what: str, total: int, start: int,
                 count: int) -> list[Account]:
        end = min(total, start + count)
        return [_account(self.seed, related_index(self.seed, f"{what}:{account.index}",
                                                  position, account.index))
                for position in range(max(0, start), end)]

    # media

    def media_of(self, account: Account, start: int = 0, count: int = 12) -> list[Media]:
        """The account's media (posts, carousels, videos, reels), newest first."""
        end = min(account.media_count, start + count)
        return [self._media(account, account.media_count - p) for p in range(max(0, start), end)]

    def media_by_id(self, media_id: str | int) -> Media | None:
        """A post, carousel child or story, by web pk or Graph media id."""
        decoded = m.decode_id(int(media_id)) if str(media_id).isdigit() else None
        if decoded is None:
            return None
        what, index, number, child = decoded
        account = self.account(index)
        if account is None:
            return None
        if what == "story":
            stories = self.stories_of(account)
            return stories[number] if number < len(stories) else None
        if not 1 <= number <= account.media_count:
            return None
        media = self._media(account, number)
        if what == "child":
            return media.children[child] if child < len(media.children) else None
        return media

    def media_by_shortcode(self, shortcode: str) -> Media | None:
        pk = m.shortcode_pk(shortcode)
        return self.media_by_id(pk) if pk is not None else None

    def stories_of(self, account: Account) -> list[Media]:
        """Stories live at WORLD_NOW (each expires 24 h after it was posted), newest first."""
        return m.stories(self.seed, account, self.now)

    def _media(self, account: Account, number: int) -> Media:
        return m.media(self.seed, account, number, self.now, self._pool())

    def comments_of(self, media: Media, start: int = 0, count: int = 50) -> list[Comment]:
        """Comments newest first; there are `media.comments` of them."""
        end = min(media.comments or 0, start + count)
        return [m.comment(self.seed, media, q, self.now, self._commenter(media, q))
                for q in range(max(0, start), end)]

    def _commenter(self, media: Media, position: int) -> Account:
        return _account(self.seed, related_index(self.seed, f"comments:{media.pk}", position,
                                                 media.owner_index))

    def likers_of(self, media: Media, start: int = 0, count: int = 50) -> list[Account]:
        end = min(media.likes or 0, start + count)
        return [_account(self.seed, related_index(self.seed, f"likers:{media.pk}", q,
                                                  media.owner_index))
                for q in range(max(0, start), end)]

    # hashtags and tags

    def hashtag(self, name: str) -> Hashtag | None:
        """A known hashtag (case-insensitive, with or without "#"); None otherwise."""
        name = name.lower().lstrip("#")
        return Hashtag(m.hashtag_id(name), name) if name in m.HASHTAG_IDS else None

    def hashtag_by_id(self, hashtag_id: str) -> Hashtag | None:
        name = m.HASHTAG_NAMES.get(hashtag_id)
        return Hashtag(hashtag_id, name) if name else None

    def hashtag_media(self, name: str, top: bool = False) -> list[Media]:
        """Public media with #name among the pool accounts' recent media: newest first, or
        (top) most liked first."""
        name = name.lower().lstrip("#")
        if name not in self._hashtag_media:
            self._hashtag_media[name] = [x for x in self._recent_pool_media()
                                         if name in x.hashtags]
        found = self._hashtag_media[name]
        return sorted(found, key=lambda x: (-(x.likes or 0), x.pk)) if top else found

    def tagged_media(self, account: Account) -> list[Media]:
        """Media of other accounts that tag `account`, newest first."""
        if self._tagged is None:
            self._tagged = {}
            for media in self._recent_pool_media():
                for tagged in media.tagged:
                    self._tagged.setdefault(tagged, []).append(media)
        return self._tagged.get(account.index, [])

    def _recent_pool_media(self) -> list[Media]:
        """The pool accounts' recent media, newest first (generated once per world)."""
        if self._pool_media is None:
            found = [x for index in self._pool() for x in
                     self.media_of(_account(self.seed, index), 0, m.POOL_RECENT)]
            self._pool_media = sorted(found, key=lambda x: x.taken_at, reverse=True)
        return self._pool_media

    def _pool(self) -> tuple[int, ...]:
        """The owner, the million account and the first public business accounts."""
        if self._pool_indexes is None:
            self._pool_indexes = (0, 1, *self._business_indexes(POOL_SIZE - 2))
        return self._pool_indexes

    # insights

    def media_insights(self, media: Media) -> dict[str, int]:
        """Lifetime insights of a media: impressions, reach, saved, plays, shares, likes,
        comments, total_interactions, profile_visits, follows (stories: replies, exits, ...)."""
        return m.insights(self.seed, media)

    def account_insights(self, account: Account, day: date) -> dict[str, int]:
        """One day of account insights (reach, impressions, views, profile_views,
        accounts_engaged, total_interactions, likes, comments, shares, saves, replies,
        website_clicks, follows_and_unfollows, follower_count)."""
        return m.account_day(self.seed, account, day)

    def insight_breakdown(self, account: Account, metric: str, dimensions: tuple[str, ...],
                          day: date) -> dict[tuple[str, ...], int]:
        """The day's `metric` split by dimensions (media_product_type, follow_type,
        contact_button_type, ...); figures add up to the metric's value."""
        total = self.account_insights(account, day).get(metric, 0)
        return m.breakdown(self.seed, account.index, metric, dimensions, total)

    def follower_demographics(self, account: Account, by: str) -> dict[str, int]:
        """Followers by age ("25-34"), gender ("F", "M", "U"), city ("London, England") or
        country ("GB"); figures add up to about the follower count."""
        return m.demographics(self.seed, account, by)


@lru_cache(maxsize=8)
def build_world(seed: int = 1) -> World:
    """The world of `seed` (cached: the same object for the same seed)."""
    return World(seed)


def related_index(seed: int, listing: str, position: int, avoid: int) -> int:
    """The account at `position` of a listing: a one-to-one walk over the regular accounts
    from an offset of the listing's own, so page N costs O(page) at any depth."""
    space = ACCOUNT_SPACE - _FIRST_REGULAR
    offset = int.from_bytes(r.digest(seed, "listing", listing)[:8], "big") % space
    index = _FIRST_REGULAR + (offset + position * _STRIDE) % space
    return index if index != avoid else (0 if avoid != 0 else 1)


def _kind(seed: int, index: int) -> tuple[Kind, bool]:
    """(kind, private) of an account, cheaply (no details generated)."""
    if index < _FIRST_REGULAR:
        return (("business", False), ("business", False), ("personal", True),
                ("personal", False))[index]
    u = r.unit(seed, "kind", index)
    if u < 0.45:
        return "business", False
    if u < 0.65:
        return "creator", False
    return "personal", u >= 0.9


@lru_cache(maxsize=65536)
def _account(seed: int, index: int) -> Account:
    rand = r.rng_for(seed, "account", index)
    kind, private = _kind(seed, index)
    special = {v: k for k, v in _SPECIAL.items()}.get(index)
    stem = handle_words(rand, kind != "personal")
    handle = special or f"{stem}{index}"
    stem = special or stem
    followers = _followers(rand, index, kind)
    created = datetime.fromtimestamp(int(rand.uniform(_FIRST, _LAST)), UTC)
    business = kind != "personal"
    return Account(
        index=index, pk=str(PK_BASE + index),
        graph_id=str(GRAPH_USER_BASE + index) if business else None, handle=handle,
        full_name=full_name(stem, business),
        biography=_biography(rand, kind), website=f"https://{stem.replace('.', '')}.example.com"
        if business else None, category=rand.choice(CATEGORIES) if business else None,
        kind=kind, is_private=private, is_verified=followers >= 100_000, followers=followers,
        following=int(r.lognormal(rand, 400, 0.8)) % 7500,
        media_count=2400 if index == 1 else max(3, min(5000, int(r.lognormal(
            rand, 250 if business else 60, 1.0)))),
        created=created, pic_token=r.token_chars(rand.randbytes(24), 24),
    )


def _followers(rand: random.Random, index: int, kind: Kind) -> int:
    if index == 1:
        return MILLION_FOLLOWERS
    median = {"business": 4000, "creator": 9000, "personal": 250}[kind]
    return max(5, min(900_000, int(r.lognormal(rand, median, 1.5))))


def _biography(rand: random.Random, kind: Kind) -> str:
    if kind == "personal":
        return rand.choice(("coffee first ☕", "somewhere between here and there", "📍 Lisbon",
                            ""))
    return rand.choice(("Small batch, big heart.", "Handmade in our studio since 2015.",
                        "New drops every Friday ✨", "Shipping worldwide 🌍",
                        "Tag us to be featured")) + "\n" + "👇 shop the feed"


