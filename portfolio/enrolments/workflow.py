"""The assessment state machine: every change of an enrolment's state goes through here.

``ALLOWED`` is the one table of moves; ``move`` checks a move and words its audit event, and
``transition`` makes it. The bulk generator takes ``move`` too, so both write the same change.
Which state each action is allowed in is the policy's (``portfolio.auth.permissions``).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from portfolio.audit.log import record
from portfolio.enrolments import notices
from portfolio.errors import IllegalTransition
from portfolio.models import AssessmentState, Enrolment, Role, User

S = AssessmentState

#: Withdrawn and credit transfer close an enrolment from any open state: nothing follows them.
CLOSING = {S.WITHDRAWN, S.CREDIT_TRANSFER}

ALLOWED: dict[AssessmentState, set[AssessmentState]] = {
    S.DRAFT: {S.SUBMITTED, *CLOSING},
    S.SUBMITTED: {S.IN_REVIEW, *CLOSING},
    S.IN_REVIEW: {S.RETURNED, S.DECIDED, *CLOSING},
    S.RETURNED: {S.RESUBMITTED, *CLOSING},
    S.RESUBMITTED: {S.IN_REVIEW, *CLOSING},
    # Decided Not yet competent: another attempt, or withdrawn (a credit transfer would come
    # before a judgement, not after one).
    S.DECIDED: {S.REASSESSMENT, S.WITHDRAWN},
    S.REASSESSMENT: {S.RESUBMITTED, *CLOSING},
    S.WITHDRAWN: set(),
    S.CREDIT_TRANSFER: set(),
}

STATE_EVENT = "enrolment.state"


def handed_in(round_number: int) -> AssessmentState:
    """The state a submission of this round moves the portfolio to."""
    return S.SUBMITTED if round_number == 1 else S.RESUBMITTED


def move(
    before: AssessmentState, to: AssessmentState, reason: str | None = None
) -> tuple[dict[str, object], dict[str, object]]:
    """The audit event's before and after of a move the workflow allows; refused otherwise."""
    if to not in ALLOWED[before]:
        raise IllegalTransition(
            f"A portfolio that is {before.label.lower()} cannot become {to.label.lower()}."
        )
    after: dict[str, object] = {"state": to}
    if reason:
        after["reason"] = reason
    return {"state": before}, after


def transition(
    session: Session,
    enrolment: Enrolment,
    to: AssessmentState,
    *,
    actor: User | None,
    role: Role | None,
    reason: str | None = None,
) -> AssessmentState:
    """Move the enrolment to ``to`` if the workflow allows it, with its audit event.

    The one place an enrolment's state changes; returns the state it left.
    """
    before = enrolment.state
    event_before, event_after = move(before, to, reason)
    enrolment.state = to
    record(
        session,
        actor=actor,
        role=role,
        action=STATE_EVENT,
        subject=f"enrolment:{enrolment.id}",
        enrolment=enrolment,
        before=event_before,
        after=event_after,
    )
    notices.state_changed(session, enrolment, to)
    return before
