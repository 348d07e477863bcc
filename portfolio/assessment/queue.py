"""The assessor's queue: the submissions waiting for them or in their review, oldest first,
each due a number of working days after it was handed in (``REVIEW_DUE_WORKING_DAYS``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from portfolio.auth.permissions import Action, states_of
from portfolio.clock import local_date
from portfolio.enrolments.progress import Coverage, coverage
from portfolio.enrolments.services import enrolments_by_id
from portfolio.models import Enrolment, Submission, Unit, UnitOutcome, UnitRelease, User


@dataclass
class QueueRow:
    enrolment: Enrolment
    submission: Submission
    coverage: Coverage
    due_on: date
    #: Days past the due date (0 until it has passed).
    overdue_by: int


@dataclass(frozen=True)
class QueueFilter:
    unit_code: str | None = None
    #: Part of the learner's name, email or student ID.
    learner: str | None = None


@dataclass(frozen=True)
class QueueCounts:
    waiting: int
    overdue: int
    decided_this_month: int


def add_working_days(start: date, days: int) -> date:
    """``days`` working days (Monday to Friday) after ``start``."""
    day = start
    while days > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


def first_not_overdue(today: date, days: int) -> date:
    """The earliest hand-in date whose due date is not yet past: anything handed in before it
    is overdue (due dates grow with the hand-in date, so the search is short)."""
    day = today
    while add_working_days(day - timedelta(days=1), days) >= today:
        day -= timedelta(days=1)
    return day


def _waiting(assessor: User) -> ColumnElement[bool]:
    return and_(Enrolment.assessor_id == assessor.id, waiting_for_review())


def latest_submissions(waiting: ColumnElement[bool]) -> Select[tuple[Submission]]:
    """The latest submission of each enrolment ``waiting`` picks, oldest first. Only the
    rounds of those enrolments are read, so the work stays with their number rather than
    every submission the RTO has ever had."""
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


def waiting_for_review() -> ColumnElement[bool]:
    """Enrolments whose review is still to be started or finished, whoever assesses them.

    The states are written into the statement: sent as parameters, they keep PostgreSQL from
    settling on one plan for the prepared statement (priced for any states at all), so it
    would plan the queue's statements again at every request."""
    # In the same order in every process, so each writes the same statement.
    waiting = sorted(states_of(Action.START_REVIEW, Action.JUDGE))
    return Enrolment.state.in_(
        bindparam("waiting", waiting, expanding=True, literal_execute=True, unique=True)
    )


def review_queue_query(
    assessor: User, chosen: QueueFilter = QueueFilter()
) -> Select[tuple[Submission]]:
    """The latest submission of each enrolment waiting for this assessor, oldest first."""
    query = latest_submissions(_waiting(assessor))
    if chosen.unit_code:
        query = (
            query.join(UnitRelease, UnitRelease.id == Enrolment.unit_release_id)
            .join(Unit, Unit.id == UnitRelease.unit_id)
            .where(Unit.code == chosen.unit_code)
        )
    if chosen.learner and chosen.learner.strip():
        text = f"%{chosen.learner.strip().lower()}%"
        query = query.join(User, User.id == Enrolment.learner_id).where(
            or_(
                func.lower(User.name).like(text),
                func.lower(User.email).like(text),
                func.lower(func.coalesce(User.student_id, "")).like(text),
            )
        )
    return query


def queue_units(session: Session, assessor: User) -> list[str]:
    """The codes of the units with something waiting for this assessor (the filter's choices)."""
    return list(
        session.scalars(
            select(Unit.code)
            .join(UnitRelease, UnitRelease.unit_id == Unit.id)
            .join(Enrolment, Enrolment.unit_release_id == UnitRelease.id)
            .where(_waiting(assessor))
            .distinct()
            .order_by(Unit.code)
        )
    )


def queue_counts(
    session: Session, assessor: User, *, today: date, due_days: int, zone: ZoneInfo
) -> QueueCounts:
    """Waiting, overdue (all of the queue, whatever the filter) and decided this month: two
    queries."""
    waiting = review_queue_query(assessor).subquery()
    cutoff = datetime.combine(first_not_overdue(today, due_days), time(), zone).astimezone(UTC)
    total, overdue = session.execute(
        select(
            func.count(),
            func.count().filter(waiting.c.submitted_at < cutoff),
        ).select_from(waiting)
    ).one()
    decided = session.scalar(
        select(func.count()).where(
            UnitOutcome.assessor_id == assessor.id,
            UnitOutcome.replaces_id.is_(None),
            UnitOutcome.decided_on >= today.replace(day=1),
        )
    )
    return QueueCounts(total, overdue, decided or 0)


#: The queue's age profile: days since the hand-in, up to each bound (the last has none).
AGE_BANDS = ((5, "0–5 days"), (10, "6–10 days"), (20, "11–20 days"), (None, "over 20 days"))


@dataclass(frozen=True)
class Waiting:
    """One assessor's queue in numbers: waiting, overdue, and by days since the hand-in."""

    assessor_id: int | None
    waiting: int
    overdue: int
    ages: tuple[int, ...]


def _waiting_counts(picked: ColumnElement[bool], *, by_unit: bool) -> Select[Any]:
    """The statement of ``waiting_by_assessor`` for the enrolments ``picked``; the moments it
    counts from are the parameters ``cutoff`` (not yet overdue from) and ``older_N`` (the
    hand-in of age band N at the latest), and ``unit_code`` with ``by_unit``."""
    waiting = latest_submissions(picked)
    if by_unit:
        waiting = (
            waiting.join(UnitRelease, UnitRelease.id == Enrolment.unit_release_id)
            .join(Unit, Unit.id == UnitRelease.unit_id)
            .where(Unit.code == bindparam("unit_code"))
        )
    rows = waiting.with_only_columns(Enrolment.assessor_id, Submission.submitted_at).subquery()
    bands = []
    newer_than = None
    for n, (days, _) in enumerate(AGE_BANDS):
        older = bindparam(f"older_{n}") if days is not None else None
        condition = and_(
            *([rows.c.submitted_at < newer_than] if newer_than is not None else []),
            *([rows.c.submitted_at >= older] if older is not None else []),
        )
        bands.append(func.count().filter(condition))
        newer_than = older
    return (
        select(
            rows.c.assessor_id,
            func.count(),
            func.count().filter(rows.c.submitted_at < bindparam("cutoff")),
            *bands,
        )
        .group_by(rows.c.assessor_id)
        .order_by(rows.c.assessor_id)
    )


@cache
def _waiting_counts_of(*, by_assessor: bool, by_unit: bool) -> Select[Any]:
    """``_waiting_counts`` built once for each shape (it is costly to build on every page):
    every assessor's or one's (the parameter ``assessor_id``)."""
    picked = waiting_for_review()
    if by_assessor:
        picked = and_(picked, Enrolment.assessor_id == bindparam("assessor_id"))
    return _waiting_counts(picked, by_unit=by_unit)


def waiting_by_assessor(
    session: Session,
    *,
    today: date,
    due_days: int,
    zone: ZoneInfo,
    assessor_id: int | None = None,
    unit_code: str | None = None,
    learners: Select[tuple[int]] | None = None,
) -> list[Waiting]:
    """Every assessor's queue (the review queue's own rows) counted in the database: one
    query, whatever the number of submissions."""
    # The assessor and the learners narrow the enrolments whose rounds are read, not only the
    # rows counted: one assessor's queue reads their enrolments, not the whole RTO's.
    if learners is None:
        query = _waiting_counts_of(by_assessor=assessor_id is not None, by_unit=bool(unit_code))
    else:
        picked = and_(waiting_for_review(), Enrolment.learner_id.in_(learners))
        if assessor_id is not None:
            picked = and_(picked, Enrolment.assessor_id == bindparam("assessor_id"))
        query = _waiting_counts(picked, by_unit=bool(unit_code))

    def since(day: date) -> datetime:
        return datetime.combine(day, time(), zone).astimezone(UTC)

    moments: dict[str, object] = {"cutoff": since(first_not_overdue(today, due_days))}
    for n, (days, _) in enumerate(AGE_BANDS):
        if days is not None:
            moments[f"older_{n}"] = since(today - timedelta(days=days))
    if assessor_id is not None:
        moments["assessor_id"] = assessor_id
    if unit_code:
        moments["unit_code"] = unit_code
    return [
        Waiting(who, total, overdue, tuple(ages))
        for who, total, overdue, *ages in session.execute(query, moments)
    ]


def queue_rows(
    session: Session, submissions: Sequence[Submission], *, today: date, due_days: int
) -> list[QueueRow]:
    """The queue page's rows with learner, unit, coverage and due date, in a fixed number of
    queries."""
    if not submissions:
        return []
    enrolments = enrolments_by_id(session, (s.enrolment_id for s in submissions))
    covered = coverage(session, list(enrolments.values()))
    rows = []
    for s in submissions:
        due = add_working_days(local_date(s.submitted_at), due_days)
        late = max((today - due).days, 0)
        rows.append(QueueRow(enrolments[s.enrolment_id], s, covered[s.enrolment_id], due, late))
    return rows
