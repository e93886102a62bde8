"""The sandbox's Facebook Graph API and share redirects: nodes in the real answers' shapes (key
paths compared with ../shared/fixtures/facebook, read in place), ?ids= batches, the real error
bodies (100 missing permission / does not exist, 190/463 for an expired token), throttling
with usage headers, and 301s for share and fb.watch links."""

import json
from pathlib import Path
from typing import Any

import httpx

from sandbox.facebook.world import DELETED_POST, PRIVATE_POST, build_world
from tests.sandbox.helpers import key_paths

FIXTURES = Path(__file__).parents[3].parent / "shared" / "fixtures" / "facebook"
GRAPH = "/facebook/graph/v19.0"
TOKEN = "sandbox-graph-token"
POST_FIELDS = ("id,message,created_time,permalink_url,status_type,shares,"
               "reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0)")
world = build_world(1)


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


async def get(client: httpx.AsyncClient, path: str, **params: Any) -> httpx.Response:
    params.setdefault("access_token", TOKEN)
    return await client.get(f"{GRAPH}/{path}", params=params)


async def test_a_post_has_the_fixtures_counts_in_their_shape(client: httpx.AsyncClient) -> None:
    post = next(p for p in world.post_list() if p.shares is not None)
    answer = await get(client, post.post_id, fields=POST_FIELDS)
    assert answer.status_code == 200
    body = answer.json()
    real = fixture("fb_page_feed_default_fields_page1.json")["data"][0]
    wanted = {p for p in key_paths(real) if p.split(".")[0] in body and "[]" not in p}
    assert wanted <= key_paths(body)
    assert body["reactions"]["summary"]["total_count"] == post.reactions
    assert body["shares"] == {"count": post.shares}


async def test_a_post_never_shared_has_no_shares_key(client: httpx.AsyncClient) -> None:
    post = next(p for p in world.post_list() if p.shares is None)
    body = (await get(client, post.pfbid, fields=POST_FIELDS)).json()
    assert body["id"] == post.post_id and "shares" not in body


async def test_a_page_by_name_and_a_reel_with_views(client: httpx.AsyncClient) -> None:
    page = (await get(client, "MillionFans", fields="id,username,fan_count,followers_count")
            ).json()
    assert page["username"] == "millionfans" and page["followers_count"] > 1_000_000
    reel = next(v for v in world.videos.values() if v.reel)
    body = (await get(client, reel.video_id, fields="id,views,length,permalink_url")).json()
    assert body["views"] == reel.views and body["permalink_url"].startswith("/reel/")


async def test_an_ids_batch_answers_every_id_by_the_id_asked(client: httpx.AsyncClient) -> None:
    posts = world.post_list()[:3]
    ids = [posts[0].pfbid, posts[1].post_id, posts[2].post_id]
    body = (await get(client, "", ids=",".join(ids), fields=POST_FIELDS)).json()
    assert list(body) == ids
    shape = fixture("fb_posts_ids_batch.json")
    assert all(isinstance(node, dict) and "id" in node for node in shape.values())
    too_many = await get(client, "", ids=",".join(str(n) for n in range(51)), fields="id")
    assert too_many.json()["error"]["code"] == 100


async def test_private_deleted_and_nonexisting_fields_are_the_real_errors(
        client: httpx.AsyncClient) -> None:
    private = (await get(client, PRIVATE_POST, fields="id")).json()["error"]
    real = fixture("fb_error_oauth_100_missing_permission.json")["error"]
    assert (private["code"], private["type"]) == (real["code"], real["type"])
    assert "missing permission" in private["message"]
    deleted = (await get(client, DELETED_POST, fields="id")).json()["error"]
    assert deleted["code"] == 100 and "does not exist" in deleted["message"]
    video = next(iter(world.videos))
    wrong = (await get(client, world.post_list()[0].post_id, fields="id,views")).json()
    assert "nonexisting field (views)" in wrong["error"]["message"], video


async def test_an_expired_token_is_refused_190_463(client: httpx.AsyncClient) -> None:
    expired = await get(client, "beatsandbox", access_token="sandbox-graph-token-expired")
    assert expired.status_code == 400
    assert (expired.json()["error"]["code"], expired.json()["error"]["error_subcode"]) == \
        (190, 463)
    await client.post(f"/_sandbox/facebook/graph/tokens/{TOKEN}/expire")
    assert (await get(client, "beatsandbox")).json()["error"]["code"] == 190
    await client.delete(f"/_sandbox/facebook/graph/tokens/{TOKEN}/expire")
    assert (await get(client, "beatsandbox")).status_code == 200


async def test_a_spent_token_budget_answers_17_with_usage_headers(
        client: httpx.AsyncClient) -> None:
    await client.post("/_sandbox/facebook/graph/usage", json={"token_calls": 2, "reset": True})
    first = await get(client, "beatsandbox")
    assert json.loads(first.headers["x-app-usage"])["call_count"] >= 0
    await get(client, "beatsandbox")
    refused = await get(client, "beatsandbox")
    assert refused.json()["error"]["code"] == 17  # a user token's limit
    assert refused.status_code == 403
    usage = json.loads(refused.headers["x-business-use-case-usage"])
    [entry] = next(iter(usage.values()))
    assert entry["call_count"] == 100 and entry["estimated_time_to_regain_access"] >= 1


async def test_share_and_fb_watch_links_redirect_and_unknown_codes_are_404(
        client: httpx.AsyncClient) -> None:
    post = await client.get("/facebook/www/share/p/SbxP00x/")
    assert post.status_code == 301
    assert "/beatsandbox/posts/pfbid0" in post.headers["location"]
    reel = await client.get("/facebook/www/share/r/SbxR02x/")
    assert reel.headers["location"].startswith("https://www.facebook.com/reel/")
    watch = await client.get("/facebook/fbwatch/sbxW00x")
    assert "/watch/?v=" in watch.headers["location"]
    assert (await client.get("/facebook/www/share/p/nope/")).status_code == 404
