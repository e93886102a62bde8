"""Hostile or careless input gets a 4xx that says what is wrong, never a 500, and stores nothing:
NUL characters and lone surrogates, integers beyond 64 bits, non-finite numbers, one bad item in
a big bulk, unknown keys, bodies that are not JSON. Bodies are sent as raw JSON text, since
that is the only way to send `\\ud800`, `NaN` or `1e400`."""

import gzip
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from core.config import Settings
from tests.api.support import admin_client, count, enqueue

JSON = {"content-type": "application/json"}
BIG = str(2**63)
BIG_NEGATIVE = str(-(2**63) - 1)
ENQUEUE = "/scrape_request_log/flow/noop"


async def post_raw(client: httpx.AsyncClient, path: str, body: str) -> httpx.Response:
    return await client.post(path, content=body.encode("utf-8"), headers=JSON)


def messages(response: httpx.Response) -> str:
    """Every loc and msg of a 4xx answer, as one string to search."""
    detail = response.json()["detail"]
    if isinstance(detail, str):
        return detail
    return " ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in detail)


def assert_refused(response: httpx.Response, *fragments: str, status: int = 422) -> None:
    assert response.status_code == status, response.text
    text = messages(response)
    for fragment in fragments:
        assert fragment in text, text


# -- NUL and lone surrogates -------------------------------------------------------------------

@pytest.mark.parametrize("body, fragments", [
    ('{"params": {"url": "x\\u0000y"}}', ["params.url", "NUL"]),
    ('{"params": {"a": {"b": ["ok", "\\u0000"]}}}', ["params.a.b[1]", "NUL"]),
    ('{"params": {"k\\u0000": 1}}', ["params", "key", "NUL"]),
    ('{"params": {"url": "\\ud800"}}', ["params.url", "surrogate"]),
    ('{"params": {"a": [{"b": "x\\udfff"}]}}', ["params.a[0].b", "surrogate"]),
    ('{"params": {"\\ud800": 1}}', ["params", "key", "surrogate"]),
    ('{"params": {}, "idempotency_key": "a\\u0000b"}', ["body.idempotency_key", "NUL"]),
    ('{"params": {}, "idempotency_key": "\\ud800"}', ["body.idempotency_key", "surrogate"]),
    ('{"params": {}, "account_id": "acme\\u0000"}', ["body.account_id", "NUL"]),
    ('{"params": {}, "account_id": "\\udbff"}', ["body.account_id", "surrogate"]),
], ids=["params-nul", "nested-nul", "key-nul", "params-surrogate", "nested-surrogate",
        "key-surrogate", "idempotency-key-nul", "idempotency-key-surrogate", "account-id-nul",
        "account-id-surrogate"])
async def test_nul_and_lone_surrogates_in_an_enqueue_body_are_422(
        client: httpx.AsyncClient, pool: asyncpg.Pool, body: str, fragments: list[str]) -> None:
    response = await post_raw(client, ENQUEUE, body)

    assert_refused(response, *fragments)
    assert await count(pool) == 0


async def test_nul_in_an_account_id_path_segment_is_422(client: httpx.AsyncClient,
                                                        pool: asyncpg.Pool) -> None:
    await enqueue(client, account_id="acme")

    response = await client.get("/list_scrape_data/ac%00me")

    assert_refused(response, "path.account_id", "NUL")


async def test_nul_in_a_cursor_query_is_422(client: httpx.AsyncClient) -> None:
    response = await client.get("/recent/posts/YOUTUBE/byprofileid/UC" + "a" * 22,
                                params={"cursor": "2024-01-01T00:00:00+00:00|1\x00"})

    assert_refused(response, "query.cursor", "NUL")


async def test_params_nested_deeper_than_64_levels_are_422(client: httpx.AsyncClient,
                                                          pool: asyncpg.Pool) -> None:
    shallow = await post_raw(client, ENQUEUE, '{"params": {"a": ' + "[" * 62 + "]" * 62 + "}}")
    deep = await post_raw(client, ENQUEUE, '{"params": {"a": ' + "[" * 64 + "]" * 64 + "}}")

    assert shallow.status_code == 201, shallow.text
    assert_refused(deep, "nested deeper than 64 levels")
    assert await count(pool) == 1


# -- integers beyond 64 bits -------------------------------------------------------------------

@pytest.mark.parametrize("method, path, fragment", [
    ("GET", f"/scrape_request_log/flow/{BIG}", "path.task_id"),
    ("GET", f"/scrape_request_log/flow/{BIG_NEGATIVE}", "path.task_id"),
    ("POST", f"/scrape_request_log/flow/update/{BIG}", "path.task_id"),
    ("GET", f"/list_scrape_data/acme?cursor={BIG}", "query.cursor"),
    ("GET", f"/events?after={BIG}", "query.after"),
    ("GET", f"/profiles/YOUTUBE/byid/{BIG}", "path.profile_id"),
    ("GET", f"/recent/posts/YOUTUBE/byprofileid/UC{'a' * 22}?cursor=2024-01-01T00:00:00|{BIG}",
     "query.cursor"),
], ids=["task-id", "task-id-negative", "update-task-id", "list-cursor", "events-after",
        "profile-id", "recent-posts-cursor"])
async def test_ids_and_cursors_beyond_64_bits_are_422(client: httpx.AsyncClient,
                                                      pool: asyncpg.Pool, method: str, path: str,
                                                      fragment: str) -> None:
    body = {"json": {"action": "cancel"}} if method == "POST" else {}

    response = await client.request(method, path, **body)  # type: ignore[arg-type]

    assert_refused(response, fragment)


@pytest.mark.parametrize("body, fragment", [
    (f'{{"params": {{"n": {BIG}}}}}', "params.n is an integer beyond 64 bits"),
    (f'{{"params": {{"a": [1, {BIG_NEGATIVE}]}}}}', "params.a[1] is an integer beyond 64 bits"),
], ids=["top", "nested-negative"])
async def test_integers_beyond_64_bits_in_params_are_422(client: httpx.AsyncClient,
                                                         pool: asyncpg.Pool, body: str,
                                                         fragment: str) -> None:
    response = await post_raw(client, ENQUEUE, body)

    assert_refused(response, fragment)
    assert await count(pool) == 0


# -- non-finite numbers ------------------------------------------------------------------------

@pytest.mark.parametrize("body, fragment", [
    ('{"params": {"n": 1e400}}', "params.n is not a finite number"),
    ('{"params": {"n": -1e400}}', "params.n is not a finite number"),
    ('{"params": {"n": NaN}}', "params.n is not a finite number"),
    ('{"params": {"n": Infinity}}', "params.n is not a finite number"),
    ('{"params": {"a": {"b": [0, -Infinity]}}}', "params.a.b[1] is not a finite number"),
], ids=["1e400", "-1e400", "nan", "infinity", "nested-minus-infinity"])
async def test_non_finite_numbers_in_params_are_422_not_stored_as_null(
        client: httpx.AsyncClient, pool: asyncpg.Pool, body: str, fragment: str) -> None:
    response = await post_raw(client, ENQUEUE, body)

    assert_refused(response, fragment)
    assert await count(pool) == 0


@pytest.mark.parametrize("path, body, fragment", [
    ("/scrape_request_log/flow/sleep", '{"params": {"seconds": NaN}}', "params"),
    ("/scrape_request_log/flow/sleep", '{"params": {"seconds": 1e400}}', "params"),
    (ENQUEUE, '{"params": {}, "priority": 1e400}', "body.priority"),
    (ENQUEUE, '{"params": {}, "priority": NaN}', "body.priority"),
    (ENQUEUE, '{"params": {}, "expires_at": NaN}', "body.expires_at"),
    ("/scrape_request_log/flow/update/1", '{"priority": Infinity}', "body.priority"),
], ids=["sleep-seconds-nan", "sleep-seconds-1e400", "priority-1e400", "priority-nan",
        "expires-at-nan", "update-priority-infinity"])
async def test_a_422_about_a_non_finite_number_renders(client: httpx.AsyncClient,
                                                       pool: asyncpg.Pool, path: str, body: str,
                                                       fragment: str) -> None:
    response = await post_raw(client, path, body)

    assert_refused(response, fragment)
    assert await count(pool) == 0


@pytest.mark.parametrize("expires_at", ["0001-01-01T00:00:00+14:00",
                                        "9999-12-31T23:00:00-14:00"])
async def test_expires_at_outside_what_postgresql_can_hand_back_is_422(
        client: httpx.AsyncClient, pool: asyncpg.Pool, expires_at: str) -> None:
    response = await client.post(ENQUEUE, json={"params": {}, "expires_at": expires_at})

    assert_refused(response, "body.expires_at", "years 1-9999")
    assert await count(pool) == 0


# -- one bad item in a bulk of 10,000 ----------------------------------------------------------

@pytest.mark.parametrize("bad_item, fragments", [
    ('{"flow": "noop", "params": {"q": "\\u0000"}}', ["body.tasks.7777.params", "params.q", "NUL"]),
    ('{"flow": "noop", "params": {"q": NaN}}', ["body.tasks.7777.params", "not a finite"]),
    ('{"flow": "noop", "params": {}, "idempotency_key": "\\ud800"}',
     ["body.tasks.7777.idempotency_key", "surrogate"]),
    ('{"flow": "noop", "channel_id": "UC"}', ["body.tasks.7777", "'channel_id'"]),
], ids=["nul-in-params", "nan-in-params", "surrogate-in-key", "unknown-key"])
async def test_one_bad_item_in_a_bulk_of_10000_is_422_naming_its_index(
        client: httpx.AsyncClient, pool: asyncpg.Pool, bad_item: str,
        fragments: list[str]) -> None:
    items = [f'{{"flow": "noop", "params": {{"i": {i}}}}}' for i in range(10_000)]
    items[7777] = bad_item

    response = await post_raw(client, "/scrape_request_log/flows",
                              '{"tasks": [' + ",".join(items) + "]}")

    assert_refused(response, *fragments)
    assert len(response.content) < 10_000  # the error, not the whole bulk echoed back
    assert await count(pool) == 0


# -- unknown keys ------------------------------------------------------------------------------

async def test_unknown_top_level_keys_are_422_naming_them_and_the_params_wrapper(
        client: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    response = await client.post("/scrape_request_log/flow/refresh_yt_posts_by_channel_id",
                                 json={"channel_id": "UC" + "a" * 22, "max_videos": 5})

    assert_refused(response, "'channel_id'", "'max_videos'", '"params"')
    assert await count(pool) == 0


async def test_unknown_keys_in_an_update_are_422(client: httpx.AsyncClient,
                                                 pool: asyncpg.Pool) -> None:
    task = await enqueue(client)

    response = await client.post(f"/scrape_request_log/flow/update/{task['id']}",
                                 json={"action": "cancel", "prority": 5})

    assert_refused(response, "'prority'")
    assert (await client.get(f"/scrape_request_log/flow/{task['id']}")).json()["status"] == \
        "PENDING"


@pytest.mark.parametrize("flow, params, unknown", [
    ("refresh_yt_posts_by_channel_id", {"channel_id": "UC" + "a" * 22, "max_video": 5},
     "max_video"),
    ("refresh_yt_profiles", {"channel_ids": ["UC" + "a" * 22], "handle": "@x"}, "handle"),
    ("refresh_yt_posts", {"video_ids": ["abcdefghijk"], "force": True}, "force"),
    ("sleep", {"seconds": 1, "secs": 2}, "secs"),
], ids=["channel-videos", "profiles", "posts", "sleep"])
async def test_unknown_keys_in_the_params_of_a_strict_flow_are_422(
        client: httpx.AsyncClient, pool: asyncpg.Pool, flow: str, params: dict[str, Any],
        unknown: str) -> None:
    response = await client.post(f"/scrape_request_log/flow/{flow}", json={"params": params})

    assert_refused(response, "params", repr(unknown))
    assert await count(pool) == 0


async def test_an_open_flow_still_takes_any_params(client: httpx.AsyncClient,
                                                   pool: asyncpg.Pool) -> None:
    task = await enqueue(client, params={"anything": [1, {"goes": "here"}]})

    assert task["params"] == {"anything": [1, {"goes": "here"}]}
    assert await count(pool) == 1


# -- bodies that are not JSON ------------------------------------------------------------------

@pytest.mark.parametrize("headers", [
    {"content-type": "text/plain"},
    {"content-type": "application/x-www-form-urlencoded"},
    {},
], ids=["text-plain", "form", "no-content-type"])
async def test_a_body_without_json_content_type_is_415_saying_so(
        client: httpx.AsyncClient, pool: asyncpg.Pool, headers: dict[str, str]) -> None:
    response = await client.post(ENQUEUE, content=b'{"params": {}}', headers=headers)

    assert_refused(response, "content-type: application/json", status=415)
    assert await count(pool) == 0


async def test_a_json_content_type_with_parameters_is_accepted(client: httpx.AsyncClient,
                                                               pool: asyncpg.Pool) -> None:
    response = await client.post(ENQUEUE, content=b'{"params": {}}',
                                 headers={"content-type": "application/json; charset=utf-8"})

    assert response.status_code == 201, response.text
    assert await count(pool) == 1


@pytest.mark.parametrize("body, headers, says", [
    (gzip.compress(b'{"params": {}}'),
     {"content-type": "application/json", "content-encoding": "gzip"},
     "content-encoding 'gzip' is not accepted: send the body uncompressed"),
    ('{"params": {"q": "caf\u00e9"}}'.encode("latin-1"),
     {"content-type": "application/json; charset=latin-1"},
     "send the body as UTF-8 JSON (got charset=latin-1)"),
    ('{"params": {}}'.encode("utf-16"),
     {"content-type": 'application/json; charset="UTF-16"'},
     "send the body as UTF-8 JSON (got charset=utf-16)"),
], ids=["gzip", "latin-1", "utf-16"])
async def test_a_body_in_an_encoding_json_cannot_take_is_415_saying_why(
        client: httpx.AsyncClient, pool: asyncpg.Pool, body: bytes, headers: dict[str, str],
        says: str) -> None:
    response = await client.post(ENQUEUE, content=body, headers=headers)

    assert response.status_code == 415 and response.json() == {"detail": says}
    assert await count(pool) == 0


# -- the /tokens endpoints (admin key) ---------------------------------------------------------


@pytest.fixture
async def admin(settings: Settings, pool: asyncpg.Pool,
                tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with admin_client(settings, beat_home=tmp_path) as client:
        yield client


@pytest.mark.parametrize("method, path, body, fragment", [
    ("GET", f"/tokens/{BIG}", None, "path.token_id"),
    ("POST", f"/tokens/{BIG}/disable", None, "path.token_id"),
    ("GET", f"/token/validate?id={BIG}", None, "query.id"),
    ("GET", "/tokens?source=you%00tube", None, "query.source"),
    ("POST", "/tokens", '{"source": "x", "credentials": {"key": "a\\u0000"}}',
     "body.credentials.key"),
    ("POST", "/tokens", '{"source": "x", "credentials": {"k": "v"}, "handle": "\\u0000"}',
     "body.handle"),
], ids=["get-id", "disable-id", "validate-id", "source-nul", "secret-nul", "handle-nul"])
async def test_tokens_endpoints_refuse_hostile_input_with_422(
        admin: httpx.AsyncClient, method: str, path: str, body: str | None,
        fragment: str) -> None:
    response = await admin.request(method, path, content=body,
                                   headers=JSON if body else None)

    assert_refused(response, fragment)
