"""The assessment records checked against the audit log.

Every judgement, gap sign-off and unit outcome is written with an event saying what it now is
(``entries.audit``). A record changed in the database behind the app's back no longer agrees
with the last event about it, which is signed with a key the database does not hold; a record
inserted that way has no event at all. ``flask audit verify`` runs this after the chain check.

Enrolments are read a batch at a time, their events by the enrolment index, so memory stays
flat however large the RTO.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, aliased

from portfolio.assessment import rules
from portfolio.audit.log import jsonable
from portfolio.models import (
    AuditEvent,
    Enrolment,
    GapSignoff,
    Judgement,
    SignoffFile,
    Target,
    UnitOutcome,
)

BATCH = 500


@dataclass(frozen=True)
class Record:
    """One kind of decision: the events that write it and how its row reads as their payload."""

    name: str
    actions: tuple[str, ...]
    model: Any


JUDGEMENT = Record("judgement", ("judgement.recorded", "judgement.corrected"), Judgement)
SIGNOFF = Record("gap sign-off", ("gap.signed_off", "gap.signoff_corrected"), GapSignoff)
OUTCOME = Record("outcome", ("outcome.recorded", "outcome.corrected"), UnitOutcome)
RECORDS = (JUDGEMENT, SIGNOFF, OUTCOME)
_BY_ACTION = {action: record for record in RECORDS for action in record.actions}
#: Logged beside a correction's values: why, and the AVETMISS code derived from the result.
_NOT_COMPARED = frozenset({"reason", "avetmiss"})
#: The receipt ``flask retention run`` writes when an enrolment's records pass their period.
DESTROYED = "records.destroyed"


def compare_with_log(session: Session) -> Iterator[str]:
    """A line for each judgement, sign-off or outcome that is not what the log says."""
    last = 0
    while True:
        ids = session.scalars(
            select(Enrolment.id).where(Enrolment.id > last).order_by(Enrolment.id).limit(BATCH)
        ).all()
        if not ids:
            return
        yield from _compare(session, ids)
        last = ids[-1]


def _compare(session: Session, ids: list[int]) -> Iterator[str]:
    logged: dict[tuple[int, str, str], tuple[int, dict[str, Any]]] = {}
    events = (
        select(AuditEvent.enrolment_id, AuditEvent.action, AuditEvent.subject, AuditEvent.seq)
        .add_columns(AuditEvent.after)
        .where(AuditEvent.enrolment_id.in_(ids), AuditEvent.action.in_(_BY_ACTION))
        .order_by(AuditEvent.seq)
    )
    for enrolment_id, action, subject, seq, after in session.execute(events):
        logged[(enrolment_id, _BY_ACTION[action].name, subject)] = (seq, after or {})
    # Records destroyed by the retention rules, past the record period: each enrolment's
    # receipt, a signed event like the rest, accounts for everything logged before it.
    destroyed = dict(
        session.execute(
            select(AuditEvent.enrolment_id, AuditEvent.seq).where(
                AuditEvent.enrolment_id.in_(ids), AuditEvent.action == DESTROYED
            )
        ).all()
    )

    current = {
        **_current(session, JUDGEMENT, ids, _judgements),
        **_current(session, SIGNOFF, ids, _signoffs),
        **_current(session, OUTCOME, ids, _outcomes),
    }
    for key in sorted(current.keys() | logged.keys()):
        enrolment_id, name, subject = key
        where = f"enrolment {enrolment_id}, {name}" + (
            f" of {subject.removeprefix('target:')}" if subject.startswith("target:") else ""
        )
        if key not in logged:
            yield f"{where}: not in the audit log; it was written behind the app's back."
            continue
        seq, after = logged[key]
        if key not in current:
            if destroyed.get(enrolment_id, 0) > seq:
                continue  # destroyed after it was recorded, with a receipt
            yield f"{where}: recorded in event {seq}, but no longer in the database."
            continue
        row = current[key]
        for field, value in after.items():
            if field not in _NOT_COMPARED and field in row and row[field] != value:
                yield (
                    f"{where}: {field} is {_shown(row[field])} in the database, but "
                    f"{_shown(value)} in event {seq}."
                )


def _shown(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _current(
    session: Session,
    record: Record,
    ids: list[int],
    payloads: Callable[[Session, list[Any]], Mapping[int, tuple[str, dict[str, Any]]]],
) -> dict[tuple[int, str, str], dict[str, Any]]:
    """Each enrolment's standing row of this kind, per subject, as the log would write it: not
    replaced by a correction, of the latest attempt that has one."""
    rows = session.scalars(_standing(record.model, ids)).all()
    found: dict[tuple[int, str, str], tuple[tuple[int, int], dict[str, Any]]] = {}
    described = payloads(session, rows)
    for row in rows:
        subject, payload = described[row.id]
        key = (row.enrolment_id, record.name, subject)
        rank = (row.attempt, row.id)
        if key not in found or found[key][0] < rank:
            found[key] = (rank, payload)
    return {key: payload for key, (_, payload) in found.items()}


def _standing(model: Any, ids: list[int]) -> Select[Any]:
    later = aliased(model)
    replaced = select(later.id).where(later.replaces_id == model.id).exists()
    return select(model).where(model.enrolment_id.in_(ids), ~replaced)


def _refs(session: Session, rows: list[Any]) -> dict[int, str]:
    target_ids = {row.target_id for row in rows}
    found = session.execute(select(Target.id, Target.ref).where(Target.id.in_(target_ids)))
    return dict(found.all())


def _judgements(session: Session, rows: list[Judgement]) -> dict[int, tuple[str, dict[str, Any]]]:
    refs = _refs(session, rows)
    return {
        row.id: (
            rules.target_subject(refs[row.target_id]),
            jsonable(rules.judgement_payload(row.finding, row.comment)),
        )
        for row in rows
    }


def _signoffs(session: Session, rows: list[GapSignoff]) -> dict[int, tuple[str, dict[str, Any]]]:
    refs = _refs(session, rows)
    files: dict[int, list[tuple[str, str]]] = defaultdict(list)
    query = (
        select(SignoffFile.signoff_id, SignoffFile.display_name, SignoffFile.sha256)
        .where(SignoffFile.signoff_id.in_([row.id for row in rows]))
        .order_by(SignoffFile.id)
    )
    for signoff_id, name, sha256 in session.execute(query):
        files[signoff_id].append((name, sha256))
    return {
        row.id: (
            rules.target_subject(refs[row.target_id]),
            jsonable(
                rules.signoff_payload(
                    row.method, row.held_on, row.notes, row.questions, files[row.id], row.checklist
                )
            ),
        )
        for row in rows
    }


def _outcomes(session: Session, rows: list[UnitOutcome]) -> dict[int, tuple[str, dict[str, Any]]]:
    return {
        row.id: (
            f"enrolment:{row.enrolment_id}",
            jsonable(rules.outcome_payload(row.result, row.decided_on)),
        )
        for row in rows
    }
