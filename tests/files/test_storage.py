"""The evidence store: content-addressed keys, size limits, no escape from the root, flat memory.

The contract runs against both stores: the local folder and a real S3-compatible server."""

from __future__ import annotations

import hashlib
import io
import itertools
import os
import re
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from portfolio.files.s3 import PART_SIZE, S3Storage
from portfolio.files.storage import (
    CHUNK_SIZE,
    EvidenceStorage,
    FileTooLarge,
    LocalStorage,
    StoredBlob,
    storage_from_config,
)
from portfolio.files.streams import ChunkStream
from portfolio.text import MB

KEY = re.compile(r"^sha256/([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})$")


class FailingStream(io.RawIOBase):
    """A stream that breaks after some data, like a dropped connection."""

    def __init__(self, good: int) -> None:
        self._left = good

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        if self._left <= 0:
            raise OSError("connection reset")
        count = min(len(buffer), self._left)
        buffer[:count] = b"x" * count
        self._left -= count
        return count


def pattern_chunks(total: int, chunk: int = 256 * 1024) -> Iterator[bytes]:
    """``total`` bytes of varied content, made a chunk at a time."""
    for index, start in enumerate(range(0, total, chunk)):
        size = min(chunk, total - start)
        yield (index.to_bytes(4, "big") * (size // 4 + 1))[:size]


def stored_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "evidence")


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> EvidenceStorage:
    """Each store the application can be configured with."""
    if request.param == "local":
        return LocalStorage(tmp_path / "evidence")
    server = request.getfixturevalue("s3_server")
    return storage_from_config(server.fresh())


def leftovers(store: EvidenceStorage) -> list[str]:
    """Everything the store holds: files, temporary files and unfinished uploads."""
    if isinstance(store, LocalStorage):
        return [p.relative_to(store.root).as_posix() for p in stored_files(store.root)]
    assert isinstance(store, S3Storage)
    listed = store.client.list_objects_v2(Bucket=store.bucket, Prefix=store.prefix)
    uploads = store.client.list_multipart_uploads(Bucket=store.bucket, Prefix=store.prefix)
    return sorted(o["Key"].removeprefix(store.prefix) for o in listed.get("Contents", [])) + [
        f"unfinished {u['Key']}" for u in uploads.get("Uploads") or []
    ]


def test_saved_file_reads_back_identical(store: EvidenceStorage) -> None:
    """What a learner uploads is exactly what the assessor downloads."""
    content = b"Complaint log\nResolved within 24 hours.\n"
    blob = store.save(io.BytesIO(content))
    with store.open(blob.key) as stored:
        assert stored.read() == content
    assert store.exists(blob.key)
    assert store.size(blob.key) == len(content) == blob.size


def test_key_is_generated_from_content_not_from_a_name(store: EvidenceStorage) -> None:
    """Files are stored under a generated key, so no user-chosen name reaches the disk."""
    blob = store.save(io.BytesIO(b"roster"))
    match = KEY.match(blob.key)
    assert match is not None
    assert match.group(1) + match.group(2) == blob.sha256[:4]
    assert match.group(3) == blob.sha256


def test_sha256_and_size_are_correct(store: EvidenceStorage) -> None:
    """The checksum an auditor sees in a manifest matches the file."""
    content = os.urandom(200_000)
    blob = store.save(io.BytesIO(content))
    assert blob == StoredBlob(
        key=blob.key, sha256=hashlib.sha256(content).hexdigest(), size=len(content)
    )


def test_identical_content_is_stored_once(store: EvidenceStorage) -> None:
    """Uploading the same file twice does not use the space twice."""
    first = store.save(io.BytesIO(b"same minutes"))
    second = store.save(io.BytesIO(b"same minutes"))
    assert first == second
    assert leftovers(store) == [first.key]


def test_save_reads_from_the_current_position(store: EvidenceStorage) -> None:
    """A stream already sniffed and rewound by the caller is stored whole."""
    stream = io.BytesIO(b"header and body")
    stream.seek(7)
    blob = store.save(stream)
    with store.open(blob.key) as stored:
        assert stored.read() == b"and body"


def test_file_at_the_limit_is_accepted(store: EvidenceStorage) -> None:
    """A file of exactly the size limit is accepted."""
    blob = store.save(io.BytesIO(b"x" * 1000), max_size=1000)
    assert blob.size == 1000


def test_one_byte_over_the_limit_is_refused_and_nothing_is_left(store: EvidenceStorage) -> None:
    """A file one byte over the limit is refused with the limit named, and leaves no file."""
    with pytest.raises(FileTooLarge) as raised:
        store.save(io.BytesIO(b"x" * 1001), max_size=1000)
    assert raised.value.limit == 1000
    assert leftovers(store) == []


def test_oversized_upload_stops_being_read_at_the_limit(store: EvidenceStorage) -> None:
    """An endless upload is cut off at the limit instead of filling the disk."""
    with ChunkStream(itertools.repeat(b"y" * 10_000)) as endless:
        with pytest.raises(FileTooLarge):
            store.save(endless, max_size=MB)  # type: ignore[arg-type]
        assert endless.bytes_read <= MB + CHUNK_SIZE
    assert leftovers(store) == []


def test_limit_message_is_in_megabytes() -> None:
    """The message names the limit the way the upload form does."""
    assert str(FileTooLarge(50 * MB)) == "The file is larger than the 50 MB limit."
    assert str(FileTooLarge(MB)) == "The file is larger than the 1 MB limit."
    assert FileTooLarge(50 * MB).limit == 50 * MB


def test_broken_upload_leaves_no_partial_file(store: EvidenceStorage) -> None:
    """A connection dropped mid-upload leaves nothing half-written behind."""
    with FailingStream(good=300_000) as broken, pytest.raises(OSError, match="reset"):
        store.save(broken)  # type: ignore[arg-type]
    assert leftovers(store) == []


def test_root_is_created_on_first_use(tmp_path: Path) -> None:
    """A fresh install needs no folder made by hand."""
    root = tmp_path / "instance" / "evidence"
    storage = LocalStorage(root)
    assert not storage.exists("sha256/00/00/" + "0" * 64)
    blob = storage.save(io.BytesIO(b"first upload"))
    assert (root / blob.key).is_file()


@pytest.mark.parametrize(
    "key",
    [
        "../secret",
        "sha256/../../secret",
        "/etc/passwd",
        "sha256\\..\\..\\secret",
        "",
        "sha256//ab",
        "./sha256",
        "sha256/ab/",
        "a\x00b",
    ],
)
def test_keys_cannot_reach_outside_the_store(store: EvidenceStorage, key: str) -> None:
    """No stored key can read or delete a file outside the evidence folder."""
    with pytest.raises(ValueError):
        store.open(key)
    with pytest.raises(ValueError):
        store.exists(key)
    with pytest.raises(ValueError):
        store.delete(key)


def test_symlink_out_of_the_store_is_refused(storage: LocalStorage, tmp_path: Path) -> None:
    """A link inside the evidence folder cannot be used to read files outside it."""
    secret = tmp_path / "secret.txt"
    secret.write_text("password")
    storage.root.mkdir(parents=True)
    (storage.root / "link").symlink_to(secret)
    with pytest.raises(ValueError):
        storage.open("link")


def test_missing_file_is_reported_not_invented(store: EvidenceStorage) -> None:
    """A key with no file says so instead of returning empty content."""
    key = "sha256/00/00/" + "0" * 64
    assert not store.exists(key)
    with pytest.raises(FileNotFoundError):
        store.open(key)


def test_delete_removes_the_file_and_tolerates_a_missing_one(store: EvidenceStorage) -> None:
    """Purging a file removes it, and purging it again is harmless."""
    blob = store.save(io.BytesIO(b"old evidence"))
    store.delete(blob.key)
    assert not store.exists(blob.key)
    store.delete(blob.key)


def test_large_upload_never_sits_whole_in_memory(storage: LocalStorage) -> None:
    """A 30 MB video is stored with a few MB of memory, so many uploads at once are safe."""
    total = 30 * MB
    expected = hashlib.sha256()
    for chunk in pattern_chunks(total):
        expected.update(chunk)
    tracemalloc.start()
    try:
        with ChunkStream(pattern_chunks(total)) as upload:
            blob = storage.save(upload)  # type: ignore[arg-type]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert blob.size == total
    assert blob.sha256 == expected.hexdigest()
    assert peak < 5 * MB, f"peak traced memory {peak} bytes"


def test_config_chooses_the_local_store(tmp_path: Path) -> None:
    """With no storage setting, evidence goes to EVIDENCE_DIR."""
    storage = storage_from_config({"EVIDENCE_DIR": str(tmp_path / "ev")})
    assert isinstance(storage, LocalStorage)
    assert isinstance(storage, EvidenceStorage)
    assert storage.root == tmp_path / "ev"
    explicit = storage_from_config({"EVIDENCE_STORAGE": "local", "EVIDENCE_DIR": tmp_path})
    assert isinstance(explicit, LocalStorage)


def test_unknown_backend_is_named_in_the_error(tmp_path: Path) -> None:
    """A mistyped storage setting fails at once with the name that was given."""
    with pytest.raises(ValueError, match="'s4'; use 'local' or 's3'"):
        storage_from_config({"EVIDENCE_STORAGE": "s4", "EVIDENCE_DIR": str(tmp_path)})


def test_s3_stores_a_large_file_in_parts_with_bounded_memory(s3_server) -> None:
    """A file of several parts goes up part by part, is copied to its content key and leaves
    nothing temporary; memory stays within a few parts whatever the file's size."""
    store = storage_from_config(s3_server.fresh())
    total = 3 * PART_SIZE + 12_345
    expected = hashlib.sha256()
    for chunk in pattern_chunks(total):
        expected.update(chunk)
    tracemalloc.start()
    try:
        with ChunkStream(pattern_chunks(total)) as upload:
            blob = store.save(upload)  # type: ignore[arg-type]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert blob.size == total and blob.sha256 == expected.hexdigest()
    assert leftovers(store) == [blob.key]
    assert peak < 4 * PART_SIZE, f"peak traced memory {peak} bytes"
    # Read back as a stream, and from the middle after a seek (a ranged read).
    digest = hashlib.sha256()
    with store.open(blob.key) as stored:
        while chunk := stored.read(CHUNK_SIZE):
            digest.update(chunk)
        assert digest.hexdigest() == blob.sha256
        stored.seek(PART_SIZE)
        assert (
            stored.read(8)
            == next(c for i, c in enumerate(pattern_chunks(total)) if i * 256 * 1024 == PART_SIZE)[
                :8
            ]
        )
    assert [key for key, _ in store.stored()] == [blob.key]


def test_s3_unfinished_uploads_are_aborted(s3_server) -> None:
    """A multipart upload a crash left open, and a temporary object, are cleared."""
    from datetime import UTC, datetime, timedelta

    store = storage_from_config(s3_server.fresh())
    assert isinstance(store, S3Storage)
    store.client.create_multipart_upload(Bucket=store.bucket, Key=f"{store.prefix}tmp/crashed")
    store.client.put_object(Bucket=store.bucket, Key=f"{store.prefix}tmp/orphan", Body=b"x")
    kept = store.save(io.BytesIO(b"kept"))
    assert store.abort_unfinished(datetime.now(UTC) + timedelta(minutes=1)) == 2
    assert leftovers(store) == [kept.key]


def test_config_chooses_the_s3_store(s3_server) -> None:
    """EVIDENCE_STORAGE=s3 puts evidence in the bucket named; without one it says so."""
    settings = s3_server.fresh()
    store = storage_from_config(settings)
    assert isinstance(store, S3Storage) and store.name == "s3"
    assert (store.bucket, store.prefix) == (settings["S3_BUCKET"], settings["S3_PREFIX"] + "/")
    with pytest.raises(ValueError, match="S3_BUCKET"):
        storage_from_config({**settings, "S3_BUCKET": ""})
