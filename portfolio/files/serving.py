"""Stored files sent back to the browser: evidence files and the files of gap sign-offs."""

from __future__ import annotations

from flask import send_file
from werkzeug.wrappers import Response

from portfolio.files.uploads import storage
from portfolio.models.evidence import StoredFileColumns

INLINE_TYPES = {"image/png", "image/jpeg", "application/pdf"}
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def send_stored(stored: StoredFileColumns, *, inline: bool) -> Response:
    """The file under its display name; shown in the browser only if ``inline`` and safe to."""
    response = send_file(
        storage().open(stored.storage_key),
        mimetype=stored.content_type,
        as_attachment=not (inline and stored.content_type in INLINE_TYPES),
        download_name=stored.display_name,
        etag=stored.sha256,
        conditional=True,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, max-age=0, must-revalidate"
    # A file opened on its own runs no script. Chromium's PDF viewer refuses to start in a
    # sandboxed document, so PDFs (which it renders without page scripts) are left out.
    if stored.content_type != "application/pdf":
        response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response
