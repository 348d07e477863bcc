"""The assessor's decisions during a review: starting it, accepting or rejecting evidence,
checking the rules of evidence, judging each criterion.

Each takes the acting assessor, is refused in words outside the states the policy allows,
changes an entry in place only when the page saw its latest version, and writes its audit
event in the caller's transaction. What each decision needs and records is in ``rules``.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from portfolio.assessment import rules
from portfolio.assessment.entries import (
    audit,
    check_fresh,
    latest_submission,
    target_of,
    version_of,
)
from portfolio.assessment.matrix import MatrixSection
from portfolio.assessment.review import ReviewView, review_view
from portfolio.auth.permissions import Action, check_state
from portfolio.enrolments.workflow import transition
from portfolio.models import (
    AssessmentState,
    Enrolment,
    EvidenceCheck,
    EvidenceRule,
    EvidenceVersion,
    Finding,
    Judgement,
    MappingDecision,
    MappingSource,
    Role,
    Target,
    User,
)
from portfolio.models.base import utcnow


def start_review(session: Session, *, actor: User, enrolment: Enrolment) -> None:
    """The assessor takes the submission off the queue and starts judging it."""
    check_state(Action.START_REVIEW, enrolment)
    submission = latest_submission(enrolment)
    transition(session, enrolment, AssessmentState.IN_REVIEW, actor=actor, role=Role.ASSESSOR)
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
    version_of(enrolment, version)
    target_of(enrolment, target)
    mapped = any(m.target_id == target.id for m in version.mappings)
    rules.check_mapping_claim(source, mapped, target.ref)
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
    audit(
        session,
        actor,
        enrolment,
        rules.decision_action(accepted),
        rules.evidence_subject(version.item.number, version.version, target.ref),
        before,
        rules.decision_payload(accepted, existing.note, source),
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
    version_of(enrolment, version)
    note = rules.checked_note(rule, confirmed, note)
    existing = session.scalar(
        select(EvidenceCheck).where(
            EvidenceCheck.enrolment_id == enrolment.id,
            EvidenceCheck.version_id == version.id,
            EvidenceCheck.rule == rule,
        )
    )
    check_fresh(existing, seen_version, f"the {rule.label.lower()} check of E{version.item.number}")
    before = rules.check_payload(existing.confirmed, existing.note) if existing else None
    if existing is None:
        existing = EvidenceCheck(
            enrolment_id=enrolment.id, version_id=version.id, rule=rule, assessor_id=actor.id
        )
        session.add(existing)
    existing.confirmed = confirmed
    existing.note = note
    existing.assessor_id = actor.id
    existing.recorded_at = utcnow()
    audit(
        session,
        actor,
        enrolment,
        "evidence.checked",
        rules.evidence_subject(version.item.number, version.version, rule.value),
        before,
        rules.check_payload(confirmed, note),
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
    target_of(enrolment, target)
    comment = rules.judged_comment(target.ref, finding, comment, is_gap=view.is_gap(target))
    existing = session.scalar(
        select(Judgement).where(
            Judgement.enrolment_id == enrolment.id, Judgement.target_id == target.id
        )
    )
    check_fresh(existing, seen_version, f"the judgement of {target.ref}")
    before = rules.judgement_payload(existing.finding, existing.comment) if existing else None
    if existing is None:
        existing = Judgement(enrolment_id=enrolment.id, target_id=target.id, assessor_id=actor.id)
        session.add(existing)
    existing.finding = finding
    existing.comment = comment
    existing.assessor_id = actor.id
    existing.submission_id = latest_submission(enrolment).id
    existing.recorded_at = utcnow()
    audit(
        session,
        actor,
        enrolment,
        "judgement.recorded",
        rules.target_subject(target.ref),
        before,
        rules.judgement_payload(finding, comment),
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
