"""A small deterministic Facebook for the sandbox: pages (one with millions of followers), their
posts (reactions, comments, shares; some never shared, one old), videos and reels with views, a
private and a deleted post, and share codes that redirect to posts, reels and videos.

Ids follow Facebook's forms: a page's numeric id, a post's "{page_id}_{story_id}" (also reachable
by its pfbid id), a video's numeric id. Counts come from the seed alone.
Behind the named pages, CROWD_PAGES ordinary ones give a benchmark enough distinct items.
"""

import hashlib
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
PAGE_BASE = 200_000_000_000_000
STORY_BASE = 10_160_000_000_000_000
VIDEO_BASE = 1_300_000_000_000_000
PRIVATE_POST = f"{PAGE_BASE + 1}_999000000000001"
DELETED_POST = f"{PAGE_BASE + 1}_999000000000002"
MILLION_PAGE = "millionfans"
POSTS_PER_PAGE = 6
VIDEOS_PER_PAGE = 3  # the last of them a reel
CROWD_PAGES = 80
_PFBID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


@dataclass
class FbPage:
    page_id: str
    username: str
    name: str
    category: str
    fan_count: int
    followers: int
    talking_about: int
    verified: bool


@dataclass
class FbPost:
    post_id: str  # {page_id}_{story_id}
    pfbid: str
    page: FbPage
    message: str
    created: datetime
    status_type: str
    reactions: int
    comments: int
    shares: int | None  # None: never shared (the API leaves `shares` out)


@dataclass
class FbVideo:
    video_id: str
    page: FbPage
    title: str
    description: str
    created: datetime
    length: float
    views: int
    reactions: int
    comments: int
    reel: bool


@dataclass
class World:
    seed: int
    pages: dict[str, FbPage] = field(default_factory=dict)  # by id and by username
    posts: dict[str, FbPost] = field(default_factory=dict)  # by post id and by pfbid
    videos: dict[str, FbVideo] = field(default_factory=dict)
    shares: dict[str, str] = field(default_factory=dict)  # "p/CODE" | "fbwatch/CODE" -> URL

    def page(self, key: str) -> FbPage | None:
        return self.pages.get(key.lower())

    def page_list(self) -> list[FbPage]:
        return sorted({p.page_id: p for p in self.pages.values()}.values(),
                      key=lambda p: p.page_id)

    def post_list(self) -> list[FbPost]:
        return sorted({p.post_id: p for p in self.posts.values()}.values(),
                      key=lambda p: p.post_id)


_PAGES = [("beatsandbox", "Beat Sandbox", "Software"),
          (MILLION_PAGE, "Million Fans", "Media/News Company"),
          ("cornerbakery", "Corner Bakery", "Bakery"),
          ("citymuseum", "City Museum", "Museum"),
          ("trailrunners", "Trail Runners", "Sports Club")]


def pfbid_of(post_id: str) -> str:
    digest = hashlib.sha256(post_id.encode()).digest() * 2
    return "pfbid0" + "".join(_PFBID_ALPHABET[b % 62] for b in digest[:44])


def build_world(seed: int = 1) -> World:
    rng = random.Random(f"facebook:{seed}")
    world = World(seed)
    for index, (username, name, category) in enumerate(_PAGES):
        followers = 2_500_000 + rng.randrange(500_000) if username == MILLION_PAGE \
            else 1_000 + rng.randrange(50_000)
        page = FbPage(str(PAGE_BASE + index + 1), username, name, category,
                      fan_count=int(followers * 0.93), followers=followers,
                      talking_about=followers // 40, verified=username == MILLION_PAGE)
        world.pages[page.page_id] = world.pages[username] = page
        _add_posts(world, page, index, rng)
        _add_videos(world, page, index, rng)
    _add_crowd(world, random.Random(f"facebook-crowd:{seed}"))
    return world


def _add_crowd(world: World, rng: random.Random) -> None:
    """CROWD_PAGES ordinary pages after the named ones, with their posts and videos: enough
    distinct items for a benchmark (their own generator: the named pages stay as they were)."""
    for number in range(CROWD_PAGES):
        index = len(_PAGES) + number
        followers = 1_000 + rng.randrange(50_000)
        page = FbPage(str(PAGE_BASE + index + 1), f"crowdpage{number}", f"Crowd Page {number}",
                      "Community", fan_count=int(followers * 0.93), followers=followers,
                      talking_about=followers // 40, verified=False)
        world.pages[page.page_id] = world.pages[page.username] = page
        _add_posts(world, page, index, rng)
        _add_videos(world, page, index, rng)


def _add_posts(world: World, page: FbPage, index: int, rng: random.Random) -> None:
    scale = max(1, page.followers // 1000)
    for n in range(POSTS_PER_PAGE):
        post_id = f"{page.page_id}_{STORY_BASE + index * 1000 + n}"
        old = n == POSTS_PER_PAGE - 1  # the page's oldest post, years back
        created = NOW - (timedelta(days=2400) if old else timedelta(hours=7 * n + index + 1))
        post = FbPost(post_id, pfbid_of(post_id), page, f"{page.name} post {n}: news of the day",
                      created, ("added_photos", "mobile_status_update", "shared_story")[n % 3],
                      reactions=rng.randrange(1, 40) * scale, comments=rng.randrange(0, 9) * scale,
                      shares=None if n % 3 == 1 else rng.randrange(0, 5) * scale)
        world.posts[post_id] = world.posts[post.pfbid] = post
        world.shares[f"p/SbxP{index}{n}x"] = \
            f"https://www.facebook.com/{page.username}/posts/{post.pfbid}"


def _add_videos(world: World, page: FbPage, index: int, rng: random.Random) -> None:
    scale = max(1, page.followers // 1000)
    for n in range(VIDEOS_PER_PAGE):
        reel = n == VIDEOS_PER_PAGE - 1
        video = FbVideo(str(VIDEO_BASE + index * 1000 + n), page,
                        f"{page.name} {'reel' if reel else 'video'} {n}",
                        f"What happened at {page.name} this week ({n})",
                        NOW - timedelta(hours=11 * n + index + 2), float(15 + 30 * n),
                        views=rng.randrange(100, 900) * scale,
                        reactions=rng.randrange(1, 30) * scale,
                        comments=rng.randrange(0, 6) * scale, reel=reel)
        world.videos[video.video_id] = video
        if reel:
            world.shares[f"r/SbxR{index}{n}x"] = f"https://www.facebook.com/reel/{video.video_id}"
        else:
            watch = f"https://www.facebook.com/watch/?v={video.video_id}"
            world.shares[f"v/SbxV{index}{n}x"] = watch
            world.shares[f"fbwatch/sbxW{index}{n}x"] = watch
