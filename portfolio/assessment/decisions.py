"""The assessor's decisions during a review: starting it, accepting or rejecting evidence,
checking the rules of evidence, judging each criterion.

Each takes the acting assessor, is refused in words outside the states the policy allows,
changes an entry in place only when the page saw its latest version, and writes its audit
event in the caller's transaction. What each decision needs and records is in ``rules``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

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
from portfolio.credentials.services import check_authorised
from portfolio.enrolments.workflow import transition
from portfolio.errors import ServiceError
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
    if accepted:
        rules.check_not_flagged(version.item.number, _flags(session, enrolment, version))
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
            attempt=enrolment.attempt,
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


def _flags(session: Session, enrolment: Enrolment, version: EvidenceVersion) -> list[EvidenceRule]:
    """The version's rules of evidence flagged and not yet resolved, in the usual order."""
    checks = session.scalars(
        select(EvidenceCheck).where(
            EvidenceCheck.enrolment_id == enrolment.id, EvidenceCheck.version_id == version.id
        )
    )
    flagged = {check.rule for check in checks if check.blocks}
    return [rule for rule in EvidenceRule if rule in flagged]


def accept_learner_mappings(
    session: Session, *, actor: User, view: ReviewView, targets: Iterable[Target]
) -> int:
    """Accept every undecided learner mapping to these targets, one decision each, but those of
    items with an unresolved flag; returns how many were accepted."""
    count = 0
    for target in targets:
        for submitted in view.items:
            if view.flags(submitted.version):
                continue
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


def decide_item(
    session: Session,
    *,
    actor: User,
    view: ReviewView,
    version: EvidenceVersion,
    flagged: Collection[EvidenceRule],
    notes: Mapping[EvidenceRule, str],
    seen: Mapping[EvidenceRule, int],
    accepted: Mapping[int, bool],
    judge_accepted: bool = False,
) -> int:
    """One decision per item, in one save: every rule of evidence confirmed unless flagged (a
    flag needs its note), and each of the learner's mappings accepted or rejected (``accepted``
    by target id). Each part goes through its own command, so the rules and the audit events
    are theirs; what is already recorded as chosen is left alone. With ``judge_accepted``, a
    criterion accepted here whose accepted evidence all passed the rules, and that this attempt
    has not judged yet, is judged satisfactory too. How many were recorded."""
    enrolment = view.enrolment
    recorded = 0
    for rule in EvidenceRule:
        confirmed = rule not in flagged
        note = notes.get(rule, "").strip()
        existing = view.checks.get((version.id, rule))
        if existing is not None and existing.confirmed == confirmed and existing.note == note:
            continue
        view.checks[(version.id, rule)] = check_evidence(
            session,
            actor=actor,
            enrolment=enrolment,
            version=version,
            rule=rule,
            confirmed=confirmed,
            note=note,
            seen_version=seen.get(rule, 0),
        )
        recorded += 1
    session.flush()
    mapped = {m.target_id for m in version.mappings}
    for target_id, accept in accepted.items():
        target = session.get(Target, target_id)
        if target is None or target_id not in mapped:
            raise ServiceError(f"E{version.item.number} was not mapped by the learner to that.")
        status = view.mapping(version, target)
        if status == ("accepted" if accept else "rejected"):
            continue
        decide_mapping(
            session,
            actor=actor,
            enrolment=enrolment,
            version=version,
            target=target,
            accepted=accept,
        )
        recorded += 1
    if judge_accepted:
        session.flush()
        now = review_view(session, enrolment)
        for target_id in (t for t, accept in accepted.items() if accept):
            target = session.get(Target, target_id)
            standing = now.judgements.get(target_id)
            if target is None or now.is_gap(target) or now.leans_on_flags(target):
                continue
            if standing is not None and standing.attempt == enrolment.attempt:
                continue
            items = ", ".join(f"E{s.item.number}" for s in now.accepted_for(target))
            judge(
                session,
                actor=actor,
                view=now,
                target=target,
                finding=Finding.SATISFACTORY,
                comment=f"Accepted evidence: {items}.",
                seen_version=0,
            )
            recorded += 1
    return recorded


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
    existing = _check(session, enrolment, version, rule)
    check_fresh(existing, seen_version, f"the {rule.label.lower()} check of E{version.item.number}")
    was_flagged = existing is not None and not existing.confirmed
    note = rules.checked_note(rule, confirmed, note, was_flagged=was_flagged)
    before = rules.check_payload(existing.confirmed, existing.note) if existing else None
    if existing is None:
        existing = EvidenceCheck(
            enrolment_id=enrolment.id,
            attempt=enrolment.attempt,
            version_id=version.id,
            rule=rule,
            assessor_id=actor.id,
        )
        session.add(existing)
    existing.confirmed = confirmed
    existing.note = note
    existing.override_reason = None  # a new finding on the rule: any override was of the old one
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


def _check(
    session: Session, enrolment: Enrolment, version: EvidenceVersion, rule: EvidenceRule
) -> EvidenceCheck | None:
    return session.scalar(
        select(EvidenceCheck).where(
            EvidenceCheck.enrolment_id == enrolment.id,
            EvidenceCheck.version_id == version.id,
            EvidenceCheck.rule == rule,
        )
    )


def override_flag(
    session: Session,
    *,
    actor: User,
    enrolment: Enrolment,
    version: EvidenceVersion,
    rule: EvidenceRule,
    reason: str,
    seen_version: int,
) -> EvidenceCheck:
    """Go past a flag with the reason why: the flag stands, and the decisions that lean on the
    item may be made."""
    check_state(Action.OVERRIDE_FLAG, enrolment)
    version_of(enrolment, version)
    check = _check(session, enrolment, version, rule)
    check_fresh(check, seen_version, f"the {rule.label.lower()} check of E{version.item.number}")
    flagged_now = check is not None and not check.confirmed
    reason = rules.override_reason(rule, flagged_now=flagged_now, reason=reason)
    assert check is not None
    before = rules.override_payload(check.note, check.override_reason)
    check.override_reason = reason
    check.assessor_id = actor.id
    check.recorded_at = utcnow()
    audit(
        session,
        actor,
        enrolment,
        "evidence.flag_overridden",
        rules.evidence_subject(version.item.number, version.version, rule.value),
        before,
        rules.override_payload(check.note, reason),
    )
    session.flush()
    return check


def reject_item_mappings(
    session: Session, *, actor: User, view: ReviewView, version: EvidenceVersion, note: str
) -> int:
    """Reject every mapping of an item to the unit (the learner's, and any accepted), so that
    nothing leans on it; returns how many were rejected."""
    count = 0
    for target in view.targets:
        if view.mapping(version, target) in ("pending", "accepted"):
            by_learner = (version.id, target.id) in view.learner_notes
            source = MappingSource.LEARNER if by_learner else MappingSource.ASSESSOR
            _set_decision(session, actor, view.enrolment, version, target, source, False, note)
            count += 1
    if not count:
        raise ServiceError(f"E{version.item.number} has no mapping left to reject.")
    return count


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
    needs = check_authorised(session, actor, view.unit.release.unit.code)
    target_of(enrolment, target)
    comment = rules.judged_comment(
        target.ref,
        finding,
        comment,
        is_gap=view.is_gap(target),
        leans_on=view.leans_on_flags(target),
    )
    # A judgement of an earlier attempt stands on the page until this attempt judges anew.
    existing = session.scalar(
        select(Judgement).where(
            Judgement.enrolment_id == enrolment.id,
            Judgement.target_id == target.id,
            Judgement.attempt == enrolment.attempt,
        )
    )
    check_fresh(existing, seen_version, f"the judgement of {target.ref}")
    before = rules.judgement_payload(existing.finding, existing.comment) if existing else None
    if existing is None:
        existing = Judgement(
            enrolment_id=enrolment.id,
            attempt=enrolment.attempt,
            target_id=target.id,
            assessor_id=actor.id,
        )
        session.add(existing)
    existing.finding = finding
    existing.comment = comment
    existing.assessor_id = actor.id
    existing.submission_id = latest_submission(enrolment).id
    existing.recorded_at = utcnow()
    # Judged again: a countersignature of the earlier finding does not carry over.
    existing.countersign_needed = needs
    existing.countersigned_by_id = existing.countersigned_at = None
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


@dataclass(frozen=True)
class SectionResult:
    """What a section's bulk action did, and what it left for the assessor and why."""

    judged: int
    #: Items whose mappings were not accepted because of an unresolved flag: "E3 (sufficient)".
    flagged_items: list[str]
    #: Targets not judged because their accepted evidence carries an unresolved flag.
    leaning_targets: list[str]


def judge_section_satisfactory(
    session: Session, *, actor: User, view: ReviewView, section: MatrixSection, comment: str = ""
) -> SectionResult:
    """Accept the learner's mappings and judge satisfactory every target of a section (an
    element, or an evidence list) that has evidence; each target still gets its own judgement
    and audit event. Targets without evidence are left for the assessor, and so is anything
    that leans on an item with an unresolved flag: the result says which."""
    targets = [t for t in section.targets if t.judged_alone]
    flagged_items = [
        rules.flagged(s.item.number, view.flags(s.version))
        for s in view.items
        if view.flags(s.version) and any(view.mapping(s.version, t) == "pending" for t in targets)
    ]
    accept_learner_mappings(session, actor=actor, view=view, targets=targets)
    refreshed = review_view(session, view.enrolment)
    count, leaning = 0, []
    for target in targets:
        if refreshed.is_gap(target):
            continue
        earlier = refreshed.judgements.get(target.id)
        if earlier is not None and earlier.attempt == view.enrolment.attempt:
            continue  # a judgement already made, either way, is the assessor's to change
        if refreshed.leans_on_flags(target):
            leaning.append(target.ref)
            continue
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
    return SectionResult(count, flagged_items, leaning)
