"""Signatures made with a key kept outside the database (``AUDIT_KEY``): the audit log's chain
and backup manifests. Someone who can write the database, or a backup, cannot sign what they
wrote; only the app, which holds the key, can.

Each use signs with a key of its own derived from ``AUDIT_KEY`` (HMAC-SHA256 of the use's
name), so a signature made for one thing is never valid for another.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app

AUDIT_LOG = "audit-log"
BACKUP_MANIFEST = "backup-manifest"


def _key(purpose: str) -> bytes:
    secret = str(current_app.config["AUDIT_KEY"]).encode("utf-8")
    return hmac.new(secret, purpose.encode("utf-8"), hashlib.sha256).digest()


def sign(purpose: str, data: bytes) -> str:
    """HMAC-SHA256 of ``data`` with the key for ``purpose``, as hex."""
    return hmac.new(_key(purpose), data, hashlib.sha256).hexdigest()


def is_signed(purpose: str, data: bytes, signature: object) -> bool:
    """Whether ``signature`` is ``data``'s, compared in constant time."""
    return isinstance(signature, str) and hmac.compare_digest(sign(purpose, data), signature)
