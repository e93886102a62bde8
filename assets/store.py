"""Where processed assets are kept, behind one small interface (`BlobStore`): S3 or any
S3-compatible store through boto3 when S3_BUCKET is set, else a local directory (the embedded
default). Keys are content addresses, so `put` of a key that exists writes nothing and says so.

boto3 is synchronous: each S3 call runs in a worker thread, so the event loop keeps serving the
other downloads meanwhile."""

import asyncio
import os
import tempfile
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

from assets.settings import AssetsSettings
from core.config import Settings
from core.errors import SourceUnavailable


class BlobStore(Protocol):
    async def put(self, key: str, data: bytes, content_type: str) -> bool:
        """Store `data` under `key` unless it is there; True when it was written."""

    def url(self, key: str) -> str:
        """Where the stored object is served."""

    async def close(self) -> None: ...


class LocalStore:
    """A directory: key `ab/abcdef….jpg` is the file `<root>/ab/abcdef….jpg`, written to a
    temporary name first and linked into place (which fails when the name exists), so a reader
    never sees half a file and of two writers of one key exactly one says it wrote it."""

    def __init__(self, root: Path, public_url: str | None = None) -> None:
        self.root = root.expanduser().resolve()
        self.public_url = public_url

    def path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root not in path.parents:
            raise ValueError(f"key {key!r} leaves the store")
        return path

    async def put(self, key: str, data: bytes, content_type: str) -> bool:
        return await asyncio.to_thread(self._put, key, data)

    def _put(self, key: str, data: bytes) -> bool:
        path = self.path(key)
        if path.exists():
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.link(temporary, path)
        except FileExistsError:
            return False  # another writer stored the same content first
        finally:
            Path(temporary).unlink(missing_ok=True)
        return True

    def url(self, key: str) -> str:
        if self.public_url:
            return f"{self.public_url.rstrip('/')}/{key}"
        return self.path(key).as_uri()

    async def close(self) -> None:
        return None


class S3Store:
    """A bucket through boto3 (AWS, MinIO, R2, moto, ... at S3_ENDPOINT_URL)."""

    def __init__(self, own: AssetsSettings) -> None:
        import boto3
        from botocore.config import Config

        assert own.s3_bucket
        self.bucket = own.s3_bucket
        self.endpoint = own.s3_endpoint_url
        self.region = own.s3_region
        self.public_url = own.assets_public_url
        secret = own.s3_secret_access_key
        self.client: Any = boto3.session.Session().client(
            "s3", endpoint_url=own.s3_endpoint_url, region_name=own.s3_region,
            aws_access_key_id=own.s3_access_key_id,
            aws_secret_access_key=secret.get_secret_value() if secret else None,
            config=Config(retries={"max_attempts": 3, "mode": "standard"},
                          connect_timeout=10, read_timeout=30, max_pool_connections=50))

    async def put(self, key: str, data: bytes, content_type: str) -> bool:
        return await asyncio.to_thread(self._put, key, data, content_type)

    def _put(self, key: str, data: bytes, content_type: str) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            if self._exists(key):
                return False
            # A conditional write: of two writers of one key, the second is refused (412).
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data,
                                   ContentType=content_type, IfNoneMatch="*",
                                   CacheControl="public, max-age=31536000, immutable")
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("PreconditionFailed", "412",
                                                               "ConditionalRequestConflict"):
                return False
            raise SourceUnavailable(f"S3 bucket {self.bucket}: {exc}") from None
        except BotoCoreError as exc:
            raise SourceUnavailable(f"S3 bucket {self.bucket}: {exc}") from None

    def _exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise

    def url(self, key: str) -> str:
        if self.public_url:
            return f"{self.public_url.rstrip('/')}/{quote(key)}"
        if self.endpoint:
            return f"{self.endpoint.rstrip('/')}/{self.bucket}/{quote(key)}"
        region = self.region or "us-east-1"
        return f"https://{self.bucket}.s3.{region}.amazonaws.com/{quote(key)}"

    async def close(self) -> None:
        await asyncio.to_thread(self.client.close)


def make_store(settings: Settings, own: AssetsSettings) -> BlobStore:
    """S3 when S3_BUCKET is set, else the local directory."""
    if own.s3_bucket:
        return S3Store(own)
    return LocalStore(own.directory(settings), own.assets_public_url)
