"""The assessment state machine: every change of an enrolment's state goes through here."""

from __future__ import annotations

from sqlalchemy.orm import Session

from portfolio.audit.log import record
from portfolio.errors import ServiceError
from portfolio.models import AssessmentState, Enrolment, Role, User

S = AssessmentState

ALLOWED: dict[AssessmentState, set[AssessmentState]] = {
    S.DRAFT: {S.SUBMITTED},
    S.SUBMITTED: {S.IN_REVIEW},
    S.IN_REVIEW: {S.RETURNED, S.DECIDED},
    S.RETURNED: {S.RESUBMITTED},
    S.RESUBMITTED: {S.IN_REVIEW},
    S.DECIDED: set(),
}


class IllegalTransition(ServiceError):
    """A state change the workflow does not allow; nothing was changed."""


def ensure_state(enrolment: Enrolment, *allowed: AssessmentState, action: str) -> None:
    """Refuse ``action`` unless the enrolment is in one of the ``allowed`` states."""
    if enrolment.state not in allowed:
        raise IllegalTransition(
            f"You cannot {action} while the portfolio is {enrolment.state.label.lower()}."
        )


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
    if to not in ALLOWED[before]:
        raise IllegalTransition(
            f"A portfolio that is {before.label.lower()} cannot become {to.label.lower()}."
        )
    enrolment.state = to
    after: dict[str, object] = {"state": to}
    if reason:
        after["reason"] = reason
    record(
        session,
        actor=actor,
        role=role,
        action="enrolment.state",
        subject=f"enrolment:{enrolment.id}",
        enrolment=enrolment,
        before={"state": before},
        after=after,
    )
    return before
