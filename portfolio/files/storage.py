"""Where evidence files live: one small interface, a local folder (the default) or an
S3-compatible object store (``portfolio.files.s3``), chosen by ``EVIDENCE_STORAGE``.

Files are stored under generated, content-addressed keys (``sha256/ab/cd/<sha256>``); a
learner's file name never becomes part of a path. Identical content is stored once, so a key
may be shared by several evidence files: deleting one is for retention rules that know no
record still points at it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, Protocol, runtime_checkable

from portfolio.text import file_size

CHUNK_SIZE = 64 * 1024
"""Bytes read from an upload at a time: memory use stays flat whatever the file's size."""


# Temporary files are written inside the root (not the system temp folder) so that the final
# move is a rename within one filesystem: atomic, and never a copy of the whole file.
_TEMP_DIR = "tmp"
KEY_PREFIX = "sha256"


def content_key(sha256: str) -> str:
    """The key a file with this SHA-256 (hex) is stored under, whatever the backend."""
    return f"{KEY_PREFIX}/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def checked_key(key: str) -> str:
    """``key`` if it is a plain relative key; ValueError for one that could reach elsewhere.

    Keys come from the database, not from users, but a key is still checked before it is
    used: an absolute path, ``..``, a backslash or an empty segment would otherwise read or
    delete what the application never stored.
    """
    if not key or "\\" in key or "\x00" in key:
        raise ValueError(f"Invalid storage key {key!r}.")
    parts = PurePosixPath(key).parts
    if key.startswith("/") or any(part in ("", ".", "..") for part in parts):
        raise ValueError(f"Invalid storage key {key!r}.")
    if key.split("/") != list(parts):  # empty segments such as "a//b" or "a/"
        raise ValueError(f"Invalid storage key {key!r}.")
    return key


@dataclass(frozen=True)
class StoredBlob:
    """A file as stored: its generated key, SHA-256 (hex) and size in bytes."""

    key: str
    sha256: str
    size: int


class StorageUnavailable(OSError):
    """The store could not be reached or refused the request (an object store's outage)."""


class FileTooLarge(Exception):
    """An upload went over the size limit; nothing was kept."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"The file is larger than the {file_size(limit)} limit.")


@runtime_checkable
class EvidenceStorage(Protocol):
    """What the application needs from a place that keeps evidence files."""

    #: Recorded with each stored file ("local", "s3").
    name: str

    def save(self, stream: BinaryIO, *, max_size: int | None = None) -> StoredBlob:
        """Store everything left in ``stream``; raise FileTooLarge past ``max_size`` bytes."""
        ...

    def open(self, key: str) -> BinaryIO:
        """The stored file for reading; the caller closes it."""
        ...

    def exists(self, key: str) -> bool:
        """Whether a file is stored under ``key``."""
        ...

    def size(self, key: str) -> int:
        """The stored file's size in bytes."""
        ...

    def delete(self, key: str) -> None:
        """Remove the stored file; a missing key is not an error."""
        ...

    def stored(self) -> Iterator[tuple[str, datetime]]:
        """Every stored key, with when its content was last stored (a repeat upload of the
        same content counts as storing it again)."""
        ...

    def abort_unfinished(self, before: datetime) -> int:
        """Remove uploads begun before ``before`` and never finished; how many."""
        ...


class LocalStorage:
    """Evidence in a folder on the local filesystem (the embedded default)."""

    name = "local"

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def save(self, stream: BinaryIO, *, max_size: int | None = None) -> StoredBlob:
        """Copy ``stream`` in chunks to a temporary file, hashing as it goes, then move it to
        its content-addressed key. Raises FileTooLarge as soon as more than ``max_size`` bytes
        have been read, leaving nothing behind."""
        temp_dir = self.root / _TEMP_DIR
        temp_dir.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(dir=temp_dir, prefix="upload-", suffix=".part")
        temp_path = Path(temp_name)
        digest = hashlib.sha256()
        size = 0
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK_SIZE):
                    size += len(chunk)
                    if max_size is not None and size > max_size:
                        raise FileTooLarge(max_size)
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                # Durable before it becomes visible under its key: a crash must not leave a
                # truncated file that a later identical upload would be deduplicated against.
                os.fsync(out.fileno())
            sha256 = digest.hexdigest()
            key = content_key(sha256)
            final = self._path(key)
            if final.exists():
                temp_path.unlink()
                # Stored again now: the sweep of unreferenced files must not take it while
                # the form that will use it is on its way.
                os.utime(final)
            else:
                final.parent.mkdir(parents=True, exist_ok=True)
                os.replace(temp_path, final)
        except BaseException:
            temp_path.unlink(missing_ok=True)
            raise
        return StoredBlob(key=key, sha256=sha256, size=size)

    def open(self, key: str) -> BinaryIO:
        """The stored file opened for reading (FileNotFoundError when missing)."""
        return self._path(key).open("rb")

    def exists(self, key: str) -> bool:
        """Whether a file is stored under ``key``."""
        return self._path(key).is_file()

    def size(self, key: str) -> int:
        """The stored file's size in bytes (FileNotFoundError when missing)."""
        return self._path(key).stat().st_size

    def delete(self, key: str) -> None:
        """Remove the stored file; a missing key is not an error."""
        self._path(key).unlink(missing_ok=True)

    def stored(self) -> Iterator[tuple[str, datetime]]:
        """Every stored key, with when its content was last stored, in key order."""
        for folder, subfolders, names in os.walk(self.root / KEY_PREFIX):
            subfolders.sort()
            for name in sorted(names):
                path = Path(folder) / name
                try:
                    modified = path.stat().st_mtime
                except FileNotFoundError:
                    continue
                yield path.relative_to(self.root).as_posix(), datetime.fromtimestamp(modified, UTC)

    def abort_unfinished(self, before: datetime) -> int:
        """Remove temporary files of uploads begun before ``before`` (a crash mid-upload)."""
        removed = 0
        for path in (self.root / _TEMP_DIR).glob("upload-*.part"):
            try:
                if datetime.fromtimestamp(path.stat().st_mtime, UTC) < before:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed

    def _path(self, key: str) -> Path:
        """The file for ``key``, refusing any key that could reach outside the root (a
        symlink out of it included)."""
        path = self.root / Path(*PurePosixPath(checked_key(key)).parts)
        root = self.root.resolve()
        if not path.resolve().is_relative_to(root):
            raise ValueError(f"Storage key {key!r} is outside the evidence folder.")
        return path


def storage_from_config(config: Mapping[str, Any]) -> EvidenceStorage:
    """The storage backend the configuration names (``EVIDENCE_STORAGE``, default local)."""
    return named_storage(config, config.get("EVIDENCE_STORAGE") or "local")


def named_storage(config: Mapping[str, Any], backend: str) -> EvidenceStorage:
    """The backend called ``backend`` ("local" or "s3") as the configuration sets it up."""
    if backend == "local":
        return LocalStorage(config["EVIDENCE_DIR"])
    if backend == "s3":
        from portfolio.files.s3 import S3Storage, s3_client

        public = config.get("S3_PUBLIC_ENDPOINT_URL")
        return S3Storage(
            s3_client(config),
            config.get("S3_BUCKET") or "",
            config.get("S3_PREFIX") or "",
            # Links handed to browsers name the address they reach the store by.
            public_client=s3_client({**config, "S3_ENDPOINT_URL": public}) if public else None,
        )
    raise ValueError(f"Unknown evidence storage backend {backend!r}; use 'local' or 's3'.")
