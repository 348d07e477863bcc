"""Another attempt after Not yet competent: the assessor (or an admin) opens it with a plan.

The learner then works on the portfolio again, with the criteria judged not yet satisfactory
(and any left without evidence) in front of them; the earlier attempt's submissions,
judgements and outcome stay on record, frozen.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from portfolio.assessment import rules
from portfolio.assessment.review import ReviewView
from portfolio.audit.log import record
from portfolio.auth.permissions import Action, check_state
from portfolio.clock import today
from portfolio.enrolments.workflow import transition
from portfolio.models import AssessmentState, Reassessment, Role, User


def open_reassessment(
    session: Session,
    *,
    actor: User,
    view: ReviewView,
    plan: str,
    due_on: date | None,
    allowed: int,
) -> Reassessment:
    """Open the next attempt, within the ``allowed`` number, with what the learner must show."""
    enrolment = view.enrolment
    check_state(Action.OPEN_REASSESSMENT, enrolment)
    # What was made under direction is countersigned before the next attempt builds on it.
    rules.check_countersigned(
        [*view.awaiting_countersign, *(["the outcome"] if view.outcome_awaits else [])]
    )
    plan = rules.reassessment_plan(
        result=view.outcome.result if view.outcome else None,
        attempt=enrolment.attempt,
        allowed=allowed,
        plan=plan,
        due_on=due_on,
        today=today(),
    )
    assert due_on is not None
    criteria = [b.what for b in view.achievement_blockers() if b.target is not None]
    enrolment.attempt += 1
    enrolment.activity_end = None  # in progress again
    reassessment = Reassessment(
        enrolment_id=enrolment.id,
        attempt=enrolment.attempt,
        plan=plan,
        due_on=due_on,
        criteria=criteria,
        opened_by_id=actor.id,
    )
    session.add(reassessment)
    role = Role.ASSESSOR if enrolment.assessor_id == actor.id else Role.ADMIN
    transition(session, enrolment, AssessmentState.REASSESSMENT, actor=actor, role=role)
    record(
        session,
        actor=actor,
        role=role,
        action="reassessment.opened",
        subject=f"attempt:{enrolment.attempt}",
        enrolment=enrolment,
        after=rules.reassessment_payload(enrolment.attempt, plan, due_on, criteria),
    )
    session.flush()
    return reassessment
