"""Writing audit events in the caller's transaction, and checking the chain they form."""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portfolio.models import AuditEvent, AuditHead, Enrolment, Role, User
from portfolio.models.audit import GENESIS_HASH
from portfolio.models.base import utcnow

SYSTEM = "system"


def jsonable(value: Any) -> Any:
    """Values as JSON keeps them: dates as ISO text, enums by value, containers recursively."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    return value


def admin_role(actor: User | None) -> Role | None:
    """The role an account or enrolment change is made in: RTO admin when someone is named,
    else None, which ``record`` writes as "system" (the operator at the command line)."""
    return Role.ADMIN if actor is not None else None


def event_digest(event: Any) -> str:
    """The SHA-256 of an event's content and the hash before it (an event or a row)."""
    content = {
        "seq": event.seq,
        "occurred_at": event.occurred_at.isoformat(),
        "actor_id": event.actor_id,
        "actor_role": event.actor_role,
        "action": event.action,
        "enrolment_id": event.enrolment_id,
        "subject": event.subject,
        "before": event.before,
        "after": event.after,
        "prev_hash": event.prev_hash,
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def record(
    session: Session,
    *,
    actor: User | None,
    role: Role | str | None,
    action: str,
    subject: str,
    enrolment: Enrolment | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction; it commits or rolls back with the change.

    Taking the next number updates the single head row first, which holds a write lock until
    the transaction ends: concurrent writers queue there, so the chain never forks.
    """
    session.flush()  # ids of new rows named in ``subject`` exist from here on
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq + 1))
    seq, prev_hash = session.execute(
        select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)
    ).one()
    event = AuditEvent(
        seq=seq,
        occurred_at=utcnow(),
        actor_id=actor.id if actor is not None else None,
        actor_role=str(role.value if isinstance(role, Role) else role or SYSTEM),
        action=action,
        enrolment_id=enrolment.id if enrolment is not None else None,
        subject=subject,
        before=jsonable(before) if before is not None else None,
        after=jsonable(after) if after is not None else None,
        prev_hash=prev_hash,
    )
    event.hash = event_digest(event)
    session.add(event)
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(hash=event.hash))
    session.flush()
    return event


@dataclass
class Verification:
    checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _events(session: Session, batch: int = 1000) -> Iterator[Any]:
    """Every event as a plain row, a batch at a time, so memory stays flat however long."""
    columns = AuditEvent.__table__.c
    last = 0
    while True:
        rows = session.execute(
            select(*columns).where(columns.seq > last).order_by(columns.seq).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


def verify(session: Session) -> Verification:
    """Recompute every event's hash in order; report each break in the chain."""
    result = Verification()
    expected_prev, expected_seq = GENESIS_HASH, 1
    for event in _events(session):
        result.checked += 1
        if event.seq != expected_seq:
            result.problems.append(
                f"event {expected_seq} is missing (the next one is {event.seq})."
            )
        if event.prev_hash != expected_prev:
            result.problems.append(
                f"event {event.seq} does not follow the one before it "
                "(an event before it was changed, removed or inserted)."
            )
        if event_digest(event) != event.hash:
            result.problems.append(f"event {event.seq} was changed after it was written.")
        expected_prev, expected_seq = event.hash, event.seq + 1
    head = session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).one()
    if head.seq != expected_seq - 1 or head.hash != expected_prev:
        result.problems.append(
            f"the log ends at event {expected_seq - 1} but the head says {head.seq}: "
            "events at the end were removed."
        )
    return result
