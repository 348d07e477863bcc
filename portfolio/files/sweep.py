"""Clearing away what nobody claimed: uploads whose form never came, and stored files that no
record uses (an upload whose form was refused, a file removed from every version).

A file is only taken once it has been stored for longer than an upload token lives, so a form
still on its way always finds its file. Run it daily (``flask files sweep``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from portfolio.files.storage import EvidenceStorage
from portfolio.files.uploads import TOKEN_MAX_AGE, named_keys
from portfolio.models import PendingUpload
from portfolio.models.base import utcnow

#: Keys looked up in the database at a time.
BATCH = 500


@dataclass
class SweepResult:
    unclaimed_uploads: int = 0
    files_removed: int = 0
    bytes_removed: int = 0
    unfinished_removed: int = 0


def sweep(
    session: Session,
    store: EvidenceStorage,
    *,
    now: datetime | None = None,
    dry_run: bool = False,
) -> SweepResult:
    """Forget uploads unclaimed past their token's lifetime, then remove every stored file of
    that age that no record names. Memory stays flat: keys are checked a batch at a time."""
    cutoff = (now or utcnow()) - timedelta(seconds=TOKEN_MAX_AGE)
    result = SweepResult()
    expired = delete(PendingUpload).where(PendingUpload.created_at < cutoff)
    if dry_run:
        waiting_too_long = select(func.count()).where(PendingUpload.created_at < cutoff)
        result.unclaimed_uploads = session.scalar(waiting_too_long) or 0
    else:
        result.unclaimed_uploads = session.execute(expired).rowcount  # type: ignore[attr-defined]
        session.commit()

    old_keys = (key for key, stored_at in store.stored() if stored_at < cutoff)
    while keys := list(islice(old_keys, BATCH)):
        used = named_keys(session, keys, waiting_since=cutoff)
        session.rollback()  # end the read transaction before touching files
        for key in keys:
            if key in used:
                continue
            try:
                size = store.size(key)
            except FileNotFoundError:
                continue
            if not dry_run:
                store.delete(key)
            result.files_removed += 1
            result.bytes_removed += size
    if not dry_run:
        result.unfinished_removed = store.abort_unfinished(cutoff)
    return result
