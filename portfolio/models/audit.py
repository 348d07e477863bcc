"""The append-only audit log: every change that matters, chained by hashes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DDL, JSON, Boolean, ForeignKey, Index, Integer, String, event, false
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from portfolio.extensions import db
from portfolio.models.accounts import User
from portfolio.models.base import UTCDateTime, utcnow

GENESIS_HASH = "0" * 64


class AuditEvent(db.Model):
    """Who did what to which record, when, with the values before and after.

    Each event's hash, an HMAC with a key the database does not hold, covers its own content
    and the previous event's hash, so changing, removing or reordering any event breaks the
    chain from there on (``flask audit verify``).
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        # An enrolment's history in order, and the audit log filtered by enrolment or by
        # action, newest first a page at a time, without sorting the whole log.
        Index("ix_audit_events_enrolment_id_seq", "enrolment_id", "seq"),
        Index("ix_audit_events_action_seq", "action", "seq"),
        # An account's history (its logins, changes and links).
        Index("ix_audit_events_subject_seq", "subject", "seq"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # The role the actor acted in ("system" for the command line without a named user).
    actor_role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    enrolment_id: Mapped[int | None] = mapped_column(ForeignKey("enrolments.id"))
    subject: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # Signed with the audit key (an HMAC); events written before the log was keyed are not.
    keyed: Mapped[bool] = mapped_column(Boolean, default=True, server_default=false())

    actor: Mapped[User | None] = relationship()


class AuditHead(db.Model):
    """The single row naming the last event: appending locks it, so the chain never forks."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)


# A fresh schema (tests, ``db.create_all``) starts the chain as the migration does.
event.listen(
    AuditHead.__table__,
    "after_create",
    DDL(f"INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '{GENESIS_HASH}')"),
)


class AuditLogIsAppendOnly(Exception):
    """Raised when code tries to change or delete an audit event."""


@event.listens_for(Session, "before_flush")
def _refuse_audit_changes(session: Session, flush_context: object, instances: object) -> None:
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, AuditEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise AuditLogIsAppendOnly("Audit events are never changed or deleted.")
