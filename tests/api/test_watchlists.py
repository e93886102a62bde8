"""Watchlists over HTTP: created, read, listed and deleted by name; items added by pasted URL
or by platform, kind and id, playlists and hashtags included (the refused ones answered with
their index and reason, repeats stored once, a known item re-added with a new importance
updated), paged by cursor and removed; a missing watchlist is 404 and a malformed name or
cursor 422."""

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

VIDEO = "dQw4w9WgXcQ"
CHANNEL = "UC" + "a" * 22


@pytest.fixture
async def watch(client: httpx.AsyncClient, pool: asyncpg.Pool) -> AsyncIterator[httpx.AsyncClient]:
    await pool.execute("TRUNCATE watchlist CASCADE")
    yield client


async def test_a_watchlist_is_created_read_listed_and_deleted(watch: httpx.AsyncClient) -> None:
    made = await watch.post("/watchlists/top-creators", json={"description": "our stars"})
    assert made.status_code == 201, made.text
    assert (made.json()["name"], made.json()["items"]) == ("top-creators", 0)
    again = await watch.post("/watchlists/top-creators")
    assert again.status_code == 200 and again.json()["description"] == "our stars"
    got = (await watch.get("/watchlists/top-creators")).json()
    assert (got["items"], got["by_platform"]) == (0, {})
    assert [w["name"] for w in (await watch.get("/watchlists")).json()] == ["top-creators"]
    assert (await watch.delete("/watchlists/top-creators")).status_code == 204
    for answer in (await watch.get("/watchlists/top-creators"),
                   await watch.delete("/watchlists/top-creators"),
                   await watch.get("/watchlists/top-creators/items"),
                   await watch.post("/watchlists/top-creators/items",
                                    json={"items": [{"url": f"https://youtu.be/{VIDEO}"}]})):
        assert answer.status_code == 404
        assert answer.json()["detail"] == ("no watchlist 'top-creators': create it with POST "
                                           "/watchlists/{name}")
    for bad in ("-starts-with-dash", "a" * 65, "sp ace"):
        answer = await watch.post(f"/watchlists/{bad}")
        assert answer.status_code in (404, 422), (bad, answer.text)


async def test_items_are_added_by_url_or_id_and_the_refused_say_why(
        watch: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    await watch.post("/watchlists/mixed")
    items = [
        {"url": f"https://www.youtube.com/watch?v={VIDEO}", "importance": 5},
        {"url": f"https://youtu.be/{VIDEO}", "importance": 7, "max_age_s": 3600},  # a repeat
        {"url": "https://x.com/beatnews/status/1850000000000000001"},
        {"url": "https://www.instagram.com/beat.sandbox/"},
        {"platform": "youtube", "kind": "profile", "id": CHANNEL, "max_age_s": 600},
        {"url": "https://www.youtube.com/playlist?list=PL" + "Q" * 30},
        {"url": "not a link at all"},
        {"platform": "tiktok", "kind": "post", "id": "1"},
        {"platform": "youtube", "kind": "video", "id": "short"},
        {"url": "https://www.instagram.com/explore/tags/Coffee/"},
        {"platform": "instagram", "kind": "hashtag", "id": "travel", "importance": 2},
        {"platform": "youtube", "kind": "playlist", "id": "PL" + "R" * 30},
        {"platform": "instagram", "kind": "hashtag", "id": "#Travel"},
        {"platform": "youtube", "kind": "hashtag", "id": "coffee"},
        {"platform": "youtube", "kind": "playlist", "id": "PL-short"},
    ]
    added = await watch.post("/watchlists/mixed/items", json={"items": items})
    assert added.status_code == 200, added.text
    body = added.json()
    assert (body["added"], body["updated"]) == (8, 0)
    reasons = {r["index"]: r["reason"] for r in body["rejected"]}
    assert set(reasons) == {6, 7, 8, 12, 13, 14}
    assert "unknown platform 'tiktok'" in reasons[7]
    assert "is not a YouTube video id" in reasons[8]
    assert "is not an Instagram hashtag as Beat names one" in reasons[12]
    assert reasons[13].startswith("a hashtag has no figures of its own")
    assert "is not a YouTube playlist id" in reasons[14]
    stored = {(r["platform"], r["kind"], r["item_id"]): (r["importance"], r["max_age_s"])
              for r in await pool.fetch("SELECT * FROM watchlist_item")}
    assert stored == {("youtube", "video", VIDEO): (7.0, 3600),
                      ("x", "post", "1850000000000000001"): (1.0, 86400),
                      ("instagram", "profile", "beat.sandbox"): (1.0, 86400),
                      ("youtube", "profile", CHANNEL): (1.0, 600),
                      ("youtube", "playlist", "PL" + "Q" * 30): (1.0, 86400),
                      ("youtube", "playlist", "PL" + "R" * 30): (1.0, 86400),
                      ("instagram", "hashtag", "coffee"): (1.0, 86400),
                      ("instagram", "hashtag", "travel"): (2.0, 86400)}
    again = await watch.post("/watchlists/mixed/items", json={"items": [
        {"platform": "x", "kind": "post", "id": "1850000000000000001", "importance": 3}]})
    assert (again.json()["added"], again.json()["updated"]) == (0, 1)
    summary = (await watch.get("/watchlists/mixed")).json()
    assert summary["items"] == 8
    assert summary["by_platform"] == {"instagram": 3, "x": 1, "youtube": 4}


async def test_items_are_paged_by_cursor_and_removed(watch: httpx.AsyncClient,
                                                     pool: asyncpg.Pool) -> None:
    await watch.post("/watchlists/paged")
    ids = [f"18500000000000000{n:02d}" for n in range(5)]
    await watch.post("/watchlists/paged/items", json={"items": [
        {"platform": "x", "kind": "post", "id": i} for i in ids]})
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await watch.get("/watchlists/paged/items", params=params)).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids
    bad = await watch.get("/watchlists/paged/items", params={"cursor": "bm90IG91cnM"})
    assert bad.status_code == 422 and "cursor" in bad.text
    removed = await watch.request("DELETE", "/watchlists/paged/items", json={"items": [
        {"platform": "x", "kind": "post", "id": ids[0]},
        {"url": f"https://x.com/beatnews/status/{ids[1]}"},
        {"platform": "x", "kind": "post", "id": "999"}]})  # not in the watchlist
    assert removed.json() == {"removed": 2, "rejected": []}
    assert (await watch.get("/watchlists/paged")).json()["items"] == 3
    await watch.delete("/watchlists/paged")
    assert await pool.fetchval("SELECT count(*) FROM watchlist_item") == 0


async def test_bulk_adds_are_capped(watch: httpx.AsyncClient) -> None:
    await watch.post("/watchlists/big")
    item = {"platform": "x", "kind": "post", "id": "1"}
    assert (await watch.post("/watchlists/big/items",
                             json={"items": [item] * 10_001})).status_code in (413, 422)
    assert (await watch.post("/watchlists/big/items", json={"items": []})).status_code == 422
    both = {"url": "https://x.com/a/status/1", **item}
    assert (await watch.post("/watchlists/big/items", json={"items": [both]})).status_code == 422
