"""Moving an instance's evidence from one store to another (the folder to S3, and back).

Every stored file is copied through the destination's own ``save`` (so it is hashed as it
streams) and kept only if its SHA-256 is the one its content-addressed key names. A file the
destination already holds is read back and hashed instead of copied again, so a run that was
stopped picks up where it was and a damaged copy is replaced. The records are pointed at the
destination only once every file is there; the source is left as it was, to remove by hand
once the instance runs on the destination.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portfolio.extensions import db
from portfolio.files.storage import CHUNK_SIZE, EvidenceStorage
from portfolio.files.uploads import stored_file_tables
from portfolio.models import Job
from portfolio.models.base import StoredFileColumns


@dataclass
class Migration:
    copied: int = 0
    verified: int = 0
    bytes: int = 0
    replaced: list[str] = field(default_factory=list)
    records: int = 0


class MigrationError(Exception):
    """A file did not arrive intact; nothing was pointed at the destination."""


def _sha256(storage: EvidenceStorage, key: str) -> str:
    digest = hashlib.sha256()
    with storage.open(key) as stored:
        while chunk := stored.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


def migrate(
    session: Session,
    source: EvidenceStorage,
    destination: EvidenceStorage,
    *,
    progress: Callable[[str], None] | None = None,
) -> Migration:
    """Copy every file of ``source`` to ``destination``, verified, then record the
    destination as the files' backend (in the caller's transaction)."""
    result = Migration()
    for key, _stored_at in source.stored():
        wanted = key.rsplit("/", 1)[-1]
        if destination.exists(key):
            if _sha256(destination, key) == wanted:
                result.verified += 1
                continue
            destination.delete(key)  # a damaged or partial copy: copied again below
            result.replaced.append(key)
        with source.open(key) as stored:
            blob = destination.save(stored)
        if blob.key != key or blob.sha256 != wanted:
            raise MigrationError(
                f"{key} arrived as {blob.key} (SHA-256 {blob.sha256}): the source file does "
                "not match its key. Nothing was switched; check the source store."
            )
        result.copied += 1
        result.bytes += blob.size
        if progress and result.copied % 100 == 0:
            progress(f"{result.copied} files copied")
    # Every file a record names must be there before the records are switched (a file
    # uploaded while this ran, after the source was listed, would be missing).
    named = {
        key
        for table in stored_file_tables()
        for key in session.scalars(select(table.c.storage_key))
    }
    named.update(session.scalars(select(Job.result_key).where(Job.result_key.is_not(None))))
    missing = sorted(key for key in named if not destination.exists(key))
    if missing:
        raise MigrationError(
            f"{len(missing)} file(s) that records name are not in the destination yet (for "
            f"example {missing[0]}), probably uploaded while this ran. Nothing was switched: "
            "stop uploads (or run this again until it copies nothing), then run it again."
        )
    for mapper in db.Model.registry.mappers:
        model = mapper.class_
        if issubclass(model, StoredFileColumns) and hasattr(model, "__table__"):
            changed = session.execute(
                update(model)
                .where(model.storage_backend != destination.name)
                .values(storage_backend=destination.name)
            )
            result.records += changed.rowcount or 0
    return result
