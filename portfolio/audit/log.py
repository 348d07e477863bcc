"""Writing audit events in the caller's transaction, and checking the chain they form.

Each event's hash is an HMAC of its content and the hash before it, with a key the database
does not hold (``AUDIT_KEY``, portfolio/signing.py): whoever can write the database can
neither change an event nor re-chain the log after it. After every commit that adds events,
the last one's number and hash are published in a file beside the database
(``AUDIT_HEAD_FILE``), so removing events from the end is seen too.
"""

from __future__ import annotations

import enum
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import event as orm_event
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portfolio.models import AuditEvent, AuditHead, Enrolment, Role, User
from portfolio.models.audit import GENESIS_HASH
from portfolio.models.base import utcnow
from portfolio.signing import AUDIT_LOG, sign

SYSTEM = "system"
#: ``session.info`` key: this transaction added events, so its head is published on commit.
_ADDED = "audit_events_added"
_HEAD = "audit_head_to_publish"


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
    """The hash of an event's content and the hash before it (an event or a row): an HMAC with
    the audit key, or plain SHA-256 for events written before the log was keyed."""
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
    if getattr(event, "keyed", True) is False:
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return sign(AUDIT_LOG, canonical.encode("utf-8"))


def events_added(session: Session) -> None:
    """Note that this transaction appended events: its head is published when it commits."""
    session.info[_ADDED] = True


@orm_event.listens_for(Session, "before_commit")
def _read_head(session: Session) -> None:
    if session.info.pop(_ADDED, False):
        head = session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1))
        session.info[_HEAD] = tuple(head.one())


@orm_event.listens_for(Session, "after_commit")
def _publish_head(session: Session) -> None:
    head = session.info.pop(_HEAD, None)
    if head is not None and has_app_context():
        publish_head(Path(current_app.config["AUDIT_HEAD_FILE"]), *head)


@orm_event.listens_for(Session, "after_soft_rollback")
def _forget_head(session: Session, previous_transaction: object) -> None:
    session.info.pop(_ADDED, None)
    session.info.pop(_HEAD, None)


def publish_head(path: Path, seq: int, digest: str) -> None:
    """Write the log's last event to ``path``, never going back to an earlier one (several
    workers commit at once; a lock keeps their writes in order)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        published = read_head(path)
        if published is not None and published[0] >= seq:
            return
        temporary = path.with_name(path.name + ".tmp")
        body = {"seq": seq, "hash": digest, "published_at": utcnow().isoformat()}
        temporary.write_text(json.dumps(body) + "\n", encoding="utf-8")
        os.replace(temporary, path)


def read_head(path: Path) -> tuple[int, str] | None:
    """The published ``(seq, hash)``, or None if nothing was published there yet."""
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        return int(body["seq"]), str(body["hash"])
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError):
        return (-1, "unreadable")


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
        keyed=True,
    )
    event.hash = event_digest(event)
    session.add(event)
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(hash=event.hash))
    session.flush()
    events_added(session)
    return event


@dataclass
class Verification:
    checked: int = 0
    problems: list[str] = field(default_factory=list)
    #: What the operator should know that is not a break (an unkeyed start, no head yet).
    notes: list[str] = field(default_factory=list)

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


def verify(session: Session, head_file: Path | None = None) -> Verification:
    """Recompute every event's hash in order with the audit key; report each break in the
    chain, and whether the log still reaches the head published outside the database."""
    if head_file is None:
        head_file = Path(current_app.config["AUDIT_HEAD_FILE"])
    published = read_head(head_file)
    result = Verification()
    expected_prev, expected_seq = GENESIS_HASH, 1
    first_keyed: int | None = None
    published_seen = False
    signed = unsigned = 0
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
        if event.keyed and first_keyed is None:
            first_keyed = event.seq
        elif not event.keyed and first_keyed is not None:
            result.problems.append(
                f"event {event.seq} is not signed, though events before it are: it was "
                "written or rewritten without the audit key."
            )
        if event_digest(event) != event.hash:
            result.problems.append(f"event {event.seq} was changed after it was written.")
            unsigned += event.keyed
        signed += event.keyed
        if published is not None and event.seq == published[0]:
            published_seen = True
            if event.hash != published[1]:
                result.problems.append(
                    f"event {event.seq} is not the one published in {head_file}: the log was "
                    "rewritten from there or before."
                )
        expected_prev, expected_seq = event.hash, event.seq + 1
    if signed and unsigned == signed:
        result.problems.insert(
            0,
            "No signed event matches its signature: the log is checked with another AUDIT_KEY "
            "than the one that signed it, or every event was rewritten.",
        )
    head = session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).one()
    if head.seq != expected_seq - 1 or head.hash != expected_prev:
        result.problems.append(
            f"the log ends at event {expected_seq - 1} but the head says {head.seq}: "
            "events at the end were removed."
        )
    if published is None:
        if result.checked:
            result.notes.append(
                f"No head is published in {head_file} yet; it is written with the next event."
            )
    elif published[0] < 0:
        result.problems.append(f"{head_file} cannot be read; it should hold the log's head.")
    elif not published_seen:
        result.problems.append(
            f"{head_file} says the log reached event {published[0]}, but it ends at event "
            f"{expected_seq - 1}: events at the end were removed."
        )
    if first_keyed is None and result.checked:
        result.notes.append("No event is signed with the audit key yet.")
    elif first_keyed is not None and first_keyed > 1:
        result.notes.append(
            f"Events 1 to {first_keyed - 1} were written before the log was signed with the "
            "audit key: they are protected by the chain and the published head only."
        )
    return result
