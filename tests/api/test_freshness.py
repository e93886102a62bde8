"""A live read whose refresh failed answers 404 when the task's error_kind says the platform has
no such item, whatever its message says, and 202 with the task otherwise; the task API shows the
kind next to last_error."""

import asyncio

import asyncpg
import httpx
import pytest

from tests.api.support import enqueue

ENDPOINTS = {  # path (for an item id ending in `x`) -> the flow of the refresh it enqueues
    "/profiles/YOUTUBE/byprofileid/UC{x:0>22}": "refresh_yt_profiles",
    "/posts/YOUTUBE/byshortcode/{x:0>11}": "refresh_yt_posts",
    "/recent/posts/YOUTUBE/byprofileid/UC{x:0>22}": "refresh_yt_posts_by_channel_id",
}


async def fail_the_refresh(pool: asyncpg.Pool, flow: str, last_error: str, kind: str) -> None:
    """Fail the refresh task as a worker would, as soon as it is enqueued (no worker runs)."""
    for _ in range(250):
        failed = await pool.execute(
            "UPDATE scrape_request_log SET status = 'FAILED', last_error = $2, error_kind = $3 "
            "WHERE flow = $1 AND status = 'PENDING'", flow, last_error, kind)
        if failed != "UPDATE 0":
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"no {flow} task was enqueued")


async def read_while_the_refresh_fails(client: httpx.AsyncClient, pool: asyncpg.Pool, path: str,
                                       item: str, last_error: str, kind: str) -> httpx.Response:
    """GET `path` for `item` (each test its own: live refreshes are limited per item)."""
    answer, _ = await asyncio.gather(client.get(path.format(x=item), params={"wait": 5}),
                                     fail_the_refresh(pool, ENDPOINTS[path], last_error, kind))
    return answer


@pytest.mark.parametrize("path", ENDPOINTS)
async def test_a_refresh_that_failed_as_not_found_answers_404_whatever_its_message(
        client: httpx.AsyncClient, pool: asyncpg.Pool, path: str) -> None:
    answer = await read_while_the_refresh_fails(client, pool, path, "gone",
                                                "ChannelGone: removed by its owner", "not_found")
    assert answer.status_code == 404, answer.text
    assert "removed by its owner" in answer.json()["detail"]


@pytest.mark.parametrize("path", ENDPOINTS)
async def test_a_message_that_only_looks_like_not_found_is_no_404(
        client: httpx.AsyncClient, pool: asyncpg.Pool, path: str) -> None:
    answer = await read_while_the_refresh_fails(client, pool, path, "bug",
                                                "NotFoundError: a bug's own exception",
                                                "unexpected")
    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] == "FAILED"


async def test_the_task_api_shows_the_error_kind(client: httpx.AsyncClient,
                                                 pool: asyncpg.Pool) -> None:
    task = await enqueue(client, "sleep", params={"seconds": 60})
    assert task["error_kind"] is None
    cancelled = await client.post(f"/scrape_request_log/flow/update/{task['id']}",
                                  json={"action": "cancel"})
    assert cancelled.status_code == 200 and cancelled.json()["error_kind"] == "cancelled"
    shown = (await client.get(f"/scrape_request_log/flow/{task['id']}")).json()
    assert (shown["status"], shown["error_kind"]) == ("CANCELLED", "cancelled")
