"""``flask retention run``: destroy what the retention rules say is due, and nothing else.

What goes, in this order, each enrolment in a transaction of its own so a run stopped half way
leaves every enrolment either untouched or done:

1. the learner's evidence of every judged or closed enrolment past its evidence period (not on
   legal hold): each file's record and stored copy, and the text of each version. The items
   keep their reference, title, type, date and mappings, and every judgement, sign-off and
   outcome stays: they are the record of the assessment. The audit log gets a destruction
   receipt per item (what was destroyed, its SHA-256s, the rule and the dates);
2. finished audit bundles past BUNDLE_KEEP_DAYS;
3. the records of every enrolment past the record period (RETENTION_RECORD_YEARS, 30 at
   least; not on legal hold): its outcome, judgements, decisions, checks, sign-offs with their
   files, submissions, attempts, closure and items, with one receipt in the audit log saying
   what went. The enrolment's row stays, marked with the day, because the audit log (append-
   only and signed) names it; the log's own events are not rewritten;
4. uploads never claimed by a form, and stored files no record names (``files sweep``).

A dry run reads the same plan and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from typing import Any

from flask import Flask
from sqlalchemy import Select, delete, distinct, func, select, update
from sqlalchemy.orm import Session, joinedload, selectinload

from portfolio.assessment.ledger import DESTROYED
from portfolio.audit.log import record
from portfolio.enrolments.holds import held_ids, hold_reasons
from portfolio.exports.jobs import old_bundles, remove_old_bundles
from portfolio.files.storage import EvidenceStorage
from portfolio.files.sweep import SweepResult, sweep
from portfolio.files.uploads import named_keys
from portfolio.models import (
    Closure,
    ClosureFile,
    Enrolment,
    EvidenceCheck,
    EvidenceFile,
    EvidenceItem,
    EvidenceMapping,
    EvidenceVersion,
    GapFeedback,
    GapSignoff,
    Job,
    Judgement,
    LegalHold,
    MappingDecision,
    PendingUpload,
    Reassessment,
    SignoffFile,
    Submission,
    UnitOutcome,
    UnitRelease,
    VerificationRequest,
)
from portfolio.retention.rules import (
    FINISHED,
    Periods,
    evidence_cutoff,
    evidence_due_on,
    records_cutoff,
    records_due_on,
)
from portfolio.text import day

#: Enrolments counted per query.
BATCH = 500


def batched(ids: Iterable[int], size: int = BATCH) -> Iterator[list[int]]:
    it = iter(ids)
    while chunk := list(islice(it, size)):
        yield chunk


@dataclass
class DueEvidence:
    """One enrolment whose evidence is due."""

    enrolment: Enrolment
    due_on: date
    items: int = 0
    files: int = 0
    size: int = 0


@dataclass
class DueRecords:
    """One enrolment whose records are due."""

    enrolment: Enrolment
    due_on: date


@dataclass
class Held:
    """An enrolment that would be due but is on legal hold."""

    enrolment: Enrolment
    due_on: date
    reason: str


@dataclass
class Plan:
    today: date
    rules: Periods
    evidence: list[DueEvidence] = field(default_factory=list)
    held: list[Held] = field(default_factory=list)
    bundles: list[Job] = field(default_factory=list)
    #: Enrolments whose records have passed the record period, and those kept by a hold.
    records: list[DueRecords] = field(default_factory=list)
    records_held: list[Held] = field(default_factory=list)


@dataclass
class Outcome:
    enrolments: int = 0
    items: int = 0
    files: int = 0
    size: int = 0
    skipped: list[str] = field(default_factory=list)
    bundles: int = 0
    records: int = 0
    sweep: SweepResult | None = None


def _due(marker: Any, cutoff: date) -> Select[tuple[Enrolment]]:
    """Enrolments judged or closed on or before ``cutoff`` whose evidence (``marker``
    ``evidence_destroyed_on``) or records (``records_destroyed_on``) are still kept, holds
    aside: the one statement of what is due, for the plan and for each destruction."""
    return select(Enrolment).where(
        Enrolment.state.in_(FINISHED),
        marker.is_(None),
        Enrolment.activity_end.is_not(None),
        Enrolment.activity_end <= cutoff,
    )


def _evidence_due(cutoff: date) -> Select[tuple[Enrolment]]:
    return _due(Enrolment.evidence_destroyed_on, cutoff)


def _records_due(cutoff: date) -> Select[tuple[Enrolment]]:
    return _due(Enrolment.records_destroyed_on, cutoff)


def _due_enrolments(
    session: Session, query: Select[tuple[Enrolment]]
) -> tuple[list[Enrolment], dict[int, str]]:
    """The enrolments ``query`` finds, oldest first, with the reasons of those on hold."""
    found = list(
        session.scalars(
            query.options(
                joinedload(Enrolment.learner),
                joinedload(Enrolment.unit_release).joinedload(UnitRelease.unit),
            ).order_by(Enrolment.activity_end, Enrolment.id)
        )
    )
    return found, hold_reasons(session, [e.id for e in found])


def _locked(session: Session, query: Select[tuple[Enrolment]], enrolment_id: int):
    """The enrolment, locked and read afresh, if ``query`` still finds it and no hold keeps
    it: a hold placed or a run finished since the plan wins."""
    enrolment = session.scalars(
        query.where(Enrolment.id == enrolment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if enrolment is None or held_ids(session, [enrolment.id]):
        return None
    return enrolment


def _evidence_counts(session: Session, ids: Sequence[int]) -> dict[int, tuple[int, int, int]]:
    """Items, files and bytes of each enrolment: a query per batch of enrolments."""
    found: dict[int, tuple[int, int, int]] = {}
    for chunk in batched(ids):
        rows = session.execute(
            select(
                EvidenceItem.enrolment_id,
                func.count(distinct(EvidenceItem.id)),
                func.count(EvidenceFile.id),
                func.coalesce(func.sum(EvidenceFile.size), 0),
            )
            .select_from(EvidenceItem)
            .outerjoin(EvidenceVersion, EvidenceVersion.item_id == EvidenceItem.id)
            .outerjoin(EvidenceFile, EvidenceFile.version_id == EvidenceVersion.id)
            .where(EvidenceItem.enrolment_id.in_(chunk))
            .group_by(EvidenceItem.enrolment_id)
        )
        for enrolment_id, items, files, size in rows:
            found[enrolment_id] = (items, files, int(size))
    return found


def plan(app: Flask, session: Session, today: date, rules: Periods) -> Plan:
    """What a run on ``today`` would destroy, and what it keeps only because of a hold."""
    result = Plan(today=today, rules=rules)
    due, holds = _due_enrolments(session, _evidence_due(evidence_cutoff(today, rules)))
    counts = _evidence_counts(session, [e.id for e in due])
    for enrolment in due:
        assert enrolment.activity_end is not None  # the query asks for one
        due_on = evidence_due_on(enrolment.activity_end, rules)
        if enrolment.id in holds:
            result.held.append(Held(enrolment, due_on, holds[enrolment.id]))
        else:
            result.evidence.append(
                DueEvidence(enrolment, due_on, *counts.get(enrolment.id, (0, 0, 0)))
            )
    result.bundles = old_bundles(app, session)
    due, holds = _due_enrolments(session, _records_due(records_cutoff(today, rules)))
    for enrolment in due:
        assert enrolment.activity_end is not None
        due_on = records_due_on(enrolment.activity_end, rules)
        if enrolment.id in holds:
            result.records_held.append(Held(enrolment, due_on, holds[enrolment.id]))
        else:
            result.records.append(DueRecords(enrolment, due_on))
    return result


def destroy_records(
    session: Session, enrolment_id: int, *, today: date, rules: Periods
) -> list[str] | None:
    """Destroy one enrolment's records in the caller's transaction, with one receipt. Returns
    the stored keys no record names any more (to delete after the commit), or None when the
    enrolment is no longer due (a hold placed, a run before)."""
    enrolment = _locked(session, _records_due(records_cutoff(today, rules)), enrolment_id)
    if enrolment is None:
        return None
    assert enrolment.activity_end is not None  # the query asks for one
    of_enrolment = enrolment.id
    items = select(EvidenceItem.id).where(EvidenceItem.enrolment_id == of_enrolment)
    versions = select(EvidenceVersion.id).where(EvidenceVersion.item_id.in_(items))
    submissions = select(Submission.id).where(Submission.enrolment_id == of_enrolment)
    signoffs = select(GapSignoff.id).where(GapSignoff.enrolment_id == of_enrolment)
    closures = select(Closure.id).where(Closure.enrolment_id == of_enrolment)
    keys: set[str] = set()
    for model, parent, parents in (
        (EvidenceFile, EvidenceFile.version_id, versions),
        (SignoffFile, SignoffFile.signoff_id, signoffs),
        (ClosureFile, ClosureFile.closure_id, closures),
    ):
        keys.update(session.scalars(select(model.storage_key).where(parent.in_(parents))))
    outcome = session.scalars(
        select(UnitOutcome)
        .where(UnitOutcome.enrolment_id == of_enrolment)
        .order_by(UnitOutcome.id.desc())
        .limit(1)
    ).first()
    destroyed: dict[str, int] = {}

    def gone(label: str, statement) -> None:
        count = session.execute(statement, execution_options={"synchronize_session": False})
        destroyed[label] = destroyed.get(label, 0) + (count.rowcount or 0)

    # Children before parents; each table's rows in one statement, so a correction and the
    # entry it replaces go together.
    gone("gap feedback", delete(GapFeedback).where(GapFeedback.submission_id.in_(submissions)))
    gone("files", delete(SignoffFile).where(SignoffFile.signoff_id.in_(signoffs)))
    gone("files", delete(ClosureFile).where(ClosureFile.closure_id.in_(closures)))
    gone("files", delete(EvidenceFile).where(EvidenceFile.version_id.in_(versions)))
    gone("mappings", delete(EvidenceMapping).where(EvidenceMapping.version_id.in_(versions)))
    for label, model in (
        ("mapping decisions", MappingDecision),
        ("evidence checks", EvidenceCheck),
        ("judgements", Judgement),
        ("unit outcomes", UnitOutcome),
        ("gap sign-offs", GapSignoff),
        ("verifications", VerificationRequest),
    ):
        gone(label, delete(model).where(model.enrolment_id == of_enrolment))
    session.execute(
        update(EvidenceItem)
        .where(EvidenceItem.enrolment_id == of_enrolment)
        .values(current_version_id=None),
        execution_options={"synchronize_session": False},
    )
    gone("item versions", delete(EvidenceVersion).where(EvidenceVersion.item_id.in_(items)))
    gone("items", delete(EvidenceItem).where(EvidenceItem.enrolment_id == of_enrolment))
    for label, model in (
        ("submissions", Submission),
        ("reassessment plans", Reassessment),
        ("uploads waiting", PendingUpload),
        ("closures", Closure),
        ("ended legal holds", LegalHold),
    ):
        gone(label, delete(model).where(model.enrolment_id == of_enrolment))
    record(
        session,
        actor=None,
        role=None,
        action=DESTROYED,
        subject=f"enrolment:{of_enrolment}",
        enrolment=enrolment,
        before={
            "outcome": (
                f"{outcome.result.label} (AVETMISS {outcome.result.avetmiss_code}), decided "
                f"{day(outcome.decided_on)}"
                if outcome is not None
                else enrolment.state.label
            ),
            **{label: n for label, n in destroyed.items() if n},
        },
        after={
            "rule": rules.record_rule,
            "ended_on": enrolment.activity_end,
            "due_on": records_due_on(enrolment.activity_end, rules),
        },
    )
    enrolment.records_destroyed_on = today
    enrolment.evidence_destroyed_on = enrolment.evidence_destroyed_on or today
    session.flush()
    session.expire_all()  # what was loaded of the deleted rows is gone
    return sorted(keys - named_keys(session, keys))


def _receipt(item: EvidenceItem, files: list[EvidenceFile], characters: int) -> dict[str, object]:
    current = next((v for v in item.versions if v.id == item.current_version_id), item.versions[-1])
    return {
        "title": current.title,
        "versions": len(item.versions),
        "files": [f"{f.display_name} (SHA-256 {f.sha256}, {f.size} bytes)" for f in files],
        "text_characters": characters,
    }


def destroy_evidence(
    session: Session, enrolment_id: int, *, today: date, rules: Periods
) -> list[str] | None:
    """Destroy one enrolment's evidence in the caller's transaction, with a receipt per item.
    Returns the stored keys no record names any more (to delete after the commit), or None
    when the enrolment is no longer due (a hold placed, a reassessment opened, a run before)."""
    enrolment = _locked(session, _evidence_due(evidence_cutoff(today, rules)), enrolment_id)
    if enrolment is None:
        return None
    due_on = evidence_due_on(enrolment.activity_end, rules)
    items = session.scalars(
        select(EvidenceItem)
        .where(EvidenceItem.enrolment_id == enrolment.id)
        .options(selectinload(EvidenceItem.versions).selectinload(EvidenceVersion.files))
        .order_by(EvidenceItem.number)
    ).all()
    keys: set[str] = set()
    for item in items:
        files = [f for version in item.versions for f in version.files]
        characters = sum(len(version.description) for version in item.versions)
        record(
            session,
            actor=None,
            role=None,
            action="evidence.destroyed",
            subject=f"evidence:{item.reference}",
            enrolment=enrolment,
            before=_receipt(item, files, characters),
            after={
                "rule": rules.evidence_rule,
                "judged_on": enrolment.activity_end,
                "due_on": due_on,
            },
        )
        for version in item.versions:
            version.description = ""
            version.files.clear()  # delete-orphan: the file records go
        keys.update(f.storage_key for f in files)
    session.execute(delete(PendingUpload).where(PendingUpload.enrolment_id == enrolment.id))
    enrolment.evidence_destroyed_on = today
    session.flush()
    return sorted(keys - named_keys(session, keys))


def _each(
    session: Session,
    store: EvidenceStorage,
    outcome: Outcome,
    enrolment_id: int,
    destroy: Callable[..., list[str] | None],
    plan: Plan,
    what: str,
) -> bool:
    """One enrolment's ``destroy`` in a transaction of its own, then its stored files; False
    (and a line saying why) when it is no longer due."""
    try:
        keys = destroy(session, enrolment_id, today=plan.today, rules=plan.rules)
        if keys is None:
            session.rollback()
            outcome.skipped.append(f"Enrolment {enrolment_id}: its {what} no longer due (kept).")
            return False
        session.commit()
    except Exception:
        session.rollback()
        raise
    for key in keys:
        store.delete(key)
    return True


def carry_out(app: Flask, session: Session, store: EvidenceStorage, plan: Plan) -> Outcome:
    """Destroy what ``plan`` lists, each enrolment committed on its own, then the bundles and
    the sweep; a summary event closes the run."""
    outcome = Outcome()
    for due in plan.evidence:
        if _each(session, store, outcome, due.enrolment.id, destroy_evidence, plan, "evidence is"):
            outcome.enrolments += 1
            outcome.items += due.items
            outcome.files += due.files
            outcome.size += due.size
    for due_records in plan.records:
        if _each(
            session, store, outcome, due_records.enrolment.id, destroy_records, plan, "records"
        ):
            outcome.records += 1
    stale = remove_old_bundles(app, session)
    outcome.bundles = len(plan.bundles)
    record(
        session,
        actor=None,
        role=None,
        action="retention.run",
        subject="retention",
        after={
            "rules": [plan.rules.evidence_rule, plan.rules.record_rule],
            "enrolments": outcome.enrolments,
            "items": outcome.items,
            "files": outcome.files,
            "bundles": outcome.bundles,
            "records": outcome.records,
            "held": sorted({h.enrolment.id for h in plan.held + plan.records_held}),
        },
    )
    session.commit()
    for key in stale:
        store.delete(key)
    outcome.sweep = sweep(session, store)
    return outcome
