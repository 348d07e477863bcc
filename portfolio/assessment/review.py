"""The assessor's review of a submission: what the page shows, and every decision it records.

Services take the acting assessor, check the workflow state and write an audit event with each
change, in the caller's transaction. Before the outcome an entry may be changed in place, but
only by a request that saw its latest version (optimistic locking). After the outcome nothing is
changed in place: a correction is a new entry that replaces the old one, with a reason.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from typing import TypeVar

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import flag_modified

from portfolio.audit.log import record
from portfolio.auth.permissions import Action, check_state, states_of
from portfolio.clock import local_date, today
from portfolio.enrolments.progress import Coverage, coverage
from portfolio.enrolments.services import enrolments_by_id
from portfolio.enrolments.workflow import transition
from portfolio.errors import ServiceError
from portfolio.files.uploads import NewFile
from portfolio.models import (
    AssessmentState,
    Element,
    Enrolment,
    EvidenceCheck,
    EvidenceItem,
    EvidenceRule,
    EvidenceVersion,
    Finding,
    GapFeedback,
    GapMethod,
    GapSignoff,
    Judgement,
    MappingDecision,
    MappingSource,
    OutcomeResult,
    Role,
    SignoffFile,
    Submission,
    Target,
    UnitOutcome,
    User,
)
from portfolio.models.base import utcnow
from portfolio.models.review import AssessorEntry, current_entries
from portfolio.units.services import TargetNode, UnitView, get_release, unit_view

S = AssessmentState

OUTCOME_DECLARATION = (
    "I declare that I assessed this learner against every requirement of the unit release "
    "named above, that the evidence met the rules of evidence as recorded, and that this "
    "outcome is my own judgement."
)

E = TypeVar("E", bound=AssessorEntry)


class StaleEntry(ServiceError):
    """Another save reached the entry first; nothing from this request was kept."""


@dataclass
class SubmittedItem:
    """An evidence item as the assessor sees it: the version last handed in."""

    item: EvidenceItem
    version: EvidenceVersion
    possibly_not_current: bool = False


@dataclass
class ReviewView:
    """Everything the review page shows, loaded in a fixed number of queries."""

    enrolment: Enrolment
    submission: Submission | None
    unit: UnitView
    items: list[SubmittedItem]
    decisions: dict[tuple[int, int], MappingDecision]
    judgements: dict[int, Judgement]
    checks: dict[tuple[int, EvidenceRule], EvidenceCheck]
    signoffs: dict[int, GapSignoff]
    outcome: UnitOutcome | None
    history: list[AssessorEntry] = field(default_factory=list)
    learner_notes: dict[tuple[int, int], str] = field(default_factory=dict)

    @property
    def targets(self) -> list[Target]:
        return [t for t in self.unit.release.targets if not t.is_group]

    def mapping(self, version: EvidenceVersion, target: Target) -> str | None:
        """ "accepted", "rejected", "pending" (learner's, not yet decided) or None (not mapped)."""
        decision = self.decisions.get((version.id, target.id))
        if decision is not None:
            return "accepted" if decision.accepted else "rejected"
        if (version.id, target.id) in self.learner_notes:
            return "pending"
        return None

    def note(self, version: EvidenceVersion, target: Target) -> str:
        decision = self.decisions.get((version.id, target.id))
        if decision is not None and decision.source is MappingSource.ASSESSOR:
            return decision.note
        return self.learner_notes.get((version.id, target.id), "")

    def accepted_for(self, target: Target) -> list[SubmittedItem]:
        return [s for s in self.items if self.mapping(s.version, target) == "accepted"]

    def mapped_for(self, target: Target) -> list[SubmittedItem]:
        return [s for s in self.items if self.mapping(s.version, target) is not None]

    def is_gap(self, target: Target) -> bool:
        """No accepted evidence and not signed off."""
        return (
            not target.is_group and not self.accepted_for(target) and target.id not in self.signoffs
        )

    @property
    def gaps(self) -> list[Target]:
        return [t for t in self.targets if self.is_gap(t)]

    @property
    def coverage(self) -> Coverage:
        targets = self.targets
        return Coverage(sum(1 for t in targets if not self.is_gap(t)), len(targets))

    @property
    def unjudged(self) -> list[Target]:
        return [t for t in self.targets if t.id not in self.judgements]

    @property
    def all_satisfactory(self) -> bool:
        return not self.unjudged and all(
            j.finding is Finding.SATISFACTORY for j in self.judgements.values()
        )

    def outcome_choices(self) -> list[OutcomeResult]:
        if self.enrolment.is_rpl:
            return [OutcomeResult.RPL_GRANTED, OutcomeResult.RPL_NOT_GRANTED]
        return [OutcomeResult.COMPETENT, OutcomeResult.NOT_YET_COMPETENT]


def _submitted_versions(session: Session, enrolment: Enrolment) -> list[EvidenceVersion]:
    versions = session.scalars(
        select(EvidenceVersion)
        .join(EvidenceItem, EvidenceVersion.item_id == EvidenceItem.id)
        .where(
            EvidenceItem.enrolment_id == enrolment.id, EvidenceVersion.submission_id.is_not(None)
        )
        .options(
            selectinload(EvidenceVersion.item),
            selectinload(EvidenceVersion.files),
            selectinload(EvidenceVersion.mappings),
            selectinload(EvidenceVersion.submission),
        )
        .order_by(EvidenceItem.number, EvidenceVersion.version)
    ).all()
    latest: dict[int, EvidenceVersion] = {}
    for version in versions:
        latest[version.item_id] = version  # ordered by version, so the last one wins
    return list(latest.values())


def _entries(session: Session, model: type[E], enrolment: Enrolment, *load: object) -> list[E]:
    query = select(model).where(model.enrolment_id == enrolment.id).order_by(model.id)
    if load:
        query = query.options(*load)
    return list(session.scalars(query))


def review_view(session: Session, enrolment: Enrolment, *, currency_years: int = 2) -> ReviewView:
    """The review of an enrolment's latest submission, however many items and targets."""
    release = get_release(session, enrolment.unit_release.unit.code, enrolment.unit_release.release)
    assert release is not None
    submission = enrolment.submissions[-1] if enrolment.submissions else None
    versions = _submitted_versions(session, enrolment)
    limit = (
        local_date(submission.submitted_at) - timedelta(days=365 * currency_years)
        if submission
        else None
    )
    items = [SubmittedItem(v.item, v, bool(limit and v.work_date < limit)) for v in versions]
    learner_notes = {(v.id, m.target_id): m.note for v in versions for m in v.mappings}

    decisions_all = _entries(session, MappingDecision, enrolment)
    judgements_all = _entries(session, Judgement, enrolment, selectinload(Judgement.assessor))
    checks_all = _entries(session, EvidenceCheck, enrolment)
    signoffs_all = _entries(
        session,
        GapSignoff,
        enrolment,
        selectinload(GapSignoff.files),
        selectinload(GapSignoff.assessor),
    )
    outcomes_all = _entries(session, UnitOutcome, enrolment, selectinload(UnitOutcome.assessor))

    current_outcomes = current_entries(outcomes_all)
    history = _corrections(judgements_all, signoffs_all, outcomes_all)
    return ReviewView(
        enrolment=enrolment,
        submission=submission,
        unit=unit_view(release),
        items=items,
        decisions={(d.version_id, d.target_id): d for d in current_entries(decisions_all)},
        judgements={j.target_id: j for j in current_entries(judgements_all)},
        checks={(c.version_id, c.rule): c for c in current_entries(checks_all)},
        signoffs={s.target_id: s for s in current_entries(signoffs_all)},
        outcome=current_outcomes[-1] if current_outcomes else None,
        history=sorted(history, key=lambda row: row.recorded_at),
        learner_notes=learner_notes,
    )


def _corrections(*groups: Sequence[AssessorEntry]) -> list[AssessorEntry]:
    """Entries that corrected another, and the entries they replaced: both stay visible."""
    out: list[AssessorEntry] = []
    for rows in groups:
        replaced = {row.replaces_id for row in rows if row.replaces_id is not None}
        out.extend(row for row in rows if row.id in replaced or row.replaces_id is not None)
    return out


# --- Helpers shared by the services ---------------------------------------------------------


def _audit(
    session: Session,
    actor: User,
    enrolment: Enrolment,
    action: str,
    subject: str,
    before: Mapping[str, object] | None,
    after: Mapping[str, object] | None,
) -> None:
    record(
        session,
        actor=actor,
        role=Role.ASSESSOR,
        action=action,
        subject=subject,
        enrolment=enrolment,
        before=before,
        after=after,
    )


def _target_of(enrolment: Enrolment, target: Target) -> Target:
    if target.unit_release_id != enrolment.unit_release_id:
        raise ServiceError("That criterion is not in this learner's unit release.")
    if target.is_group:
        raise ServiceError("Judge the lines under a heading, not the heading itself.")
    return target


def _version_of(enrolment: Enrolment, version: EvidenceVersion) -> EvidenceVersion:
    if version.item.enrolment_id != enrolment.id or not version.frozen:
        raise ServiceError("That evidence was not submitted in this portfolio.")
    return version


def _check_fresh(entry: AssessorEntry | None, seen_version: int, what: str) -> None:
    """Refuse a save made from a page that did not show the entry as it now is."""
    now = entry.lock_version if entry is not None else 0
    if now != seen_version:
        who = entry.assessor.name if entry is not None else "Someone"
        raise StaleEntry(
            f"{who} saved {what} after you opened this page, so your change was not saved. "
            "Reload the page to see it, then make your change again."
        )


def _claim(session: Session, enrolment: Enrolment) -> None:
    """Write the enrolment row (bumping its lock version) so that of two requests adding the
    same entry at once (a double click, two tabs) the second is refused, not recorded twice."""
    flag_modified(enrolment, "state")
    session.flush()


def _latest_submission(enrolment: Enrolment) -> Submission:
    if not enrolment.submissions:
        raise ServiceError("This portfolio has not been submitted.")
    return enrolment.submissions[-1]


# --- The review workflow --------------------------------------------------------------------


def start_review(session: Session, *, actor: User, enrolment: Enrolment) -> None:
    """The assessor takes the submission off the queue and starts judging it."""
    check_state(Action.START_REVIEW, enrolment)
    submission = _latest_submission(enrolment)
    transition(session, enrolment, S.IN_REVIEW, actor=actor, role=Role.ASSESSOR)
    submission.review_started_at = submission.review_started_at or utcnow()
    session.flush()


def decide_mapping(
    session: Session,
    *,
    actor: User,
    enrolment: Enrolment,
    version: EvidenceVersion,
    target: Target,
    accepted: bool,
    note: str = "",
) -> MappingDecision:
    """Accept or reject the learner's claim that this evidence shows the target."""
    return _set_decision(
        session, actor, enrolment, version, target, MappingSource.LEARNER, accepted, note
    )


def add_mapping(
    session: Session,
    *,
    actor: User,
    enrolment: Enrolment,
    version: EvidenceVersion,
    target: Target,
    note: str,
) -> MappingDecision:
    """The assessor maps submitted evidence to a target the learner did not name."""
    return _set_decision(
        session, actor, enrolment, version, target, MappingSource.ASSESSOR, True, note
    )


def _set_decision(
    session: Session,
    actor: User,
    enrolment: Enrolment,
    version: EvidenceVersion,
    target: Target,
    source: MappingSource,
    accepted: bool,
    note: str,
) -> MappingDecision:
    """A decision on (version, target): on the learner's mapping, or the assessor's own."""
    by_learner = source is MappingSource.LEARNER
    check_state(Action.DECIDE_MAPPING if by_learner else Action.MAP_EVIDENCE, enrolment)
    _version_of(enrolment, version)
    _target_of(enrolment, target)
    mapped = any(m.target_id == target.id for m in version.mappings)
    if by_learner and not mapped:
        raise ServiceError(f"The learner did not map this evidence to {target.ref}.")
    if not by_learner and mapped:
        raise ServiceError(f"The learner already mapped this evidence to {target.ref}: accept it.")
    existing = session.scalar(
        select(MappingDecision).where(
            MappingDecision.enrolment_id == enrolment.id,
            MappingDecision.version_id == version.id,
            MappingDecision.target_id == target.id,
        )
    )
    before = (
        {"accepted": existing.accepted, "note": existing.note} if existing is not None else None
    )
    if existing is None:
        existing = MappingDecision(
            enrolment_id=enrolment.id,
            version_id=version.id,
            target_id=target.id,
            source=source,
            assessor_id=actor.id,
        )
        session.add(existing)
    existing.accepted = accepted
    existing.note = note.strip()
    existing.assessor_id = actor.id
    existing.recorded_at = utcnow()
    _audit(
        session,
        actor,
        enrolment,
        "mapping.accepted" if accepted else "mapping.rejected",
        f"evidence:E{version.item.number}v{version.version}:{target.ref}",
        before,
        {"accepted": accepted, "note": existing.note, "source": source},
    )
    return existing


def accept_learner_mappings(
    session: Session, *, actor: User, view: ReviewView, targets: Iterable[Target]
) -> int:
    """Accept every undecided learner mapping to these targets; one decision each."""
    count = 0
    for target in targets:
        for submitted in view.items:
            if view.mapping(submitted.version, target) == "pending":
                decide_mapping(
                    session,
                    actor=actor,
                    enrolment=view.enrolment,
                    version=submitted.version,
                    target=target,
                    accepted=True,
                )
                count += 1
    return count


def check_evidence(
    session: Session,
    *,
    actor: User,
    enrolment: Enrolment,
    version: EvidenceVersion,
    rule: EvidenceRule,
    confirmed: bool,
    note: str,
    seen_version: int,
) -> EvidenceCheck:
    """Confirm one rule of evidence for an item, or flag it with a note saying why."""
    check_state(Action.CHECK_EVIDENCE, enrolment)
    _version_of(enrolment, version)
    if not confirmed and not note.strip():
        raise ServiceError(f"Say why {rule.label.lower()} is flagged.", "note")
    existing = session.scalar(
        select(EvidenceCheck).where(
            EvidenceCheck.enrolment_id == enrolment.id,
            EvidenceCheck.version_id == version.id,
            EvidenceCheck.rule == rule,
        )
    )
    what = f"the {rule.label.lower()} check of E{version.item.number}"
    _check_fresh(existing, seen_version, what)
    before = {"confirmed": existing.confirmed, "note": existing.note} if existing else None
    if existing is None:
        existing = EvidenceCheck(
            enrolment_id=enrolment.id, version_id=version.id, rule=rule, assessor_id=actor.id
        )
        session.add(existing)
    existing.confirmed = confirmed
    existing.note = note.strip()
    existing.assessor_id = actor.id
    existing.recorded_at = utcnow()
    _audit(
        session,
        actor,
        enrolment,
        "evidence.checked",
        f"evidence:E{version.item.number}v{version.version}:{rule.value}",
        before,
        {"confirmed": confirmed, "note": existing.note},
    )
    session.flush()
    return existing


def judge(
    session: Session,
    *,
    actor: User,
    view: ReviewView,
    target: Target,
    finding: Finding,
    comment: str,
    seen_version: int,
) -> Judgement:
    """Record satisfactory or not yet satisfactory for one target, with a comment."""
    enrolment = view.enrolment
    check_state(Action.JUDGE, enrolment)
    _target_of(enrolment, target)
    if finding is Finding.SATISFACTORY and view.is_gap(target):
        raise ServiceError(
            f"{target.ref} has no accepted evidence: accept evidence for it or sign the gap off "
            "before judging it satisfactory."
        )
    if finding is Finding.NOT_YET_SATISFACTORY and not comment.strip():
        raise ServiceError(f"Say what is missing for {target.ref}.", "comment")
    existing = session.scalar(
        select(Judgement).where(
            Judgement.enrolment_id == enrolment.id, Judgement.target_id == target.id
        )
    )
    _check_fresh(existing, seen_version, f"the judgement of {target.ref}")
    before = {"finding": existing.finding, "comment": existing.comment} if existing else None
    if existing is None:
        existing = Judgement(enrolment_id=enrolment.id, target_id=target.id, assessor_id=actor.id)
        session.add(existing)
    existing.finding = finding
    existing.comment = comment.strip()
    existing.assessor_id = actor.id
    existing.submission_id = _latest_submission(enrolment).id
    existing.recorded_at = utcnow()
    _audit(
        session,
        actor,
        enrolment,
        "judgement.recorded",
        f"target:{target.ref}",
        before,
        {"finding": finding, "comment": existing.comment},
    )
    session.flush()
    view.judgements[target.id] = existing
    return existing


def judge_section_satisfactory(
    session: Session, *, actor: User, view: ReviewView, section: MatrixSection, comment: str = ""
) -> int:
    """Accept the learner's mappings and judge satisfactory every target of a section (an
    element, or an evidence list) that has evidence; each target still gets its own judgement
    and audit event. Targets without evidence are left for the assessor. Returns how many."""
    targets = [t for t in section.targets if not t.is_group]
    accept_learner_mappings(session, actor=actor, view=view, targets=targets)
    refreshed = review_view(session, view.enrolment)
    count = 0
    for target in targets:
        if refreshed.is_gap(target):
            continue
        if target.id in refreshed.judgements:
            continue  # a judgement already made, either way, is the assessor's to change
        judge(
            session,
            actor=actor,
            view=refreshed,
            target=target,
            finding=Finding.SATISFACTORY,
            comment=comment,
            seen_version=0,
        )
        count += 1
    return count


@dataclass(frozen=True)
class Conversation:
    question: str
    answer: str


def sign_off_gap(
    session: Session,
    *,
    actor: User,
    view: ReviewView,
    target: Target,
    method: GapMethod,
    held_on: date,
    notes: str,
    questions: Sequence[Conversation] = (),
    files: Sequence[NewFile] = (),
) -> GapSignoff:
    """Close a gap by another method, with the record an auditor will ask for."""
    enrolment = view.enrolment
    check_state(Action.SIGN_OFF, enrolment)
    _target_of(enrolment, target)
    if not view.is_gap(target):
        raise ServiceError(f"{target.ref} is not a gap: it has accepted evidence or a sign-off.")
    signoff = _signoff(actor, enrolment, target, method, held_on, notes, questions)
    signoff.files = [SignoffFile(uploaded_by_id=actor.id, **vars(f)) for f in files]
    _claim(session, enrolment)
    session.add(signoff)
    session.flush()
    _audit(
        session, actor, enrolment, "gap.signed_off", f"target:{target.ref}", None, _signed(signoff)
    )
    view.signoffs[target.id] = signoff
    return signoff


def correct_signoff(
    session: Session,
    *,
    actor: User,
    view: ReviewView,
    target: Target,
    method: GapMethod,
    held_on: date,
    notes: str,
    questions: Sequence[Conversation] = (),
    keep_files: Collection[int] = (),
    files: Sequence[NewFile] = (),
    reason: str,
) -> GapSignoff:
    """After the outcome: a new sign-off replaces the old one; both stay on record.

    The old sign-off's files listed in ``keep_files`` go with the new one, and ``files`` are
    added to them; the old sign-off keeps all of its own.
    """
    enrolment = view.enrolment
    check_state(Action.CORRECT_SIGNOFF, enrolment)
    _target_of(enrolment, target)
    old = view.signoffs.get(target.id)
    if old is None:
        raise ServiceError(f"{target.ref} has no sign-off to correct.")
    new = _signoff(actor, enrolment, target, method, held_on, notes, questions)
    kept = [
        SignoffFile(
            uploaded_by_id=f.uploaded_by_id,
            uploaded_at=f.uploaded_at,
            **{spec.name: getattr(f, spec.name) for spec in fields(NewFile)},
        )
        for f in old.files
        if f.id in keep_files
    ]
    new.files = kept + [SignoffFile(uploaded_by_id=actor.id, **vars(f)) for f in files]
    if _signed(new) == _signed(old):
        raise ServiceError(
            f"That is the sign-off of {target.ref} as recorded: change what was wrong in it."
        )
    new.replaces_id, new.correction_reason = old.id, _reason(reason)
    _claim(session, enrolment)
    session.add(new)
    session.flush()
    _audit(
        session,
        actor,
        enrolment,
        "gap.signoff_corrected",
        f"target:{target.ref}",
        _signed(old),
        {**_signed(new), "reason": new.correction_reason},
    )
    view.signoffs[target.id] = new
    return new


def _signoff(
    actor: User,
    enrolment: Enrolment,
    target: Target,
    method: GapMethod,
    held_on: date,
    notes: str,
    questions: Sequence[Conversation],
) -> GapSignoff:
    """A sign-off checked for what an auditor needs of it (not yet added to the session)."""
    if held_on > today():
        raise ServiceError("The date it took place cannot be in the future.", "held_on")
    asked = [q for q in questions if q.question.strip() or q.answer.strip()]
    if any(not q.question.strip() or not q.answer.strip() for q in asked):
        raise ServiceError("Give each question with the learner's answer.", "questions")
    if method is GapMethod.COMPETENCY_CONVERSATION and not asked:
        raise ServiceError(
            "Record the questions asked and the answers given in the conversation.", "questions"
        )
    if not notes.strip() and not asked:
        raise ServiceError("Describe what you saw or were told.", "notes")
    return GapSignoff(
        enrolment_id=enrolment.id,
        target_id=target.id,
        method=method,
        held_on=held_on,
        notes=notes.strip(),
        questions=[{"question": q.question.strip(), "answer": q.answer.strip()} for q in asked],
        assessor_id=actor.id,
    )


def _signed(signoff: GapSignoff) -> dict[str, object]:
    """What a sign-off records, as the audit log keeps it."""
    return {
        "method": signoff.method,
        "held_on": signoff.held_on,
        "notes": signoff.notes,
        "questions": signoff.questions,
        "files": [{"name": f.display_name, "sha256": f.sha256} for f in signoff.files],
    }


def return_to_learner(
    session: Session,
    *,
    actor: User,
    view: ReviewView,
    feedback: Mapping[int, str],
    overall: str,
) -> Submission:
    """Send the portfolio back with what each gap needs; the next submission is a new round."""
    enrolment = view.enrolment
    check_state(Action.RETURN, enrolment)
    wanted = {tid: text.strip() for tid, text in feedback.items() if text.strip()}
    if not wanted:
        raise ServiceError("Say, for at least one criterion, what the learner needs to add.")
    targets = {t.id: t for t in view.targets}
    if set(wanted) - set(targets):
        raise ServiceError("That criterion is not in this learner's unit release.")
    submission = _latest_submission(enrolment)
    for target_id, text in wanted.items():
        session.add(GapFeedback(submission_id=submission.id, target_id=target_id, feedback=text))
    submission.returned_at = utcnow()
    submission.returned_by_id = actor.id
    submission.return_feedback = overall.strip()
    transition(
        session,
        enrolment,
        S.RETURNED,
        actor=actor,
        role=Role.ASSESSOR,
        reason=overall.strip() or None,
    )
    _audit(
        session,
        actor,
        enrolment,
        "submission.returned",
        f"submission:{submission.round}",
        None,
        {
            "overall": submission.return_feedback,
            "targets": {targets[tid].ref: text for tid, text in wanted.items()},
        },
    )
    return submission


def _achievable(view: ReviewView, result: OutcomeResult) -> None:
    """Competent (or RPL granted) needs every requirement satisfactory and none left a gap."""
    if not result.is_achieved:
        return
    if not view.all_satisfactory:
        raise ServiceError(f"{result.label} needs every criterion judged satisfactory.", "result")
    if view.gaps:
        refs = ", ".join(t.ref for t in view.gaps[:8])
        raise ServiceError(
            f"{result.label} needs accepted evidence or a sign-off for every criterion; "
            f"{refs} {'has' if len(view.gaps) == 1 else 'have'} none.",
            "result",
        )


def record_outcome(
    session: Session,
    *,
    actor: User,
    view: ReviewView,
    result: OutcomeResult,
    declared: bool,
) -> UnitOutcome:
    """The unit's result with the assessor's declaration; the enrolment is then locked."""
    enrolment = view.enrolment
    check_state(Action.RECORD_OUTCOME, enrolment)
    if result not in view.outcome_choices():
        kind = "an RPL" if enrolment.is_rpl else "an assessment"
        raise ServiceError(f"{result.label} is not an outcome of {kind} enrolment.", "result")
    if view.unjudged:
        refs = ", ".join(t.ref for t in view.unjudged[:8])
        more = f" and {len(view.unjudged) - 8} more" if len(view.unjudged) > 8 else ""
        raise ServiceError(f"Judge every criterion first: {refs}{more} have no judgement yet.")
    _achievable(view, result)
    if not declared:
        raise ServiceError("Tick the declaration to sign the outcome.", "declared")
    outcome = UnitOutcome(
        enrolment_id=enrolment.id,
        result=result,
        declaration=OUTCOME_DECLARATION,
        decided_on=today(),
        assessor_id=actor.id,
    )
    session.add(outcome)
    transition(session, enrolment, S.DECIDED, actor=actor, role=Role.ASSESSOR)
    _audit(
        session,
        actor,
        enrolment,
        "outcome.recorded",
        f"enrolment:{enrolment.id}",
        None,
        {"result": result, "avetmiss": result.avetmiss_code, "decided_on": outcome.decided_on},
    )
    return outcome


# --- Corrections after the outcome ----------------------------------------------------------


def _reason(reason: str) -> str:
    if not reason.strip():
        raise ServiceError("Say why the correction is made; it is kept with it.", "reason")
    return reason.strip()


def correct_judgement(
    session: Session,
    *,
    actor: User,
    view: ReviewView,
    target: Target,
    finding: Finding,
    comment: str,
    reason: str,
) -> Judgement:
    """After the outcome: a new judgement replaces the old one; both stay on record."""
    enrolment = view.enrolment
    check_state(Action.CORRECT_JUDGEMENT, enrolment)
    _target_of(enrolment, target)
    old = view.judgements.get(target.id)
    if old is None:
        raise ServiceError(f"{target.ref} has no judgement to correct.")
    if (
        finding is Finding.NOT_YET_SATISFACTORY
        and view.outcome is not None
        and view.outcome.result.is_achieved
    ):
        raise ServiceError(
            f"The outcome is {view.outcome.result.label}: correct the outcome first, then "
            f"{target.ref}."
        )
    _claim(session, enrolment)
    new = Judgement(
        enrolment_id=enrolment.id,
        target_id=target.id,
        submission_id=old.submission_id,
        finding=finding,
        comment=comment.strip(),
        assessor_id=actor.id,
        replaces_id=old.id,
        correction_reason=_reason(reason),
    )
    session.add(new)
    _audit(
        session,
        actor,
        enrolment,
        "judgement.corrected",
        f"target:{target.ref}",
        {"finding": old.finding, "comment": old.comment},
        {"finding": finding, "comment": new.comment, "reason": new.correction_reason},
    )
    return new


def correct_outcome(
    session: Session, *, actor: User, view: ReviewView, result: OutcomeResult, reason: str
) -> UnitOutcome:
    """After the outcome: a new outcome replaces the old one, with who, when and why."""
    enrolment = view.enrolment
    check_state(Action.CORRECT_OUTCOME, enrolment)
    old = view.outcome
    assert old is not None
    if result not in view.outcome_choices():
        raise ServiceError(f"{result.label} is not an outcome of this enrolment.", "result")
    if result is old.result:
        raise ServiceError(f"The outcome is already {result.label}.", "result")
    _achievable(view, result)
    _claim(session, enrolment)
    new = UnitOutcome(
        enrolment_id=enrolment.id,
        result=result,
        declaration=OUTCOME_DECLARATION,
        decided_on=today(),
        assessor_id=actor.id,
        replaces_id=old.id,
        correction_reason=_reason(reason),
    )
    session.add(new)
    _audit(
        session,
        actor,
        enrolment,
        "outcome.corrected",
        f"enrolment:{enrolment.id}",
        {"result": old.result, "avetmiss": old.result.avetmiss_code},
        {"result": result, "avetmiss": result.avetmiss_code, "reason": new.correction_reason},
    )
    return new


# --- The assessor's queue -------------------------------------------------------------------


@dataclass
class QueueRow:
    enrolment: Enrolment
    submission: Submission
    coverage: Coverage


def review_queue_query(assessor: User) -> Select[tuple[Submission]]:
    """The latest submission of each enrolment waiting for this assessor, oldest first."""
    waiting = and_(
        Enrolment.assessor_id == assessor.id,
        Enrolment.state.in_(states_of(Action.START_REVIEW, Action.JUDGE)),
    )
    # Rounds of this assessor's waiting enrolments only, so the work stays with the queue's size
    # rather than every submission the RTO has ever had.
    latest = (
        select(Submission.enrolment_id, func.max(Submission.round).label("round"))
        .join(Enrolment, Submission.enrolment_id == Enrolment.id)
        .where(waiting)
        .group_by(Submission.enrolment_id)
        .subquery()
    )
    return (
        select(Submission)
        .join(
            latest,
            and_(
                Submission.enrolment_id == latest.c.enrolment_id, Submission.round == latest.c.round
            ),
        )
        .join(Enrolment, Submission.enrolment_id == Enrolment.id)
        .where(waiting)
        .order_by(Submission.submitted_at, Submission.id)
    )


def queue_rows(session: Session, submissions: Sequence[Submission]) -> list[QueueRow]:
    """The queue page's rows with learner, unit and coverage, in a fixed number of queries."""
    if not submissions:
        return []
    enrolments = enrolments_by_id(session, (s.enrolment_id for s in submissions))
    covered = coverage(session, list(enrolments.values()))
    return [QueueRow(enrolments[s.enrolment_id], s, covered[s.enrolment_id]) for s in submissions]


@dataclass
class MatrixSection:
    """A block of rows of the coverage matrix: an element's criteria, or an evidence list."""

    title: str
    anchor: str
    targets: list[Target]
    element: Element | None = None


def _flatten(nodes: Iterable[TargetNode]) -> list[Target]:
    out: list[Target] = []
    for node in nodes:
        out.append(node.target)
        out.extend(_flatten(node.children))
    return out


def matrix_sections(view: ReviewView) -> list[MatrixSection]:
    """The unit's targets as the matrix shows them: grouped by element, evidence lists after."""
    unit = view.unit
    sections = [
        MatrixSection(
            f"Element {ev.element.number} {ev.element.title}",
            f"element-{ev.element.number}",
            ev.targets,
            ev.element,
        )
        for ev in unit.elements
    ]
    if unit.criteria:
        sections.append(MatrixSection("Performance criteria", "criteria", unit.criteria))
    if unit.performance_evidence:
        sections.append(
            MatrixSection(
                "Performance evidence", "performance-evidence", _flatten(unit.performance_evidence)
            )
        )
    if unit.knowledge_evidence:
        sections.append(
            MatrixSection(
                "Knowledge evidence", "knowledge-evidence", _flatten(unit.knowledge_evidence)
            )
        )
    return sections
