"""Checking and storing uploaded files, a learner's storage allowance, and the signed tokens
of files uploaded ahead of a form (each held as a PendingUpload until the form claims it)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, BinaryIO

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import Table, func, select, union
from sqlalchemy.orm import Session

from portfolio.errors import ServiceError
from portfolio.extensions import db
from portfolio.files.filetypes import ACCEPTED_DESCRIPTION, safe_display_name, sniff_file
from portfolio.files.scanning import (
    FileTooLargeToScan,
    ScannerUnavailable,
    VirusFound,
    scan,
    scanner_configured,
)
from portfolio.files.storage import (
    EvidenceStorage,
    FileTooLarge,
    StorageUnavailable,
    StoredBlob,
    storage_from_config,
)
from portfolio.models import Enrolment, EvidenceFile, Job, PendingUpload, User
from portfolio.models.base import utcnow
from portfolio.text import count, file_size

#: How long a file uploaded ahead of its form waits to be claimed before it is swept away.
TOKEN_MAX_AGE = 24 * 3600


@dataclass
class NewFile:
    """A file already checked and stored, ready to belong to an evidence version or a sign-off."""

    display_name: str
    content_type: str
    size: int
    sha256: str
    storage_key: str
    storage_backend: str = "local"


def storage() -> EvidenceStorage:
    return storage_from_config(current_app.config)


def max_upload_bytes() -> int:
    return int(current_app.config["MAX_UPLOAD_MB"]) * 1024 * 1024


@dataclass
class Allowance:
    """What one learner may still store: bytes and files, uploads not yet claimed included
    (a file stored twice counts once, as it is stored once)."""

    bytes_left: int
    files_left: int
    bytes_limit: int
    files_limit: int

    def take(self, size: int) -> None:
        self.bytes_left -= size
        self.files_left -= 1


def allowance(session: Session, user: User) -> Allowance:
    """``user``'s allowance now (LEARNER_STORAGE_MB and LEARNER_STORAGE_FILES), in one query."""
    config = current_app.config
    bytes_limit = int(config["LEARNER_STORAGE_MB"]) * 1024 * 1024
    files_limit = int(config["LEARNER_STORAGE_FILES"])
    waiting_since = utcnow() - timedelta(seconds=TOKEN_MAX_AGE)
    held = union(
        select(EvidenceFile.sha256, EvidenceFile.size).where(
            EvidenceFile.uploaded_by_id == user.id
        ),
        select(PendingUpload.sha256, PendingUpload.size).where(
            PendingUpload.user_id == user.id, PendingUpload.created_at >= waiting_since
        ),
    ).subquery()
    files, size = session.execute(
        select(func.count(), func.coalesce(func.sum(held.c.size), 0))
    ).one()
    # PostgreSQL sums a bigint as numeric: a whole number of bytes either way.
    return Allowance(bytes_limit - int(size), files_limit - files, bytes_limit, files_limit)


def store_upload(stream: BinaryIO, filename: str, *, within: Allowance | None = None) -> NewFile:
    """Check a file by its content and store it; the name is kept for display only. With an
    allowance, the file must fit in what is left of it (and is then taken from it)."""
    name = safe_display_name(filename)
    if not stream.read(1):
        raise ServiceError(f"{name} is empty: it has nothing in it to keep.", "files")
    stream.seek(0)
    kind = sniff_file(stream, filename)
    if kind is None:
        raise ServiceError(
            f"{name} is not a file type we accept. Use {ACCEPTED_DESCRIPTION}.", "files"
        )
    limit = max_upload_bytes()
    if within is not None:
        if within.files_left <= 0:
            raise ServiceError(
                f"{name} was not kept: your portfolio holds {count(within.files_limit, 'file')}, "
                "the most one learner may keep. Remove files you no longer need, or ask your "
                "training organisation for more room.",
                "files",
            )
        limit = min(limit, max(within.bytes_left, 0))
    store = storage()
    try:
        blob = store.save(stream, max_size=limit)
    except StorageUnavailable as error:
        current_app.logger.error("upload %s not stored: %s", name, error)
        raise ServiceError(
            f"{name} was not kept: the evidence store could not be reached just now. Try "
            "again in a few minutes; if it keeps happening, tell your training organisation.",
            "files",
        ) from error
    except FileTooLarge as error:
        if within is not None and limit < max_upload_bytes():
            left = file_size(max(within.bytes_left, 0))
            raise ServiceError(
                f"{name} was not kept: it is larger than the {left} "
                f"left of your {file_size(within.bytes_limit)} of storage. Remove files you no "
                "longer need, or ask your training organisation for more room.",
                "files",
            ) from error
        raise ServiceError(f"{name}: {error}", "files") from error
    if scanner_configured(current_app.config):
        _scan(store, blob, name)
    if within is not None:
        within.take(blob.size)
    return NewFile(
        display_name=name,
        content_type=kind.mime_type,
        size=blob.size,
        sha256=blob.sha256,
        storage_key=blob.key,
        storage_backend=store.name,
    )


#: The columns of a row that names a file in the evidence store.
STORED_FILE_COLUMNS = frozenset({"storage_key", "sha256", "size"})


def stored_file_tables() -> list[Table]:
    """Every table whose rows name a file in the evidence store (evidence, sign-off and
    closure files, uploads waiting for a form), by name: what the sweep keeps and a backup
    copies."""
    return sorted(
        (t for t in db.metadata.tables.values() if set(t.c.keys()) >= STORED_FILE_COLUMNS),
        key=lambda t: t.name,
    )


def named_keys(
    session: Session, keys: Collection[str], *, waiting_since: datetime | None = None
) -> set[str]:
    """Those of ``keys`` that a record names: evidence, sign-off and closure files, uploads
    waiting for a form (only those stored since ``waiting_since``, when given) and built audit
    bundles. One query per table, whatever the number of keys."""
    named: set[str] = set()
    if not keys:
        return named
    for table in stored_file_tables():
        query = select(table.c.storage_key).where(table.c.storage_key.in_(keys))
        if waiting_since is not None and table is PendingUpload.__table__:
            query = query.where(table.c.created_at >= waiting_since)
        named.update(session.scalars(query))
    named.update(session.scalars(select(Job.result_key).where(Job.result_key.in_(keys))))
    return named


def key_in_use(key: str) -> bool:
    """Whether any record names the stored file ``key``."""
    return bool(named_keys(db.session, [key]))


def _scan(store: EvidenceStorage, blob: StoredBlob, name: str) -> None:
    """Refuse a file the virus scanner flags, or cannot vouch for, and keep none of it (unless
    a record already names the same content)."""
    try:
        with store.open(blob.key) as stored:
            scan(stored, current_app.config)
        return
    except VirusFound as found:
        current_app.logger.warning("upload %s refused: %s", blob.sha256, found.signature)
        message = (
            f"{name} was not kept: the virus scanner found {found.signature} in it. Check the "
            "computer it came from, then upload a clean copy."
        )
        # Another upload of the same content may be on its way to a record: only content
        # no record names goes now (anything else unclaimed goes with the daily sweep).
        if not key_in_use(blob.key):
            store.delete(blob.key)
    except FileTooLargeToScan as too_large:
        current_app.logger.error("upload %s not scanned: %s", blob.sha256, too_large)
        message = (
            f"{name} was not kept: it is larger than the virus scanner accepts. Upload a "
            "smaller file, or ask your training organisation to raise the scanner's limit."
        )
    except ScannerUnavailable as unavailable:
        current_app.logger.error("upload %s not scanned: %s", blob.sha256, unavailable)
        message = (
            f"{name} was not kept: it could not be checked for viruses just now. Try again in "
            "a few minutes; if it keeps happening, tell your training organisation."
        )
    raise ServiceError(message, "files")


def store_sent_files(field_name: str) -> list[NewFile]:
    """The files the request's form sent under ``field_name``, stored in the evidence store
    (a file input left empty sends one nameless part, which is no file)."""
    return [
        store_upload(upload.stream, upload.filename)
        for upload in request.files.getlist(field_name)
        if upload and upload.filename
    ]


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="evidence-upload")


def hold_upload(session: Session, new_file: NewFile, *, enrolment: Enrolment, user: User) -> str:
    """Keep a file stored ahead of its form, and return the signed token the form claims it
    with. Until then it counts against the learner's allowance."""
    pending = PendingUpload(
        user_id=user.id,
        enrolment_id=enrolment.id,
        sha256=new_file.sha256,
        size=new_file.size,
        storage_key=new_file.storage_key,
    )
    session.add(pending)
    session.flush()
    return _serializer().dumps(
        {"file": vars(new_file), "p": pending.id, "e": enrolment.id, "u": user.id}
    )


def files_from_tokens(
    session: Session, tokens: list[str], *, enrolment_id: int, user_id: int
) -> list[NewFile]:
    """The files a form claims, each claimed once; a token from another learner, enrolment or
    a forgery is refused, and so is one whose file was swept away meanwhile."""
    files = []
    for token in tokens:
        try:
            data: dict[str, Any] = _serializer().loads(token, max_age=TOKEN_MAX_AGE)
        except BadSignature as error:
            raise ServiceError(
                "An uploaded file could not be matched to this form; please add it again.", "files"
            ) from error
        if data.get("e") != enrolment_id or data.get("u") != user_id:
            raise ServiceError("An uploaded file belongs to another portfolio.", "files")
        pending = session.get(PendingUpload, data.get("p") or 0)
        if pending is None or (pending.user_id, pending.enrolment_id) != (user_id, enrolment_id):
            new_file = NewFile(**data["file"])
            raise ServiceError(
                f"{new_file.display_name} was already added, or waited too long for this form "
                "and was cleared away; please add it again.",
                "files",
            )
        session.delete(pending)
        files.append(NewFile(**data["file"]))
    return files
