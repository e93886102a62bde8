"""The stores: S3 against moto's standalone server (a real S3-compatible endpoint over HTTP),
and the local directory; each writes a content-addressed key once."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest

from assets.service import AssetService
from assets.settings import AssetsSettings
from assets.store import LocalStore, S3Store
from core.config import Settings
from sandbox.assets.images import image_bytes

CREDENTIALS = {"s3_access_key_id": "testing", "s3_secret_access_key": "testing",
               "s3_region": "us-east-1"}


def s3_settings(endpoint: str, bucket: str, **more: Any) -> AssetsSettings:
    return AssetsSettings(s3_bucket=bucket, s3_endpoint_url=endpoint, **CREDENTIALS, **more)


def client(endpoint: str) -> Any:
    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="testing",
                        aws_secret_access_key="testing", region_name="us-east-1")


@pytest.fixture
def bucket(s3_endpoint: str) -> str:
    name = f"beat-assets-{uuid.uuid4().hex[:8]}"
    client(s3_endpoint).create_bucket(Bucket=name)
    return name


async def test_s3_writes_a_key_once_with_its_content_type(s3_endpoint: str,
                                                          bucket: str) -> None:
    store = S3Store(s3_settings(s3_endpoint, bucket))
    try:
        assert await store.put("ab/abc.jpg", b"first", "image/jpeg") is True
        assert await store.put("ab/abc.jpg", b"second", "image/jpeg") is False
    finally:
        await store.close()
    got = client(s3_endpoint).get_object(Bucket=bucket, Key="ab/abc.jpg")
    assert got["Body"].read() == b"first"
    assert got["ContentType"] == "image/jpeg"
    assert "immutable" in got["CacheControl"]
    assert store.url("ab/abc.jpg") == f"{s3_endpoint}/{bucket}/ab/abc.jpg"


async def test_s3_trouble_is_a_retryable_error_saying_which_bucket(s3_endpoint: str) -> None:
    from core.errors import SourceUnavailable

    store = S3Store(s3_settings(s3_endpoint, "no-such-bucket-here"))
    try:
        with pytest.raises(SourceUnavailable, match="S3 bucket no-such-bucket-here"):
            await store.put("k.jpg", b"x", "image/jpeg")
    finally:
        await store.close()


@pytest.fixture
async def s3_service(s3_endpoint: str, bucket: str,
                     sandbox_url: str) -> AsyncIterator[AssetService]:
    own = s3_settings(s3_endpoint, bucket, s3_prefix="thumbs/",
                      assets_public_url="https://cdn.example.com")
    service = AssetService(Settings(sandbox_url=sandbox_url), own)
    yield service
    await service.close()


async def test_the_same_image_from_three_urls_is_stored_once_in_s3(
        s3_service: AssetService, s3_endpoint: str, bucket: str, sandbox_url: str) -> None:
    """Sandbox mode lets the sandbox (and only its port) through the guard."""
    urls = [f"{sandbox_url}/assets/images/7.jpg", f"{sandbox_url}/assets/pages/7",
            f"{sandbox_url}/assets/redirect?to=/assets/images/7.jpg"]
    stored = [await s3_service.store_asset(url) for url in urls]
    assert [s.created for s in stored] == [True, False, False]
    assert len({s.key for s in stored}) == 1
    first = stored[0]
    assert first.key == f"thumbs/{first.sha256[:2]}/{first.sha256}.jpg"
    assert first.url == f"https://cdn.example.com/{first.key}"
    assert first.source_bytes == len(image_bytes(7, "jpg")) > first.bytes
    listed = client(s3_endpoint).list_objects_v2(Bucket=bucket)["Contents"]
    assert [o["Key"] for o in listed] == [first.key]
    assert listed[0]["Size"] == first.bytes


async def test_the_local_store_writes_once_and_keeps_keys_inside(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "assets")
    assert await store.put("ab/abc.jpg", b"first", "image/jpeg") is True
    assert await store.put("ab/abc.jpg", b"second", "image/jpeg") is False
    assert (tmp_path / "assets" / "ab" / "abc.jpg").read_bytes() == b"first"
    assert not list((tmp_path / "assets" / "ab").glob(".part-*"))
    assert store.url("ab/abc.jpg") == (tmp_path / "assets" / "ab" / "abc.jpg").as_uri()
    with pytest.raises(ValueError, match="leaves the store"):
        await store.put("../../etc/x.jpg", b"x", "image/jpeg")


async def test_the_local_directory_is_the_default(tmp_path: Path, sandbox_url: str) -> None:
    settings = Settings(sandbox_url=sandbox_url, beat_home=tmp_path)
    service = AssetService(settings)
    try:
        stored = await service.store_asset(f"{sandbox_url}/assets/images/8.webp")
    finally:
        await service.close()
    path = tmp_path / "assets" / stored.key
    assert path.read_bytes()[:3] == b"\xff\xd8\xff" and path.stat().st_size == stored.bytes
    assert urlsplit(stored.url).scheme == "file"


async def test_of_two_writers_of_one_key_exactly_one_wrote_it(
        s3_endpoint: str, bucket: str, tmp_path: Path) -> None:
    """Two tasks storing the same picture at once: the key check races, the write does not
    (the local store links into place, S3 writes with If-None-Match)."""
    local = LocalStore(tmp_path / "store")
    for _ in range(20):
        key = f"ab/{uuid.uuid4().hex}.jpg"
        wrote = await asyncio.gather(*(local.put(key, b"same", "image/jpeg") for _ in range(4)))
        assert sorted(wrote) == [False, False, False, True]
    assert not list((tmp_path / "store").rglob(".part-*")), "no temporary file is left"
    store = S3Store(s3_settings(s3_endpoint, bucket))
    store._exists = lambda key: False  # type: ignore[method-assign]  # both passed the check
    try:
        assert await store.put("cd/race.jpg", b"first", "image/jpeg") is True
        assert await store.put("cd/race.jpg", b"second", "image/jpeg") is False
    finally:
        await store.close()
    assert client(s3_endpoint).get_object(Bucket=bucket, Key="cd/race.jpg")["Body"].read() \
        == b"first"
