"""Every file the app sends to a browser: stored evidence, sign-off files, exports, unit files.

One helper, so that each download is an attachment under a name we chose, of the type we
know, and kept out of shared caches; the browser is told never to guess another type (every
response says ``nosniff``, see ``create_app``).
"""

from __future__ import annotations

import io
from os import PathLike
from typing import BinaryIO

from flask import current_app, redirect, send_file
from werkzeug.wrappers import Response

from portfolio.files.filetypes import DOCX as DOCX_KIND
from portfolio.files.filetypes import KINDS, download_name
from portfolio.files.uploads import storage
from portfolio.models.base import StoredFileColumns

#: Types a browser shows safely on their own page (images and PDFs); the rest are downloaded.
INLINE_TYPES = frozenset(k.mime_type for k in KINDS if k.inline_image or k.inline_pdf)
DOCX = DOCX_KIND.mime_type

#: Exports and other documents made for one person: never kept by a shared cache.
PRIVATE = "private, no-store"
#: Stored files never change under their key: the browser may keep them if it asks again first.
REVALIDATE = "private, max-age=0, must-revalidate"


def send_download(
    source: bytes | BinaryIO | str | PathLike[str],
    *,
    name: str,
    mimetype: str,
    inline: bool = False,
    etag: str | bool = True,
    cache_control: str = PRIVATE,
) -> Response:
    """Send ``source`` (bytes, an open binary file or a path) under the file name ``name``.

    A path gets an ETag of its own and answers range requests, so a large download resumes.
    """
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    response = send_file(
        source,
        mimetype=mimetype,
        as_attachment=not inline,
        download_name=name,
        etag=etag,
        conditional=True,
    )
    response.headers["Cache-Control"] = cache_control
    return response


def presigned(key: str, *, name: str, mimetype: str) -> Response | None:
    """With ``S3_DOWNLOADS=presigned`` and a store that can sign links: a redirect to a link
    the browser downloads ``key`` from directly for S3_PRESIGNED_SECONDS, as an attachment
    named ``name`` (the caller has checked who may have it). None: send it through the app."""
    config = current_app.config
    link = getattr(storage(), "download_url", None)
    if config.get("S3_DOWNLOADS") != "presigned" or link is None:
        return None
    seconds = int(config["S3_PRESIGNED_SECONDS"])
    response = redirect(link(key, name=name, mimetype=mimetype, seconds=seconds), 303)
    response.headers["Cache-Control"] = PRIVATE
    return response


def send_stored(stored: StoredFileColumns, *, inline: bool) -> Response:
    """A stored file under its display name; shown in the browser only if ``inline`` and safe to."""
    name = download_name(stored.display_name, stored.content_type)
    inline = inline and stored.content_type in INLINE_TYPES
    if not inline and (
        sent := presigned(stored.storage_key, name=name, mimetype=stored.content_type)
    ):
        return sent
    response = send_download(
        storage().open(stored.storage_key),
        name=name,
        mimetype=stored.content_type,
        inline=inline,
        etag=stored.sha256,
        cache_control=REVALIDATE,
    )
    # A file opened on its own runs no script. Chromium's PDF viewer refuses to start in a
    # sandboxed document, so PDFs (which it renders without page scripts) are left out. Only
    # our own pages may frame a file (the item page shows a PDF in a frame).
    if stored.content_type == "application/pdf":
        response.headers["Content-Security-Policy"] = "frame-ancestors 'self'"
    else:
        response.headers["Content-Security-Policy"] = (
            "sandbox; default-src 'none'; frame-ancestors 'self'"
        )
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response
