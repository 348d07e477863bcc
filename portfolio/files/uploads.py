"""Checking and storing uploaded files, and the signed tokens of files uploaded ahead of a form."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, BinaryIO

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from portfolio.errors import ServiceError
from portfolio.files.filetypes import ACCEPTED_DESCRIPTION, safe_display_name, sniff_file
from portfolio.files.storage import EvidenceStorage, FileTooLarge, storage_from_config

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


def store_upload(stream: BinaryIO, filename: str) -> NewFile:
    """Check a file by its content and store it; the name is kept for display only."""
    name = safe_display_name(filename)
    if not stream.read(1):
        raise ServiceError(f"{name} is empty: it has nothing in it to keep.", "files")
    stream.seek(0)
    kind = sniff_file(stream, filename)
    if kind is None:
        raise ServiceError(
            f"{name} is not a file type we accept. Use {ACCEPTED_DESCRIPTION}.", "files"
        )
    try:
        blob = storage().save(stream, max_size=max_upload_bytes())
    except FileTooLarge as error:
        raise ServiceError(f"{name}: {error}", "files") from error
    return NewFile(
        display_name=name,
        content_type=kind.mime_type,
        size=blob.size,
        sha256=blob.sha256,
        storage_key=blob.key,
    )


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="evidence-upload")


def upload_token(new_file: NewFile, *, enrolment_id: int, user_id: int) -> str:
    """A signed note of a stored file, so the form that follows can claim it."""
    return _serializer().dumps({"file": vars(new_file), "e": enrolment_id, "u": user_id})


def files_from_tokens(tokens: list[str], *, enrolment_id: int, user_id: int) -> list[NewFile]:
    """The files a form claims; a token from another learner, enrolment or a forgery is refused."""
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
        files.append(NewFile(**data["file"]))
    return files
