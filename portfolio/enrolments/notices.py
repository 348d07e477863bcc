"""Who hears of a change to an enrolment, by email: the assessor when a portfolio waits for
their review, the learner when it comes back, is decided, or another attempt opens. Called by
``workflow.transition``, the one place an enrolment's state changes, so no path is missed.

An email names the unit and the page, and for the assessor the learner: nothing the recipient
could not see in the app. Each person's choice of immediate or daily emails is the outbox's.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from portfolio.mail.outbox import mail_on, public_url, write
from portfolio.models import AssessmentState, Enrolment

S = AssessmentState
_TOLD = frozenset({S.SUBMITTED, S.RESUBMITTED, S.RETURNED, S.DECIDED, S.REASSESSMENT})


def state_changed(session: Session, enrolment: Enrolment, to: AssessmentState) -> None:
    """Email whoever the new state waits for, or tells of."""
    if not mail_on() or to not in _TOLD:
        return
    release = enrolment.unit_release
    unit = release.unit
    what = f"{unit.code} {release.title}"
    learner = enrolment.learner
    if to in (S.SUBMITTED, S.RESUBMITTED) and enrolment.assessor is not None:
        again = to is S.RESUBMITTED
        write(
            session,
            to=enrolment.assessor,
            kind="submission.waiting",
            subject=f"{learner.name} {'resubmitted' if again else 'submitted'} {unit.code}",
            link=public_url(f"/enrolments/{enrolment.id}/review"),
            context={"learner": learner, "what": what, "again": again},
        )
    elif to in (S.RETURNED, S.DECIDED, S.REASSESSMENT):
        subjects = {
            S.RETURNED: f"Your {unit.code} portfolio is back with feedback",
            S.DECIDED: f"The outcome of {unit.code} is recorded",
            S.REASSESSMENT: f"Another attempt at {unit.code} is open",
        }
        write(
            session,
            to=learner,
            kind=f"enrolment.{to.value}",
            subject=subjects[to],
            link=public_url(f"/enrolments/{enrolment.id}"),
            context={"what": what, "enrolment": enrolment},
        )
