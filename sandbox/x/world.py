"""The sandbox's X world: a few accounts and tweets, deterministic for a seed, covering what
the sources must tell apart — a tweet with views, an old tweet without a view count, a video
with its views, a quote tweet, a deleted tweet (a tombstone), a protected account's tweet —
and the t.co codes that redirect to them.

The ids are fixed (tests and the e2e name them); the counts move with the seed. Behind them,
CROWD_TWEETS ordinary tweets of @beatnews (ids CROWD_BASE + n, n from 0) give a benchmark
enough distinct posts to ask for.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from random import Random

from sandbox.rng import rng_for


@dataclass(frozen=True)
class Account:
    user_id: str
    handle: str
    name: str
    created_at: datetime
    followers: int
    following: int
    tweets: int
    listed: int
    media: int
    favourites: int
    protected: bool = False
    verified: bool = False
    shape_2026: bool = False  # answered in the 2026 user shape (no legacy block)


@dataclass(frozen=True)
class Tweet:
    tweet_id: str
    user_id: str
    text: str
    created_at: datetime
    likes: int
    replies: int
    retweets: int
    quotes: int
    bookmarks: int
    views: int | None  # None: an old tweet, views state "Enabled" without a count
    video: bool = False
    photo: bool = False  # one attached photo
    quoted_id: str | None = None
    deleted: bool = False


@dataclass
class World:
    seed: int
    accounts: dict[str, Account] = field(default_factory=dict)  # by user id
    tweets: dict[str, Tweet] = field(default_factory=dict)
    tco: dict[str, str] = field(default_factory=dict)  # code -> tweet id

    def account_by_handle(self, handle: str) -> Account | None:
        return next((a for a in self.accounts.values()
                     if a.handle.lower() == handle.lower()), None)


NEWS, OLD, LOCKED = "3300000001", "12", "3300000003"
WITH_VIEWS = "1850000000000000001"
OLD_TWEET = "20"
VIDEO = "1850000000000000002"
QUOTE = "1850000000000000003"
DELETED = "1850000000000000004"
PROTECTED = "1850000000000000005"
CROWD_BASE = 1_860_000_000_000_000_000
CROWD_TWEETS = 5000


def build_world(seed: int = 1) -> World:
    rng = rng_for(seed, "x")
    world = World(seed)
    for account in (
        Account(NEWS, "beatnews", "Beat News", datetime(2015, 6, 1, 9, 30, tzinfo=UTC),
                rng.randint(100_000, 200_000), 321, 4_200, 870, 650, 1_500, verified=True,
                shape_2026=True),
        Account(OLD, "oldtimer", "Old Timer", datetime(2006, 3, 21, 20, 0, tzinfo=UTC),
                rng.randint(1_000_000, 2_000_000), 3, 29_000, 32_000, 2_900, 34_000),
        Account(LOCKED, "lockedbox", "Locked Box", datetime(2019, 1, 2, 3, 4, tzinfo=UTC),
                rng.randint(100, 900), 50, 120, 1, 5, 10, protected=True),
    ):
        world.accounts[account.user_id] = account
    for tweet in _tweets(rng.randint(0, 1_000)):
        world.tweets[tweet.tweet_id] = tweet
    for tweet in _crowd(rng_for(seed, "x-crowd")):
        world.tweets[tweet.tweet_id] = tweet
    world.tco = {"bEaT001": WITH_VIEWS, "bEaT020": OLD_TWEET, "bEaTvid": VIDEO,
                 "bEaTq01": QUOTE, "bEaTdel": DELETED}
    return world


def _tweets(bump: int) -> list[Tweet]:
    day = datetime(2024, 10, 22, 20, 59, 36, tzinfo=UTC)
    return [
        Tweet(WITH_VIEWS, NEWS, "Beat News: the sandbox is up and counting", day,
              1_200 + bump, 45, 310, 12, 80, 98_765 + bump, photo=True),
        Tweet(OLD_TWEET, OLD, "just setting up my sandbox",
              datetime(2006, 3, 21, 20, 50, 14, tzinfo=UTC), 263_922, 15_818, 123_879, 2_886,
              10_651, None),
        Tweet(VIDEO, NEWS, "Launch footage from the sandbox pad https://t.co/bEaTvid", day,
              26_045, 823, 2_875, 307, 715, 2_366_779 + bump, video=True),
        Tweet(QUOTE, NEWS, "Worth a read https://t.co/bEaT001", day, 640, 20, 55, 3, 9,
              40_100, quoted_id=WITH_VIEWS),
        Tweet(DELETED, NEWS, "a tweet that was deleted", day, 0, 0, 0, 0, 0, None,
              deleted=True),
        Tweet(PROTECTED, LOCKED, "only my followers see this", day, 3, 1, 0, 0, 0, 50),
    ]


def _crowd(rng: Random) -> list[Tweet]:
    """Ordinary tweets with views, an hour apart (their own generator: the named tweets'
    counts stay what they were)."""
    start = datetime(2025, 1, 1, tzinfo=UTC)
    return [Tweet(str(CROWD_BASE + n), NEWS, f"Beat News crowd tweet {n}",
                  start + timedelta(hours=n), rng.randint(0, 5_000), rng.randint(0, 300),
                  rng.randint(0, 800), rng.randint(0, 50), rng.randint(0, 100),
                  rng.randint(1_000, 500_000), photo=n % 3 == 0) for n in range(CROWD_TWEETS)]
