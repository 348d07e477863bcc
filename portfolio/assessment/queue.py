"""The assessor's queue: the submissions waiting for them or in their review, oldest first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session

from portfolio.auth.permissions import Action, states_of
from portfolio.enrolments.progress import Coverage, coverage
from portfolio.enrolments.services import enrolments_by_id
from portfolio.models import Enrolment, Submission, User


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
