"""Audit events as people read them: who, in what role, did what, and what changed.

Built as data first (in a fixed number of queries whatever the number of events), rendered by
the templates in ``templates/audit/``.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from portfolio.enrolments.services import enrolments_by_id
from portfolio.models import (
    AssessmentState,
    AuditEvent,
    Enrolment,
    EvidenceRule,
    EvidenceType,
    Finding,
    GapMethod,
    MappingSource,
    OutcomeResult,
    Role,
    User,
    VerifierCheck,
)
from portfolio.text import day

#: What each action means, in the words of the people who read the history. An action not
#: named here is shown by its own name.
ACTIONS = {
    "user.created": "Account created",
    "user.activated": "Account reactivated",
    "user.deactivated": "Account deactivated",
    "enrolment.created": "Enrolled in the unit",
    "enrolment.assessor": "Assessor assigned",
    "enrolment.state": "Portfolio moved to a new stage",
    "evidence.created": "Evidence added",
    "evidence.changed": "Evidence changed",
    "evidence.mapped": "Evidence mapped to criteria",
    "evidence.checked": "Evidence checked against a rule of evidence",
    "evidence.flag_overridden": "A flagged rule of evidence overridden, with the reason",
    "mapping.accepted": "Mapping accepted by the assessor",
    "mapping.rejected": "Mapping rejected by the assessor",
    "judgement.recorded": "Criterion judged",
    "judgement.corrected": "Judgement corrected",
    "gap.signed_off": "Gap signed off",
    "gap.signoff_corrected": "Gap sign-off corrected",
    "submission.returned": "Portfolio returned to the learner",
    "outcome.recorded": "Unit outcome recorded",
    "outcome.corrected": "Unit outcome corrected",
    "export.created": "Copy exported (pack, matrix, register, bundle or framework)",
    "unit.imported": "Unit added from its published text",
    "evidence.destroyed": "Evidence destroyed under the retention rules (receipt)",
    "records.destroyed": "Records destroyed under the retention rules (receipt)",
    "enrolment.legal_hold_placed": "Legal hold placed",
    "enrolment.legal_hold_lifted": "Legal hold lifted",
    "retention.run": "Retention rules applied",
    "verification.requested": "A third party asked to verify evidence (link emailed)",
    "verification.viewed": "Verification link opened",
    "verification.confirmed": "Evidence verified by the third party, signed",
    "verification.declined": "Third party did not confirm the evidence, signed",
    "verification.revoked": "Verification link withdrawn",
    "verification.expired": "Verification link expired unanswered",
    "verification.link-refused": "A verification link that does not work was opened",
    "verification.verifier-checked": "Assessor's check on a verifier recorded",
    "records.countersigned": "Records made under direction countersigned by a credentialed "
    "assessor",
}

#: Fields whose stored value is an enum member's value; shown by the member's label.
ENUM_FIELDS: dict[str, type[enum.Enum]] = {
    "state": AssessmentState,
    "evidence_type": EvidenceType,
    "finding": Finding,
    "method": GapMethod,
    "result": OutcomeResult,
    "roles": Role,
    "rule": EvidenceRule,
    "source": MappingSource,
    "check": VerifierCheck,
}
#: Fields holding a user's id; shown by the user's name.
USER_FIELDS = {"assessor_id": "Assessor", "learner_id": "Learner"}
LABELS = {
    "is_rpl": "Recognition of prior learning",
    "new_version": "New version made",
    "work_date": "Date of the work",
    "targets": "Criteria",
    "student_id": "Student ID",
    "usi": "USI",
    "avetmiss": "AVETMISS code",
    "held_on": "Held on",
    "decided_on": "Decided on",
    "overall": "Overall feedback",
    "evidence_type": "Type of evidence",
    "flag": "The flag",
    "override": "Override",
    "lift_reason": "Why the hold was lifted",
    "judged_on": "Judged or closed on",
    "due_on": "Due for destruction on",
    "text_characters": "Characters of text destroyed",
}
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SUBJECT_KINDS = {
    "target": "Criterion",
    "submission": "Submission round",
    "verification": "Verification request",
}


def action_label(action: str) -> str:
    return ACTIONS.get(action, action.replace("_", " ").replace(".", ": ").capitalize())


@dataclass(frozen=True)
class Change:
    """One field of an event: its value before and after (None where it had none)."""

    label: str
    before: str | None
    after: str | None

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass
class HistoryRow:
    seq: int
    occurred_at: datetime
    actor: str
    role: str
    action: str
    action_label: str
    subject: str
    enrolment_id: int | None
    changes: list[Change] = field(default_factory=list)
    enrolment: Enrolment | None = None


def enrolment_events_query(enrolment: Enrolment) -> Select[tuple[AuditEvent]]:
    """One enrolment's events, oldest first, with their actors."""
    return (
        select(AuditEvent)
        .where(AuditEvent.enrolment_id == enrolment.id)
        .options(selectinload(AuditEvent.actor))
        .order_by(AuditEvent.seq)
    )


def log_query(
    *, action: str | None = None, enrolment_id: int | None = None, subject: str | None = None
) -> Select[tuple[AuditEvent]]:
    """Every event, newest first, with their actors; optionally one action, one enrolment or
    one subject (``user:12``)."""
    query = select(AuditEvent).options(selectinload(AuditEvent.actor))
    if subject:
        query = query.where(AuditEvent.subject == subject)
    if action:
        query = query.where(AuditEvent.action == action)
    if enrolment_id is not None:
        query = query.where(AuditEvent.enrolment_id == enrolment_id)
    return query.order_by(AuditEvent.seq.desc())


def logged_actions(session: Session) -> list[tuple[str, str]]:
    """(action, label) for every action in the log, for the filter: one query.

    The log has a few kinds of action and may have millions of events, so the query steps
    from one action to the next through the (action, seq) index, one lookup per kind of
    action, instead of reading every event as ``SELECT DISTINCT`` would.
    """
    first = select(func.min(AuditEvent.action).label("action")).cte("actions", recursive=True)
    following = (
        select(func.min(AuditEvent.action))
        .where(AuditEvent.action > first.c.action)
        .scalar_subquery()
    )
    steps = first.union_all(select(following).where(first.c.action.is_not(None)))
    actions = session.scalars(select(steps.c.action).where(steps.c.action.is_not(None))).all()
    return sorted(((a, action_label(a)) for a in actions), key=lambda pair: pair[1])


def describe(
    session: Session, events: Sequence[AuditEvent], *, with_enrolments: bool = False
) -> list[HistoryRow]:
    """The events as rows to show: names looked up in one query, enrolments in a fixed few."""
    user_ids: set[int] = set()
    for event in events:
        kind, _, key = event.subject.partition(":")
        if kind == "user" and key.isdigit():
            user_ids.add(int(key))
        for values in (event.before or {}, event.after or {}):
            user_ids.update(v for k, v in values.items() if k in USER_FIELDS and isinstance(v, int))
    names: dict[int, str] = {}
    if user_ids:
        names = dict(session.execute(select(User.id, User.name).where(User.id.in_(user_ids))).all())
    enrolments: dict[int, Enrolment] = {}
    enrolment_ids = {e.enrolment_id for e in events if e.enrolment_id is not None}
    if with_enrolments:
        enrolments = enrolments_by_id(session, enrolment_ids)
    return [
        HistoryRow(
            seq=event.seq,
            occurred_at=event.occurred_at,
            actor=event.actor.name if event.actor is not None else "The system",
            role=_role_label(event.actor_role),
            action=event.action,
            action_label=action_label(event.action),
            subject=_subject_label(event.subject, names),
            enrolment_id=event.enrolment_id,
            changes=changes(event.before, event.after, names),
            enrolment=enrolments.get(event.enrolment_id) if event.enrolment_id else None,
        )
        for event in events
    ]


def changes(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None, names: Mapping[int, str]
) -> list[Change]:
    """Each field named before or after, in the order written, as text to show."""
    before, after = before or {}, after or {}
    keys = [*before, *(k for k in after if k not in before)]
    return [
        Change(
            _label(key),
            _text(key, before[key], names) if key in before else None,
            _text(key, after[key], names) if key in after else None,
        )
        for key in keys
    ]


def _label(key: str) -> str:
    return USER_FIELDS.get(key) or LABELS.get(key) or key.replace("_", " ").capitalize()


def _role_label(role: str) -> str:
    try:
        return Role(role).label
    except ValueError:
        return "System" if role == "system" else role


def _subject_label(subject: str, names: Mapping[int, str]) -> str:
    kind, _, key = subject.partition(":")
    if kind == "user" and key.isdigit():
        return names.get(int(key), f"Account {key}")
    if kind == "enrolment":
        return f"Enrolment {key}"
    if kind == "evidence":
        # "E4", or "E4v2:valid" / "E4v2:1.1" for what an assessor did with one version.
        item, _, detail = key.partition(":")
        item = re.sub(r"^(E\d+)v(\d+)$", r"\1 version \2", item)
        return f"{item}, {detail}" if detail else item
    if kind in SUBJECT_KINDS:
        return f"{SUBJECT_KINDS[kind]} {key}"
    return subject


def _text(key: str, value: Any, names: Mapping[int, str]) -> str:
    if key in USER_FIELDS:
        return names.get(value, f"account {value}") if value is not None else "nobody"
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_text(key, v, names) for v in value) if value else "none"
    if isinstance(value, Mapping):
        if "name" in value:  # a file: {"name": ..., "sha256": ...}
            return str(value["name"])
        return "; ".join(f"{k}: {_text(key, v, names)}" for k, v in value.items()) or "none"
    if key in ENUM_FIELDS:
        try:
            member = ENUM_FIELDS[key](value)
        except ValueError:
            return str(value)
        return str(getattr(member, "label", member.value))
    if isinstance(value, str) and ISO_DATE.match(value):
        return day(date.fromisoformat(value))
    return str(value)
