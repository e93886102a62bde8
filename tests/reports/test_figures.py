"""Each platform's Lookups.link and figures over stored rows: a post's numbers from its row,
its author's followers from the author's stored row (None when that row is not stored, never
0), and the kinds a platform cannot report refused with a reason."""

from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from core.config import Settings
from core.lookups import InvalidId, LinkFigures, Lookups, Refresh
from core.platforms import registry

WHEN = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
CHANNEL = "UC" + "a" * 22
OTHER_CHANNEL = "UC" + "b" * 22


def lookups(name: str) -> Lookups:
    found = registry(Settings())[name].load_lookups()
    assert found is not None and found.link is not None and found.figures is not None
    return found


async def figures_of(pool: asyncpg.Pool, platform: str, kind: str, ident: str
                     ) -> LinkFigures | None:
    found = lookups(platform)
    assert found.link is not None and found.figures is not None
    row: dict[str, Any] | None = await found.link(kind, ident).fetch(pool)
    return None if row is None else await found.figures(pool, row)


async def test_a_youtube_video_with_its_channels_subscribers(pool: asyncpg.Pool) -> None:
    await pool.execute("INSERT INTO youtube_account (channel_id, title, subscribers) "
                       "VALUES ($1, 'Beat TV', 12345)", CHANNEL)
    await pool.execute(
        "INSERT INTO youtube_post (video_id, channel_id, channel_title, title, views, likes, "
        "comments, published_at, thumbnail_url) VALUES ('dQw4w9WgXcQ', $1, 'Beat TV', "
        "'A song', 1000, 50, 7, $2, 'https://i.ytimg.com/vi/x/hq.jpg')", CHANNEL, WHEN)
    assert await figures_of(pool, "youtube", "video", "dQw4w9WgXcQ") == LinkFigures(
        author="Beat TV", followers=12345, likes=50, comments=7, shares=None, views=1000,
        caption="A song", published_at=WHEN, thumbnail_url="https://i.ytimg.com/vi/x/hq.jpg")
    channel = await figures_of(pool, "youtube", "profile", CHANNEL)
    assert channel is not None and (channel.author, channel.followers) == ("Beat TV", 12345)


def test_youtube_cannot_report_a_playlist_or_a_legacy_name() -> None:
    link = lookups("youtube").link
    assert link is not None
    with pytest.raises(InvalidId, match="playlist"):
        link("playlist", "PL" + "b" * 30)
    with pytest.raises(InvalidId, match="legacy"):
        link("profile", "c/somename")


async def test_an_instagram_post_without_its_account_has_no_followers(pool: asyncpg.Pool
                                                                      ) -> None:
    await pool.execute(
        "INSERT INTO instagram_post (post_id, shortcode, profile_id, handle, caption, likes, "
        "comments, shares, plays, publish_time, display_url) VALUES ('9001', 'Cabcdefgh12', "
        "'777', 'beat.gram', 'hello', 10, 2, NULL, 300, $1, 'https://cdn/x.jpg')", WHEN)
    alone = await figures_of(pool, "instagram", "post", "Cabcdefgh12")
    assert alone == LinkFigures(author="beat.gram", followers=None, likes=10, comments=2,
                                shares=None, views=300, caption="hello", published_at=WHEN,
                                thumbnail_url="https://cdn/x.jpg",
                                author_refresh=Refresh(
                                    "refresh_profile_basic", {"handle": "beat.gram"},
                                    "ig:profile-basic:beat.gram", live_target="beat.gram"))
    await pool.execute("INSERT INTO instagram_account (profile_id, handle, followers) "
                       "VALUES ('777', 'beat.gram', 4321)")
    stored = await figures_of(pool, "instagram", "post", "Cabcdefgh12")
    assert stored is not None and (stored.followers, stored.author_refresh) == (4321, None)


async def test_a_facebook_post_with_its_pages_followers(pool: asyncpg.Pool) -> None:
    await pool.execute("INSERT INTO facebook_page (page_id, name, fan_count, followers) "
                       "VALUES ('111', 'Beat Page', 90, 100)")
    await pool.execute(
        "INSERT INTO facebook_post (post_id, page_id, author, message, likes, comments, shares, "
        "views, publish_time) VALUES ('111_222', '111', 'Beat Page', 'news', 5, 6, 7, NULL, $1)",
        WHEN)
    assert await figures_of(pool, "facebook", "post", "111_222") == LinkFigures(
        author="Beat Page", followers=100, likes=5, comments=6, shares=7, views=None,
        caption="news", published_at=WHEN)
    page = await figures_of(pool, "facebook", "profile", "111")
    assert page is not None and (page.author, page.followers) == ("Beat Page", 100)


async def test_a_tweet_with_its_authors_name_and_followers(pool: asyncpg.Pool) -> None:
    await pool.execute("INSERT INTO x_account (user_id, handle, name, followers) "
                       "VALUES ('42', 'beatnews', 'Beat News', 5000)")
    await pool.execute(
        "INSERT INTO x_post (tweet_id, user_id, handle, text, likes, comments, shares, views, "
        "published_at) VALUES ('1234567890', '42', 'beatnews', 'breaking', 1, 2, 3, 400, $1)",
        WHEN)
    assert await figures_of(pool, "x", "post", "1234567890") == LinkFigures(
        author="Beat News", followers=5000, likes=1, comments=2, shares=3, views=400,
        caption="breaking", published_at=WHEN)
    assert await figures_of(pool, "x", "post", "999") is None  # not stored


AUTHORLESS = [  # (platform, kind, id, an INSERT of the post alone, the author's refresh)
    ("youtube", "video", "Bbbbbbbbbb1",
     (f"INSERT INTO youtube_post (video_id, channel_id, title) VALUES ($1, '{OTHER_CHANNEL}', "
      "'t')"), ("refresh_yt_profiles", {"channel_ids": [OTHER_CHANNEL]})),
    ("instagram", "post", "Czzzzzzzz12",
     ("INSERT INTO instagram_post (post_id, shortcode, profile_id, handle) VALUES ('9002', $1, "
      "'778', 'beat.new')"), ("refresh_profile_basic", {"handle": "beat.new"})),
    ("facebook", "post", "333_444",
     "INSERT INTO facebook_post (post_id, page_id, message) VALUES ($1, '333', 'news')",
     ("refresh_fb_page", {"page": "333"})),
    ("x", "post", "1234567891",
     ("INSERT INTO x_post (tweet_id, user_id, handle, text) VALUES ($1, '43', 'beatpeople', "
      "'t')"), ("refresh_x_profile", {"handle": "beatpeople"})),
]


@pytest.mark.parametrize(("platform", "kind", "ident", "insert", "author"), AUTHORLESS)
async def test_a_post_whose_author_is_not_stored_names_the_refresh_that_stores_it(
        pool: asyncpg.Pool, platform: str, kind: str, ident: str, insert: str,
        author: tuple[str, dict[str, Any]]) -> None:
    await pool.execute(insert, ident)
    found = await figures_of(pool, platform, kind, ident)
    assert found is not None and found.followers is None and found.author_refresh is not None
    assert (found.author_refresh.flow, found.author_refresh.params) == author



STORED_COPY = [  # (platform, kind, id, an INSERT of the item with its own image, its table)
    ("youtube", "profile", "UC" + "c" * 22,
     "INSERT INTO youtube_account (channel_id, thumbnail_url) VALUES ($1, $2)",
     "youtube_account WHERE channel_id = $1"),
    ("instagram", "post", "Cyyyyyyyy12",
     "INSERT INTO instagram_post (post_id, shortcode, display_url) VALUES ('9003', $1, $2)",
     "instagram_post WHERE shortcode = $1"),
    ("facebook", "profile", "555",
     "INSERT INTO facebook_page (page_id, picture_url) VALUES ($1, $2)",
     "facebook_page WHERE page_id = $1"),
    ("x", "post", "1234567892", "INSERT INTO x_post (tweet_id, thumbnail_url) VALUES ($1, $2)",
     "x_post WHERE tweet_id = $1"),
]


@pytest.mark.parametrize(("platform", "kind", "ident", "insert", "row"), STORED_COPY)
async def test_the_thumbnail_is_the_stored_copy_when_there_is_one(
        pool: asyncpg.Pool, platform: str, kind: str, ident: str, insert: str, row: str
        ) -> None:
    own, copy = f"https://cdn.example.com/{ident}.jpg", f"file:///assets/{ident}.jpg"
    await pool.execute(insert, ident, own)
    found = await figures_of(pool, platform, kind, ident)
    assert found is not None and (found.thumbnail_url, found.thumbnail_stored) == (own, False)
    table, _, where = row.partition(" WHERE ")
    await pool.execute(f"UPDATE {table} SET asset_url = $2 WHERE {where}", ident, copy)
    found = await figures_of(pool, platform, kind, ident)
    assert found is not None and (found.thumbnail_url, found.thumbnail_stored) == (copy, True)
