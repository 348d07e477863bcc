"""Evidence in an S3-compatible object store (AWS S3, MinIO, SeaweedFS, Ceph, ...), through
boto3, behind the same interface as the local folder.

Keys are content-addressed as in the folder (``sha256/ab/cd/<sha256>``). A file is hashed as
it streams: one that fits in a part is held in memory (at most ``PART_SIZE`` bytes) and put
under its key; a larger one goes up in parts to a temporary key and is copied to its key
inside the store once its hash is known, so no upload ever sits whole in memory or on disk.
Reading is streamed too, with ranged reads when a reader seeks.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any, BinaryIO

from portfolio.files.storage import (
    CHUNK_SIZE,
    KEY_PREFIX,
    FileTooLarge,
    StorageUnavailable,
    StoredBlob,
    checked_key,
    content_key,
)

#: Bytes sent per part of a multipart upload (S3's smallest part but the last is 5 MiB).
PART_SIZE = 8 * 1024 * 1024
_TEMP_PREFIX = "tmp/"


@contextmanager
def _reached(what: str) -> Iterator[None]:
    """The store's own errors as StorageUnavailable, which callers answer in words."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except (BotoCoreError, ClientError) as error:
        raise StorageUnavailable(f"the evidence store could not {what} ({error})") from error


def s3_client(config: Mapping[str, Any]) -> Any:
    """A boto3 client for the store the configuration names (``S3_ENDPOINT_URL`` for a store
    other than AWS; credentials from ``S3_ACCESS_KEY_ID``/``S3_SECRET_ACCESS_KEY`` or boto3's
    usual places: the environment, ~/.aws, an instance role)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=config.get("S3_ENDPOINT_URL") or None,
        region_name=config.get("S3_REGION") or None,
        aws_access_key_id=config.get("S3_ACCESS_KEY_ID") or None,
        aws_secret_access_key=config.get("S3_SECRET_ACCESS_KEY") or None,
        config=Config(
            # Signature version 4 for signed links too (botocore would sign those with version
            # 2, which current stores refuse once a link names its download's headers).
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            retries={"max_attempts": 5, "mode": "standard"},
            # Checksums boto3 would add on its own are not understood by every S3-compatible
            # store; each file's SHA-256 is checked by this application instead.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )


class S3Storage:
    """Evidence in one bucket of an S3-compatible store, under an optional prefix."""

    name = "s3"

    def __init__(
        self, client: Any, bucket: str, prefix: str = "", *, public_client: Any = None
    ) -> None:
        if not bucket:
            raise ValueError("S3 storage needs a bucket (S3_BUCKET).")
        self.client = client
        self.public_client = public_client or client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    def _object(self, key: str) -> str:
        return self.prefix + checked_key(key)

    def save(self, stream: BinaryIO, *, max_size: int | None = None) -> StoredBlob:
        """Store everything left in ``stream`` under its content's key, hashing as it goes;
        FileTooLarge as soon as more than ``max_size`` bytes were read, leaving nothing."""
        with _reached("store the file"):
            return self._save(stream, max_size)

    def _save(self, stream: BinaryIO, max_size: int | None) -> StoredBlob:
        digest = hashlib.sha256()
        size = 0
        buffer = bytearray()
        upload: _Multipart | None = None
        try:
            while chunk := stream.read(CHUNK_SIZE):
                size += len(chunk)
                if max_size is not None and size > max_size:
                    raise FileTooLarge(max_size)
                digest.update(chunk)
                buffer += chunk
                if len(buffer) >= PART_SIZE:
                    if upload is None:
                        upload = _Multipart(self, f"{self.prefix}{_TEMP_PREFIX}{uuid.uuid4().hex}")
                    upload.send(bytes(buffer[:PART_SIZE]))
                    del buffer[:PART_SIZE]
            sha256 = digest.hexdigest()
            key = content_key(sha256)
            target = self._object(key)
            if upload is None:
                if self._head(target) is None:
                    self.client.put_object(Bucket=self.bucket, Key=target, Body=bytes(buffer))
                else:
                    self._touch(target)
            else:
                if buffer:
                    upload.send(bytes(buffer))
                temp = upload.finish()
                upload = None
                try:
                    if self._head(target) is None:
                        self.client.copy({"Bucket": self.bucket, "Key": temp}, self.bucket, target)
                    else:
                        self._touch(target)
                finally:
                    self.client.delete_object(Bucket=self.bucket, Key=temp)
        except BaseException:
            if upload is not None:
                upload.abort()
            raise
        return StoredBlob(key=key, sha256=sha256, size=size)

    def _touch(self, target: str) -> None:
        """Stored again now (as the folder's backend touches the file): the sweep of
        unreferenced files must not take it while the form that uses it is on its way."""
        self.client.copy_object(
            Bucket=self.bucket,
            Key=target,
            CopySource={"Bucket": self.bucket, "Key": target},
            MetadataDirective="REPLACE",
            Metadata={"stored": datetime.now().isoformat()},
        )

    def _head(self, target: str) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError

        try:
            return self.client.head_object(Bucket=self.bucket, Key=target)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    def download_url(self, key: str, *, name: str, mimetype: str, seconds: int) -> str:
        """A link the browser downloads the object from directly, for ``seconds``: signed, so
        it names this object and these response headers only (the store answers ranges, so
        a large download resumes). Made locally: no request to the store."""
        return str(
            self.public_client.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self.bucket,
                    "Key": self._object(key),
                    "ResponseContentDisposition": f'attachment; filename="{name}"',
                    "ResponseContentType": mimetype,
                    "ResponseCacheControl": "private, no-store",
                },
                ExpiresIn=seconds,
            )
        )

    def open(self, key: str) -> BinaryIO:
        """The stored object for reading, streamed (FileNotFoundError when missing)."""
        target = self._object(key)
        with _reached("read the file"):
            head = self._head(target)
        if head is None:
            raise FileNotFoundError(f"No stored file under {key!r}.")
        raw = _ObjectReader(self.client, self.bucket, target, int(head["ContentLength"]))
        return io.BufferedReader(raw, CHUNK_SIZE)  # type: ignore[return-value]

    def exists(self, key: str) -> bool:
        with _reached("look the file up"):
            return self._head(self._object(key)) is not None

    def size(self, key: str) -> int:
        with _reached("look the file up"):
            head = self._head(self._object(key))
        if head is None:
            raise FileNotFoundError(f"No stored file under {key!r}.")
        return int(head["ContentLength"])

    def delete(self, key: str) -> None:
        with _reached("delete the file"):
            self.client.delete_object(Bucket=self.bucket, Key=self._object(key))

    def stored(self) -> Iterator[tuple[str, datetime]]:
        """Every stored key with when its content was last stored, in key order."""
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{self.prefix}{KEY_PREFIX}/"
        )
        for page in pages:
            for entry in page.get("Contents", []):
                yield entry["Key"].removeprefix(self.prefix), entry["LastModified"]

    def abort_unfinished(self, before: datetime) -> int:
        """Abort multipart uploads begun before ``before`` and remove temporary objects left
        by a crash between an upload and its copy; how many."""
        removed = 0
        temp = f"{self.prefix}{_TEMP_PREFIX}"
        pages = self.client.get_paginator("list_multipart_uploads").paginate(
            Bucket=self.bucket, Prefix=temp
        )
        for page in pages:
            for upload in page.get("Uploads", []) or []:
                if upload["Initiated"] < before:
                    self.client.abort_multipart_upload(
                        Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                    )
                    removed += 1
        objects = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=temp
        )
        for page in objects:
            for entry in page.get("Contents", []):
                if entry["LastModified"] < before:
                    self.client.delete_object(Bucket=self.bucket, Key=entry["Key"])
                    removed += 1
        return removed


class _Multipart:
    """One multipart upload to a temporary key, a part at a time."""

    def __init__(self, storage: S3Storage, key: str) -> None:
        self.client, self.bucket, self.key = storage.client, storage.bucket, key
        self.upload_id = self.client.create_multipart_upload(Bucket=self.bucket, Key=key)[
            "UploadId"
        ]
        self.parts: list[dict[str, Any]] = []

    def send(self, data: bytes) -> None:
        number = len(self.parts) + 1
        answer = self.client.upload_part(
            Bucket=self.bucket, Key=self.key, UploadId=self.upload_id, PartNumber=number, Body=data
        )
        self.parts.append({"ETag": answer["ETag"], "PartNumber": number})

    def finish(self) -> str:
        self.client.complete_multipart_upload(
            Bucket=self.bucket,
            Key=self.key,
            UploadId=self.upload_id,
            MultipartUpload={"Parts": self.parts},
        )
        return self.key

    def abort(self) -> None:
        self.client.abort_multipart_upload(
            Bucket=self.bucket, Key=self.key, UploadId=self.upload_id
        )


class _ObjectReader(io.RawIOBase):
    """An object read as a stream from where the reader is; a seek starts a ranged read."""

    def __init__(self, client: Any, bucket: str, key: str, size: int) -> None:
        self.client, self.bucket, self.key, self.length = client, bucket, key, size
        self.position = 0
        self.body: Any = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        if self.position >= self.length:
            return 0
        with _reached("read the file"):
            if self.body is None:
                self.body = self.client.get_object(
                    Bucket=self.bucket, Key=self.key, Range=f"bytes={self.position}-"
                )["Body"]
            data = self.body.read(len(target))
        target[: len(data)] = data
        self.position += len(data)
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        start = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.length}[whence]
        wanted = max(start + offset, 0)
        if wanted != self.position:
            self._drop()
            self.position = wanted
        return self.position

    def tell(self) -> int:
        return self.position

    def _drop(self) -> None:
        if self.body is not None:
            self.body.close()
            self.body = None

    def close(self) -> None:
        self._drop()
        super().close()
