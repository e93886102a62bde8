"""200 images through the queue to a real S3-compatible server (moto's standalone server, a
process of its own): the sandbox serves the images, `beat worker --platform ASSETS` stores them
in the bucket. Every object is one picture (its key the SHA-256 of the stored bytes), asked by
several URLs (the image, a page whose og:image it is, a redirect to it) it is stored once, and
asset_log has one row per task saying whether it was new."""

import hashlib
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import boto3
import pytest

from tests.assets.conftest import start, stop
from tests.e2e.procs import Launcher, free_port, wait_worker_ready
from tests.e2e.support import enqueue, wait_all_finished
from tests.e2e.test_assets import wait_answers

DISTINCT, REPEATS = 160, 40  # 200 tasks


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Any]]:
    """(endpoint, bucket, client) of a moto server started here and stopped by its pid."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    proc = start([str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p",
                  str(port)], f"{endpoint}/moto-api/", tmp_path_factory.mktemp("moto") / "log")
    client = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="testing",
                          aws_secret_access_key="testing", region_name="us-east-1")
    bucket = f"beat-e2e-{uuid.uuid4().hex[:8]}"
    client.create_bucket(Bucket=bucket)
    try:
        yield endpoint, bucket, client
    finally:
        stop(proc)


def objects(client: Any, bucket: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        found.update({item["Key"]: item for item in page.get("Contents", [])})
    return found


async def test_two_hundred_images_land_in_s3_once_each(
        beat: Launcher, pool: asyncpg.Pool, e2e_db: str, s3: tuple[str, str, Any]) -> None:
    endpoint, bucket, client = s3
    port = free_port()
    sandbox = f"http://127.0.0.1:{port}"
    await wait_answers(beat.spawn("sandbox", ["sandbox", "--port", str(port)], beat.env()),
                       f"{sandbox}/assets/hostile/no-og")
    worker = beat.spawn("assets-worker", ["worker", "--platform", "ASSETS"], beat.env(
        SANDBOX_URL=sandbox, WORKER_PROCESS_CAP=1, QUEUE_POLL_INTERVAL=0.5,
        S3_BUCKET=bucket, S3_PREFIX="e2e/", S3_ENDPOINT_URL=endpoint, S3_REGION="us-east-1",
        S3_ACCESS_KEY_ID="testing", S3_SECRET_ACCESS_KEY="testing"))
    await wait_worker_ready(worker, e2e_db, workers=2)
    forms = ("jpg", "png", "webp")
    urls = [f"{sandbox}/assets/images/{300 + n}.{forms[n % 3]}" for n in range(DISTINCT)]
    # The same pictures again by other URLs: a page whose og:image is the JPEG, a redirect.
    jpegs = [n for n in range(DISTINCT) if n % 3 == 0][:REPEATS]
    again = [f"{sandbox}/assets/pages/{300 + n}" if i % 2 else
             f"{sandbox}/assets/redirect?to=/assets/images/{300 + n}.jpg"
             for i, n in enumerate(jpegs)]
    ids = await enqueue(pool, "asset_upload_flow", [{"url": u} for u in urls], max_attempts=3)
    ids += await enqueue(pool, "asset_upload_flow_stories", [{"url": u} for u in again],
                         max_attempts=3)
    await wait_all_finished(pool, DISTINCT + REPEATS, 600, worker)
    statuses = await pool.fetch("SELECT status, last_error FROM scrape_request_log "
                                "WHERE id = ANY($1::bigint[])", ids)
    assert {r["status"] for r in statuses} == {"COMPLETE"}, [r["last_error"] for r in statuses]

    logged = await pool.fetch("SELECT * FROM asset_log ORDER BY id")
    assert len(logged) == DISTINCT + REPEATS
    assert all(row["status"] == "STORED" for row in logged), {r["status"] for r in logged}
    assert sum(row["created"] for row in logged) == DISTINCT
    keys = {row["key"] for row in logged}
    assert len(keys) == DISTINCT, "each picture is one key however it was asked for"
    stored = objects(client, bucket)
    assert set(stored) == keys and all(key.startswith("e2e/") for key in keys)
    for row in logged[::10]:  # each object is what its log row says, named by its hash
        body = client.get_object(Bucket=bucket, Key=row["key"])
        data = body["Body"].read()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (row["bytes"], row["sha256"])
        assert body["ContentType"] == "image/jpeg" and row["key"].endswith(".jpg")
        assert row["sha256"] in row["key"]
    assert sum(stored[k]["Size"] for k in keys) < sum(
        r["source_bytes"] for r in logged if r["created"]), "compressed"
