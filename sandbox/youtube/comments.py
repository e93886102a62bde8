"""Comments of the sandbox's videos, generated lazily: comment i of a video is a pure function of
(seed, video id, i), so a page of comments costs only its own size.

Index 0 is the newest top-level comment ("time" order). "relevance" order (Invidious: "top") is a
fixed permutation of the same comments, so both APIs list the same comments with the same ids.
"""

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sandbox import rng as r
from sandbox.youtube.text import comment_author, comment_text
from sandbox.youtube.world import Video, World

Order = Literal["time", "relevance"]
MAX_THREADS = 20_000
MAX_REPLIES_SHOWN = 5


@dataclass(frozen=True)
class Comment:
    comment_id: str
    video_id: str
    parent_id: str | None
    author: str  # "@handle", as authorDisplayName
    author_channel_id: str
    text: str
    likes: int
    reply_count: int
    published_at: datetime
    updated_at: datetime
    by_owner: bool

    @property
    def edited(self) -> bool:
        return self.updated_at != self.published_at


def thread_count(video: Video) -> int:
    """Top-level comments (commentCount also counts replies); 0 when comments are disabled."""
    if video.comments is None:
        return 0
    return min(MAX_THREADS, (video.comments * 4 + 4) // 5)


def threads(world: World, video: Video, start: int, count: int, order: Order) -> list[Comment]:
    """Top-level comments [start, start + count) in the given order."""
    total = thread_count(video)
    return [thread(world, video, _position(world, video, i, total, order))
            for i in range(max(0, start), min(total, start + count))]


def thread(world: World, video: Video, index: int) -> Comment:
    """The top-level comment at time-order index `index` (0 = newest)."""
    rand = r.rng_for(world.seed, "comment", video.video_id, index)
    total = thread_count(video)
    span = world.now.timestamp() - video.published_at.timestamp()
    moment = video.published_at.timestamp() + span * (1 - (index + 1) / (total + 1)) ** 2
    replies = 0 if rand.random() < 0.7 else rand.randint(1, 30)
    return _comment(world, video, rand, moment, r.comment_id(rand.randbytes(13)), None, replies)


def replies(world: World, video: Video, parent: Comment) -> list[Comment]:
    """The first replies of a thread (the Data API shows a few with part=replies)."""
    shown: list[Comment] = []
    for j in range(min(parent.reply_count, MAX_REPLIES_SHOWN)):
        rand = r.rng_for(world.seed, "reply", parent.comment_id, j)
        moment = parent.published_at.timestamp() + 60 * (j + 1) * rand.randint(1, 600)
        moment = min(moment, world.now.timestamp() - 1)
        reply_id = f"{parent.comment_id}.{r.b64url(rand.randbytes(17), 22)}"
        shown.append(_comment(world, video, rand, moment, reply_id, parent.comment_id, 0))
    return shown


def _comment(world: World, video: Video, rand: random.Random, moment: float, comment_id: str,
             parent_id: str | None, replies_count: int) -> Comment:
    channel = world.channel(video.channel_id)
    assert channel is not None
    by_owner = rand.random() < 0.03
    author = channel.handle if by_owner else comment_author(rand)
    published = datetime.fromtimestamp(int(moment), UTC)
    edited = rand.random() < 0.1
    updated = min(moment + rand.randint(60, 86400), world.now.timestamp()) if edited else moment
    return Comment(
        comment_id=comment_id, video_id=video.video_id, parent_id=parent_id, author=author,
        author_channel_id=channel.channel_id if by_owner else author_channel(world, author),
        text=comment_text(rand, channel.topic, video.duration_s),
        likes=int(math.exp(rand.uniform(0, 1) ** 3 * 9)) - 1, reply_count=replies_count,
        published_at=published, updated_at=datetime.fromtimestamp(int(updated), UTC),
        by_owner=by_owner,
    )


def author_channel(world: World, author: str) -> str:
    """The channel id of a commenter: the same name always has the same channel."""
    return r.channel_id(r.digest(world.seed, "author", author))


def _position(world: World, video: Video, i: int, total: int, order: Order) -> int:
    """Time-order index of the i-th comment in `order`."""
    if order == "time" or total <= 1:
        return i
    step = 1 + int(r.unit(world.seed, "relevance", video.video_id) * (total - 1))
    while math.gcd(step, total) != 1:
        step += 1
    return (i * step + total // 3) % total
