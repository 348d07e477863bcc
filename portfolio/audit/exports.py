"""The audit event every export writes: who took a copy of what, when."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from portfolio.audit.log import record
from portfolio.models import AuditEvent, Enrolment, Role, User

EXPORT_ACTION = "export.created"


def record_export(
    session: Session,
    *,
    actor: User | None,
    role: Role | str | None,
    kind: str,
    description: str,
    count: int,
    enrolment: Enrolment | None = None,
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Record that someone took a copy: "export.created" on subject ``export:<kind>``.

    ``kind`` names the export ("register", "pack", "matrix", "bundle"), ``description`` what it
    held in words, ``count`` how many rows, documents or files. An export of one enrolment
    (an evidence pack) names it, so it shows in that enrolment's audit trail; ``details`` adds
    anything else worth keeping (the filters, a checksum). In the caller's transaction.
    """
    after = {**(details or {}), "kind": kind, "description": description, "count": count}
    return record(
        session,
        actor=actor,
        role=role,
        action=EXPORT_ACTION,
        subject=f"export:{kind}",
        enrolment=enrolment,
        after=after,
    )
