"""Closing gaps: a sign-off by another method (conversation, observation, a third party's
report, further evidence), its correction after the outcome, or a return to the learner.

Each takes the acting assessor, is refused in words outside the states the policy allows, and
writes its audit event in the caller's transaction. What a sign-off or a return needs and
records is in ``rules``.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Mapping, Sequence
from dataclasses import fields
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from portfolio.assessment import decisions, rules
from portfolio.assessment.entries import audit, claim, latest_submission, target_of
from portfolio.assessment.review import ReviewView
from portfolio.assessment.rules import Conversation
from portfolio.auth.permissions import Action, check_state
from portfolio.clock import today
from portfolio.credentials.services import check_authorised
from portfolio.enrolments.workflow import transition
from portfolio.errors import ServiceError
from portfolio.files.uploads import NewFile
from portfolio.models import (
    AssessmentState,
    Enrolment,
    Finding,
    GapFeedback,
    GapMethod,
    GapSignoff,
    Role,
    SignoffFile,
    Submission,
    Target,
    User,
)
from portfolio.models.base import utcnow


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
    """Close one gap by another method, with the record an auditor will ask for."""
    [signoff] = sign_off_gaps(
        session,
        actor=actor,
        view=view,
        targets=[target],
        method=method,
        held_on=held_on,
        notes=notes,
        questions=questions,
        files=files,
    )
    return signoff


def sign_off_gaps(
    session: Session,
    *,
    actor: User,
    view: ReviewView,
    targets: Sequence[Target],
    method: GapMethod,
    held_on: date,
    notes: str,
    questions: Sequence[Conversation] = (),
    files: Sequence[NewFile] = (),
    judge_satisfactory: bool = False,
    checklist: Mapping[str, Any] | None = None,
) -> list[GapSignoff]:
    """Close several gaps with one record (one conversation or observation covering them):
    every target is checked before anything is written; each gets its sign-off row and its
    own audit event, naming the others the record covers, and with ``judge_satisfactory``
    its judgement too (through ``decisions.judge``, one judgement and event per target).
    ``checklist`` is an observation checklist as it was filled in (``templates``)."""
    enrolment = view.enrolment
    check_state(Action.SIGN_OFF, enrolment)
    needs = check_authorised(session, actor, view.unit.release.unit.code)
    chosen = list({target.id: target for target in targets}.values())
    if not chosen:
        raise ServiceError("Choose at least one criterion this record covers.", "targets")
    for target in chosen:
        target_of(enrolment, target)
        rules.check_gap(target.ref, is_gap=view.is_gap(target))
    key = secrets.token_hex(8)
    covers = [target.ref for target in chosen]
    claim(session, enrolment)
    signoffs = []
    for target in chosen:
        signoff = _signoff(actor, enrolment, target, method, held_on, notes, questions, checklist)
        signoff.record_key = key
        signoff.countersign_needed = needs
        signoff.files = [SignoffFile(uploaded_by_id=actor.id, **vars(f)) for f in files]
        session.add(signoff)
        signoffs.append(signoff)
    session.flush()
    for target, signoff in zip(chosen, signoffs, strict=True):
        audit(
            session,
            actor,
            enrolment,
            "gap.signed_off",
            rules.target_subject(target.ref),
            None,
            {**_signed(signoff), **({"covers": covers} if len(covers) > 1 else {})},
        )
        view.signoffs[target.id] = signoff
    if judge_satisfactory:
        for target in chosen:
            standing = view.judgements.get(target.id)
            seen = (
                standing.lock_version if standing and standing.attempt == enrolment.attempt else 0
            )
            decisions.judge(
                session,
                actor=actor,
                view=view,
                target=target,
                finding=Finding.SATISFACTORY,
                comment=f"Signed off: {method.label.lower()}, {held_on:%d/%m/%Y}.",
                seen_version=seen,
            )
    return signoffs


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
    """After the outcome: a new sign-off replaces the old one; both stay on record. A record
    that covered several criteria is corrected as one: each of them gets the new record.

    The old sign-off's files listed in ``keep_files`` go with the new one, and ``files`` are
    added to them; the old sign-off keeps all of its own.
    """
    enrolment = view.enrolment
    check_state(Action.CORRECT_SIGNOFF, enrolment)
    needs = check_authorised(session, actor, view.unit.release.unit.code)
    target_of(enrolment, target)
    old = view.signoffs.get(target.id)
    if old is None:
        raise ServiceError(f"{target.ref} has no sign-off to correct.")
    kept_files = [
        {
            "uploaded_by_id": f.uploaded_by_id,
            "uploaded_at": f.uploaded_at,
            **{spec.name: getattr(f, spec.name) for spec in fields(NewFile)},
        }
        for f in old.files
        if f.id in keep_files
    ]

    def files_of_the_correction() -> list[SignoffFile]:
        return [SignoffFile(**kept) for kept in kept_files] + [
            SignoffFile(uploaded_by_id=actor.id, **vars(f)) for f in files
        ]

    # What was seen stays as it was ticked.
    new = _signoff(actor, enrolment, target, method, held_on, notes, questions, old.checklist)
    new.files = files_of_the_correction()
    if _signed(new) == _signed(old):
        raise ServiceError(
            f"That is the sign-off of {target.ref} as recorded: change what was wrong in it."
        )
    correction = rules.correction_reason(reason)
    record = [(view.unit.by_id[other.target_id], other) for other in record_of(view, old)]
    key = secrets.token_hex(8)
    claim(session, enrolment)
    replacements = []
    for covered, previous in record:
        if covered.id == target.id:
            replacement = new
        else:
            replacement = _signoff(
                actor, enrolment, covered, method, held_on, notes, questions, old.checklist
            )
            replacement.files = files_of_the_correction()
        replacement.record_key = key
        replacement.countersign_needed = needs
        replacement.replaces_id, replacement.correction_reason = previous.id, correction
        session.add(replacement)
        replacements.append((covered, previous, replacement))
    session.flush()
    for covered, previous, replacement in replacements:
        audit(
            session,
            actor,
            enrolment,
            "gap.signoff_corrected",
            rules.target_subject(covered.ref),
            _signed(previous),
            {**_signed(replacement), "reason": replacement.correction_reason},
        )
        view.signoffs[covered.id] = replacement
    return new


def record_of(view: ReviewView, signoff: GapSignoff) -> list[GapSignoff]:
    """The standing sign-offs of the record ``signoff`` belongs to (itself alone if it covers
    one criterion), in the unit's order: what a correction of it replaces."""
    if signoff.record_key is None:
        return [signoff]
    same = [s for s in view.signoffs.values() if s.record_key == signoff.record_key]
    return sorted(same, key=lambda s: view.unit.by_id[s.target_id].position)


def _signoff(
    actor: User,
    enrolment: Enrolment,
    target: Target,
    method: GapMethod,
    held_on: date,
    notes: str,
    questions: Sequence[Conversation],
    checklist: Mapping[str, Any] | None = None,
) -> GapSignoff:
    """A sign-off checked for what an auditor needs of it (not yet added to the session)."""
    notes, asked = rules.signoff_record(
        method, held_on, notes, questions, today=today(), checklist=bool(checklist)
    )
    return GapSignoff(
        checklist=dict(checklist) if checklist else None,
        enrolment_id=enrolment.id,
        attempt=enrolment.attempt,
        target_id=target.id,
        method=method,
        held_on=held_on,
        notes=notes,
        questions=asked,
        assessor_id=actor.id,
    )


def _signed(signoff: GapSignoff) -> dict[str, object]:
    """What a sign-off records, as the audit log keeps it."""
    return rules.signoff_payload(
        signoff.method,
        signoff.held_on,
        signoff.notes,
        signoff.questions,
        ((f.display_name, f.sha256) for f in signoff.files),
        signoff.checklist,
    )


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
    wanted = rules.return_feedback(feedback)
    targets = {t.id: t for t in view.targets}
    if set(wanted) - set(targets):
        raise ServiceError("That criterion is not in this learner's unit release.")
    submission = latest_submission(enrolment)
    for target_id, text in wanted.items():
        session.add(GapFeedback(submission_id=submission.id, target_id=target_id, feedback=text))
    submission.returned_at = utcnow()
    submission.returned_by_id = actor.id
    submission.return_feedback = overall.strip()
    transition(
        session,
        enrolment,
        AssessmentState.RETURNED,
        actor=actor,
        role=Role.ASSESSOR,
        reason=overall.strip() or None,
    )
    audit(
        session,
        actor,
        enrolment,
        "submission.returned",
        f"submission:{submission.round}",
        None,
        rules.return_payload(
            submission.return_feedback, {targets[tid].ref: text for tid, text in wanted.items()}
        ),
    )
    return submission
