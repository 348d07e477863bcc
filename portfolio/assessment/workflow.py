"""The assessment state machine: every change of an enrolment's state goes through here."""

from __future__ import annotations

from portfolio.auth.services import ServiceError
from portfolio.models import AssessmentState, Enrolment

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


def transition(enrolment: Enrolment, to: AssessmentState) -> AssessmentState:
    """Move the enrolment to ``to`` if the workflow allows it; returns the state it left."""
    before = enrolment.state
    if to not in ALLOWED[before]:
        raise IllegalTransition(
            f"A portfolio that is {before.label.lower()} cannot become {to.label.lower()}."
        )
    enrolment.state = to
    return before
