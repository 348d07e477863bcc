"""Reviews past their due date, told by email once a round: each assessor of the reviews they
hold, and every admin of all of them, in one email each per run (``flask reviews overdue``,
daily from cron). A review is due ``REVIEW_DUE_WORKING_DAYS`` working days after its
submission, as the review queue counts it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, selectinload

from portfolio.assessment.queue import (
    add_working_days,
    first_not_overdue,
    latest_submissions,
    waiting_for_review,
)
from portfolio.auth.services import active_admins
from portfolio.clock import local_date
from portfolio.mail.outbox import mail_on, public_url, write
from portfolio.models import Enrolment, Role, Submission, UnitRelease, User
from portfolio.models.base import utcnow


def newly_overdue(
    session: Session, *, today: date, due_days: int, zone: ZoneInfo
) -> list[Submission]:
    """The latest submission of each enrolment still waiting for its review, past its due
    date, whose people have not been told yet; oldest first."""
    cutoff = datetime.combine(first_not_overdue(today, due_days), time(), zone).astimezone(UTC)
    return list(
        session.scalars(
            latest_submissions(waiting_for_review())
            .where(Submission.submitted_at < cutoff, Submission.overdue_notice_at.is_(None))
            .options(
                selectinload(Submission.enrolment).selectinload(Enrolment.learner),
                selectinload(Submission.enrolment).selectinload(Enrolment.assessor),
                selectinload(Submission.enrolment)
                .selectinload(Enrolment.unit_release)
                .selectinload(UnitRelease.unit),
            )
        )
    )


def tell_overdue(session: Session, *, today: date, due_days: int, zone: ZoneInfo) -> int:
    """Email the assessors and admins of reviews newly past due; returns how many reviews.
    Nothing is marked told while mail is off, so turning it on tells of them then."""
    if not mail_on():
        return 0
    late = newly_overdue(session, today=today, due_days=due_days, zone=zone)
    if not late:
        return 0
    admins = active_admins(session)
    rows: list[dict[str, object]] = [
        {
            "learner": s.enrolment.learner.name,
            "unit": s.enrolment.unit_release.unit.code,
            "assessor": s.enrolment.assessor.name if s.enrolment.assessor else "nobody yet",
            "due_on": add_working_days(local_date(s.submitted_at), due_days),
            "link": public_url(f"/enrolments/{s.enrolment_id}/review"),
            "assessor_id": s.enrolment.assessor_id,
        }
        for s in late
    ]
    # Admins hear of every late review; an assessor who is not an admin, of their own.
    lists: dict[int, tuple[User, list[dict[str, object]]]] = {a.id: (a, rows) for a in admins}
    for row, submission in zip(rows, late, strict=True):
        assessor = submission.enrolment.assessor
        if assessor is not None and assessor.id not in {a.id for a in admins}:
            lists.setdefault(assessor.id, (assessor, []))[1].append(row)
    for person, listed in lists.values():
        admin = person.has_role(Role.ADMIN)
        count = len(listed)
        write(
            session,
            to=person,
            kind="review.overdue",
            subject=f"{count} review{'s are' if count != 1 else ' is'} past due",
            link=public_url("/admin/enrolments" if admin else "/review"),
            context={"rows": listed, "admin": admin},
        )
    now = utcnow()
    for submission in late:
        submission.overdue_notice_at = now
    session.flush()
    return len(late)
