"""The sandbox's YouTube: a deterministic world of channels, videos and playlists from a seed.

`build_world(seed)` lays out the structure at once (channels, video ids and upload times,
playlists: ~12,000 videos in well under a second); each video's details (title, statistics,
duration, ...) are generated on first use from a hash of (seed, video id) and cached. The same
seed gives the same world, byte for byte. The world's clock is fixed at `WORLD_NOW`.

    world = build_world(1)
    big = world.big_channel()                 # the channel with the most videos (5,000+)
    ids = world.videos_of(big.channel_id)     # its video ids, newest first
    video = world.video(ids[0])               # details: views, likes (None: hidden), ...
"""

import math
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from sandbox import rng as r
from sandbox.youtube.text import (
    COUNTRIES,
    LANGUAGES,
    TOPICS,
    Topic,
    channel_description,
    channel_title,
    video_description,
    video_tags,
    video_title,
)

WORLD_NOW = datetime(2025, 6, 1, tzinfo=UTC)
CHANNELS = 20
_FIRST = datetime(2006, 1, 1, tzinfo=UTC).timestamp()
_LAST = datetime(2021, 12, 31, tzinfo=UTC).timestamp()


@dataclass(frozen=True)
class Channel:
    channel_id: str
    handle: str  # "@name", as snippet.customUrl
    username: str | None  # legacy username (forUsername), older channels only
    title: str
    description: str
    published_at: datetime
    country: str | None
    topic: Topic
    subscribers: int  # already rounded to three significant figures
    hidden_subscribers: bool
    popularity: float  # median views of a month-old video
    thumb_token: str
    banner_token: str
    verified: bool
    video_ids: tuple[str, ...]  # newest first

    @property
    def uploads_playlist_id(self) -> str:
        return r.uploads_playlist_of(self.channel_id)

    @property
    def video_count(self) -> int:
        return len(self.video_ids)

    @property
    def language(self) -> str:
        return LANGUAGES.get(self.country or "US", "en")

    def thumbnail(self, size: int) -> str:
        return f"https://yt3.ggpht.com/ytc/{self.thumb_token}=s{size}-c-k-c0x00ffffff-no-rj"


@dataclass(frozen=True)
class Video:
    video_id: str
    channel_id: str
    channel_title: str
    published_at: datetime
    number: int  # 1 = the channel's first upload
    title: str
    description: str
    tags: tuple[str, ...]  # empty: the video has no tags key
    category_id: str
    genre: str
    duration_s: int
    views: int
    likes: int | None  # None: ratings hidden (no likeCount key)
    comments: int | None  # None: comments disabled (no commentCount key)
    definition: str
    caption: bool
    licensed: bool
    default_language: str | None
    audio_language: str
    license: str
    embeddable: bool

    @property
    def comments_disabled(self) -> bool:
        return self.comments is None

    @property
    def hidden_likes(self) -> bool:
        return self.likes is None


@dataclass(frozen=True)
class Playlist:
    playlist_id: str
    channel_id: str
    title: str
    description: str
    published_at: datetime
    video_ids: tuple[str, ...]  # in playlist order
    uploads: bool  # the channel's uploads playlist (newest first)


class World:
    """Channels, videos and playlists of one seed; see the module docstring."""

    def __init__(self, seed: int, quiet_channels: int = 0) -> None:
        self.seed = seed
        self.now = WORLD_NOW
        self._video_at: dict[str, tuple[int, int, float]] = {}  # id -> (channel, index, time)
        rand = random.Random(seed)
        self.channels: tuple[Channel, ...] = tuple(_channels(self, rand, _video_counts(rand)))
        if quiet_channels:  # after the others, from a generator of their own: those stay
            self.channels += tuple(_channels(self, random.Random(f"{seed}:quiet"),
                                             [0] * quiet_channels, first=len(self.channels)))
        self._by_id = {c.channel_id: c for c in self.channels}
        self._by_handle = {c.handle.lower(): c for c in self.channels}
        self._by_username = {c.username.lower(): c for c in self.channels if c.username}
        self.playlists: tuple[Playlist, ...] = tuple(_playlists(self, random.Random(seed + 1)))
        self._playlists = {p.playlist_id: p for p in self.playlists}
        self._videos: dict[str, Video] = {}
        self._channel_views: dict[str, int] = {}

    def channel(self, channel_id: str) -> Channel | None:
        return self._by_id.get(channel_id)

    def channel_by_handle(self, handle: str) -> Channel | None:
        """By handle, with or without "@", case-insensitive."""
        return self._by_handle.get("@" + handle.lower().lstrip("@"))

    def channel_by_username(self, username: str) -> Channel | None:
        return self._by_username.get(username.lower())

    def big_channel(self) -> Channel:
        """The channel with the most videos."""
        return max(self.channels, key=lambda c: c.video_count)

    def videos_of(self, channel_id: str) -> tuple[str, ...]:
        """Video ids of a channel, newest first (empty for an unknown channel)."""
        channel = self._by_id.get(channel_id)
        return channel.video_ids if channel else ()

    def all_video_ids(self) -> Iterator[str]:
        return iter(self._video_at)

    def published(self, video_id: str) -> float:
        """Upload time (epoch seconds) without generating the video's details."""
        return self._video_at[video_id][2]

    def video_channel(self, video_id: str) -> str:
        """Channel id of a video, without generating the video's details."""
        return self.channels[self._video_at[video_id][0]].channel_id

    def video(self, video_id: str) -> Video | None:
        """The video's details (generated on first use), or None for an unknown id."""
        found = self._videos.get(video_id)
        if found is None and video_id in self._video_at:
            found = self._videos[video_id] = _video(self, video_id)
        return found

    def videos(self, ids: Iterable[str]) -> list[Video]:
        return [v for v in (self.video(i) for i in ids) if v is not None]

    def channel_views(self, channel_id: str) -> int:
        """Total views of a channel: the sum of its videos' views."""
        if channel_id not in self._channel_views:
            channel = self._by_id[channel_id]
            self._channel_views[channel_id] = sum(_views(self, channel, v)
                                                  for v in channel.video_ids)
        return self._channel_views[channel_id]

    def playlist(self, playlist_id: str) -> Playlist | None:
        """A user playlist, or a channel's uploads playlist (UU...)."""
        found = self._playlists.get(playlist_id)
        owner = self._by_id.get(r.channel_of_uploads(playlist_id) or "")
        if found is None and owner is not None:
            found = Playlist(playlist_id, owner.channel_id, "Uploads from " + owner.title, "",
                             owner.published_at, owner.video_ids, uploads=True)
        return found

    def find_videos(self, hidden_likes: bool | None = None,
                    comments_disabled: bool | None = None, limit: int = 10) -> list[Video]:
        """Videos with the given flags (None: either), in world order; for tests and demos."""
        found: list[Video] = []
        for video_id in self._video_at:
            video = self.video(video_id)
            assert video is not None
            if hidden_likes not in (None, video.hidden_likes):
                continue
            if comments_disabled not in (None, video.comments_disabled):
                continue
            found.append(video)
            if len(found) >= limit:
                break
        return found


@lru_cache(maxsize=8)
def build_world(seed: int = 1, quiet_channels: int = 0) -> World:
    """The world of `seed` (cached: the same object for the same seed), with `quiet_channels`
    more channels that have no videos (a benchmark's many channels to watch)."""
    return World(seed, quiet_channels)


def _video_counts(rand: random.Random) -> list[int]:
    """One channel with 5,000+ videos, two with 1,000+, the rest between 3 and ~900."""
    counts = [rand.randint(5000, 6500), rand.randint(1000, 2500), rand.randint(1000, 2000)]
    counts += [int(math.exp(rand.uniform(math.log(3), math.log(900))))
               for _ in range(CHANNELS - 3)]
    rand.shuffle(counts)
    return counts


def _channels(world: World, rand: random.Random, counts: list[int], first: int = 0
              ) -> Iterator[Channel]:
    hidden = set(rand.sample(range(len(counts)), min(len(counts), rand.randint(2, 4))))
    titles = {c.title for c in world.channels} if first else set()
    handles = {c.handle for c in world.channels} if first else set()
    for index, count in enumerate(counts):
        topic = rand.choice(TOPICS)
        title = _unique_title(rand, topic, titles)
        created = rand.uniform(_FIRST, _LAST)
        channel_id = r.channel_id(rand.getrandbits(128).to_bytes(16, "big"))
        handle = _unique_handle(rand, title, handles)
        popularity = r.lognormal(rand, 20000, 1.4)
        country = rand.choice(COUNTRIES) if rand.random() < 0.75 else None
        yield Channel(
            channel_id=channel_id, handle=handle, title=title,
            username=title.replace(" ", "") if created < 1388534400 else None,  # before 2014
            description=channel_description(rand, topic, title),
            published_at=datetime.fromtimestamp(int(created), UTC), country=country,
            topic=topic, subscribers=r.three_significant(int(popularity * rand.uniform(5, 80))),
            hidden_subscribers=index in hidden, popularity=popularity,
            thumb_token=r.token_chars(rand.randbytes(48), 48),
            banner_token=r.token_chars(rand.randbytes(64), 64),
            verified=popularity > 40000,
            video_ids=_upload_ids(world, rand, first + index, created, count),
        )


def _unique_title(rand: random.Random, topic: Topic, taken: set[str]) -> str:
    title = channel_title(rand, topic)
    while title in taken:
        title = channel_title(rand, topic) + f" {rand.randint(2, 9)}"
    taken.add(title)
    return title


def _unique_handle(rand: random.Random, title: str, taken: set[str]) -> str:
    base = "@" + title.lower().replace(" ", "")
    handle = base + (str(rand.randint(1, 99)) if rand.random() < 0.3 else "")
    while handle in taken:
        handle = base + str(rand.randint(100, 999))
    taken.add(handle)
    return handle


def _upload_ids(world: World, rand: random.Random, channel_index: int, created: float,
                count: int) -> tuple[str, ...]:
    """`count` new video ids with upload times after `created`, registered newest first."""
    start, end = created + 86400, world.now.timestamp() - 3600
    times = sorted((start + (end - start) * rand.random() ** 0.7 for _ in range(count)),
                   reverse=True)
    ids: list[str] = []
    for position, moment in enumerate(times):
        video_id = r.video_id(rand.getrandbits(64).to_bytes(8, "big"))
        while video_id in world._video_at:
            video_id = r.video_id(rand.getrandbits(64).to_bytes(8, "big"))
        world._video_at[video_id] = (channel_index, position, float(int(moment)))
        ids.append(video_id)
    return tuple(ids)


def _playlists(world: World, rand: random.Random) -> Iterator[Playlist]:
    for channel in world.channels:
        if channel.video_count < 8:
            continue
        for _ in range(rand.randint(1, 3)):
            step, size = rand.randint(2, 9), rand.randint(5, 250)
            chosen = channel.video_ids[rand.randrange(step)::step][:size][::-1]
            noun = rand.choice(channel.topic.nouns)
            yield Playlist(
                playlist_id=r.playlist_id(rand.randbytes(24)), channel_id=channel.channel_id,
                title=f"{noun.capitalize()} {rand.choice(('series', 'collection', 'best of'))}",
                description=f"Every {noun} video from {channel.title}.",
                published_at=datetime.fromtimestamp(world.published(chosen[0]), UTC),
                video_ids=chosen, uploads=False,
            )


def _views(world: World, channel: Channel, video_id: str) -> int:
    """A video's views from (seed, id), its age and its channel's popularity; cheap."""
    age_days = (world.now.timestamp() - world.published(video_id)) / 86400
    growth = min(1.0, (age_days + 1) / 30) ** 0.5 * (1 + 0.25 * math.log1p(age_days / 180))
    u1 = max(r.unit(world.seed, "views", video_id), 1e-12)
    u2 = r.unit(world.seed, "views2", video_id)
    normal = math.sqrt(-2 * math.log(u1)) * math.cos(2 * math.pi * u2)
    return int(channel.popularity * growth * math.exp(1.1 * normal))


def _duration(rand: random.Random) -> int:
    kind = rand.random()
    if kind < 0.15:
        return rand.randint(15, 60)  # a short
    if kind < 0.96:
        return max(61, min(7200, int(r.lognormal(rand, 600, 0.6))))
    return rand.randint(3600, 4 * 3600)


def _video(world: World, video_id: str) -> Video:
    channel_index, position, moment = world._video_at[video_id]
    channel = world.channels[channel_index]
    rand = r.rng_for(world.seed, "video", video_id)
    number = channel.video_count - position
    title = video_title(rand, channel.topic, number)
    views = _views(world, channel, video_id)
    return Video(
        video_id=video_id, channel_id=channel.channel_id, channel_title=channel.title,
        published_at=datetime.fromtimestamp(moment, UTC), number=number, title=title,
        description=video_description(rand, channel.topic, title, channel.handle),
        tags=tuple(video_tags(rand, channel.topic)) if rand.random() < 0.85 else (),
        category_id=channel.topic.category_id, genre=channel.topic.genre,
        duration_s=_duration(rand), views=views,
        likes=None if rand.random() < 0.06 else int(views * rand.uniform(0.01, 0.06)),
        comments=None if rand.random() < 0.06 else int(views * rand.uniform(0.0005, 0.004)),
        definition="hd" if rand.random() < 0.9 else "sd", caption=rand.random() < 0.3,
        licensed=rand.random() < 0.6,
        default_language=channel.language if rand.random() < 0.5 else None,
        audio_language=channel.language,
        license="youtube" if rand.random() < 0.9 else "creativeCommon",
        embeddable=rand.random() < 0.95,
    )
