"""The unit's outcome with the assessor's declaration, and corrections once it is recorded.

Recording the outcome locks the enrolment: after it nothing is changed in place, and a
correction (of a judgement or of the outcome) is a new entry that replaces the old one, with
who, when and why. What an outcome needs and records is in ``rules``.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from portfolio.assessment import rules
from portfolio.assessment.entries import audit, claim, target_of
from portfolio.assessment.review import ReviewView
from portfolio.assessment.rules import OUTCOME_DECLARATION
from portfolio.auth.permissions import Action, check_state
from portfolio.clock import today
from portfolio.credentials.services import check_authorised
from portfolio.enrolments.workflow import transition
from portfolio.errors import ServiceError
from portfolio.models import (
    AssessmentState,
    Finding,
    Judgement,
    OutcomeResult,
    Role,
    Target,
    UnitOutcome,
    User,
)


def _achievable(view: ReviewView, result: OutcomeResult) -> None:
    rules.check_achievable(
        result,
        all_satisfactory=view.all_satisfactory,
        gaps=[t.ref for t in view.gaps],
        flagged_evidence=view.flagged_evidence,
    )


def record_outcome(
    session: Session,
    *,
    actor: User,
    view: ReviewView,
    result: OutcomeResult,
    declared: bool,
    signature: bytes | None = None,
) -> UnitOutcome:
    """The unit's result with the assessor's declaration (signed by drawing, where the RTO asks
    for it); the enrolment is then locked."""
    enrolment = view.enrolment
    check_state(Action.RECORD_OUTCOME, enrolment)
    needs = check_authorised(session, actor, view.unit.release.unit.code)
    rules.check_choice(result, is_rpl=enrolment.is_rpl)
    rules.check_judged([t.ref for t in view.unjudged])
    rules.check_countersigned(view.awaiting_countersign)
    _achievable(view, result)
    rules.check_declared(declared)
    outcome = UnitOutcome(
        countersign_needed=needs,
        enrolment_id=enrolment.id,
        attempt=enrolment.attempt,
        result=result,
        declaration=OUTCOME_DECLARATION,
        signature_png=signature,
        decided_on=today(),
        assessor_id=actor.id,
    )
    session.add(outcome)
    enrolment.activity_end = outcome.decided_on
    transition(session, enrolment, AssessmentState.DECIDED, actor=actor, role=Role.ASSESSOR)
    audit(
        session,
        actor,
        enrolment,
        "outcome.recorded",
        f"enrolment:{enrolment.id}",
        None,
        rules.outcome_payload(result, outcome.decided_on),
    )
    return outcome


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
    needs = check_authorised(session, actor, view.unit.release.unit.code)
    target_of(enrolment, target)
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
    claim(session, enrolment)
    new = Judgement(
        countersign_needed=needs,
        enrolment_id=enrolment.id,
        attempt=enrolment.attempt,
        target_id=target.id,
        submission_id=old.submission_id,
        finding=finding,
        comment=comment.strip(),
        assessor_id=actor.id,
        replaces_id=old.id,
        correction_reason=rules.correction_reason(reason),
    )
    session.add(new)
    audit(
        session,
        actor,
        enrolment,
        "judgement.corrected",
        rules.target_subject(target.ref),
        rules.judgement_payload(old.finding, old.comment),
        {**rules.judgement_payload(finding, new.comment), "reason": new.correction_reason},
    )
    return new


def correct_outcome(
    session: Session, *, actor: User, view: ReviewView, result: OutcomeResult, reason: str
) -> UnitOutcome:
    """After the outcome: a new outcome replaces the old one, with who, when and why."""
    enrolment = view.enrolment
    check_state(Action.CORRECT_OUTCOME, enrolment)
    needs = check_authorised(session, actor, view.unit.release.unit.code)
    old = view.outcome
    assert old is not None
    rules.check_choice(result, is_rpl=enrolment.is_rpl)
    rules.check_countersigned(view.awaiting_countersign)
    if result is old.result:
        raise ServiceError(f"The outcome is already {result.label}.", "result")
    _achievable(view, result)
    claim(session, enrolment)
    new = UnitOutcome(
        countersign_needed=needs,
        enrolment_id=enrolment.id,
        attempt=enrolment.attempt,
        result=result,
        declaration=OUTCOME_DECLARATION,
        decided_on=today(),
        assessor_id=actor.id,
        replaces_id=old.id,
        correction_reason=rules.correction_reason(reason),
    )
    session.add(new)
    enrolment.activity_end = new.decided_on
    audit(
        session,
        actor,
        enrolment,
        "outcome.corrected",
        f"enrolment:{enrolment.id}",
        {"result": old.result, "avetmiss": old.result.avetmiss_code},
        {"result": result, "avetmiss": result.avetmiss_code, "reason": new.correction_reason},
    )
    return new
