"""Each platform's Lookups.freshness: when each stored item was last refreshed, by the id as the
URL router gives it (handles in any case, a Facebook post by an alias, an Instagram story by
user/media id), in one read per kind; items not stored are left out."""

from datetime import UTC, datetime, timedelta

import asyncpg

from core.config import Settings
from core.platforms import registry

EARLY = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
LATE = EARLY + timedelta(days=3)


async def freshness(pool: asyncpg.Pool, platform: str, kind: str, ids: list[str]
                    ) -> dict[str, datetime]:
    lookups = registry(Settings())[platform].load_lookups()
    assert lookups is not None and lookups.freshness is not None
    return await lookups.freshness(pool, kind, ids)


async def test_every_platform_reads_many_items_at_once(pool: asyncpg.Pool) -> None:
    await pool.execute(
        "INSERT INTO youtube_post (video_id, title, refreshed_at) VALUES ('aaaaaaaaaaa', 't', $1);"
        , EARLY)
    await pool.execute("INSERT INTO youtube_account (channel_id, handle, refreshed_at) VALUES "
                       "('UC" + "f" * 22 + "', '@BeatTV', $1)", LATE)
    await pool.execute("INSERT INTO instagram_post (post_id, shortcode, refreshed_at) VALUES "
                       "('77', 'Cshortcode1', $1), ('78', 'Cshortcode1', $2)", EARLY, LATE)
    await pool.execute("INSERT INTO instagram_account (profile_id, handle, refreshed_at) "
                       "VALUES ('5', 'Beat.Gram', $1)", EARLY)
    await pool.execute("INSERT INTO facebook_post (post_id, aliases, refreshed_at) VALUES "
                       "('1_2', ARRAY['pfbid0abc'], $1)", LATE)
    await pool.execute("INSERT INTO facebook_page (page_id, username, refreshed_at) VALUES "
                       "('9', 'BeatPage', $1)", EARLY)
    await pool.execute("INSERT INTO x_post (tweet_id, refreshed_at) VALUES ('123', $1)", LATE)
    await pool.execute("INSERT INTO x_account (user_id, handle, refreshed_at) VALUES "
                       "('4', 'BeatNews', $1)", EARLY)
    assert await freshness(pool, "youtube", "video", ["aaaaaaaaaaa", "bbbbbbbbbbb"]) == {
        "aaaaaaaaaaa": EARLY}
    assert await freshness(pool, "youtube", "profile", ["@beattv", "UC" + "f" * 22]) == {
        "@beattv": LATE, "UC" + "f" * 22: LATE}
    assert await freshness(pool, "instagram", "post", ["Cshortcode1"]) == {"Cshortcode1": LATE}
    assert await freshness(pool, "instagram", "story", ["beat.gram/77"]) == {
        "beat.gram/77": EARLY}
    assert await freshness(pool, "instagram", "profile", ["beat.gram", "nobody"]) == {
        "beat.gram": EARLY}
    assert await freshness(pool, "facebook", "post", ["1_2", "pfbid0abc", "3_4"]) == {
        "1_2": LATE, "pfbid0abc": LATE}
    assert await freshness(pool, "facebook", "profile", ["9", "beatpage"]) == {
        "9": EARLY, "beatpage": EARLY}
    assert await freshness(pool, "x", "post", ["123", "124"]) == {"123": LATE}
    assert await freshness(pool, "x", "profile", ["beatnews"]) == {"beatnews": EARLY}
    assert await freshness(pool, "x", "post", []) == {}
