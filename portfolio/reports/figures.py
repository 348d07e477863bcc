"""The figures of the dashboards, counted in the database in a fixed number of queries
whatever the number of learners, each kept as a table: a title, its columns and rows (what the
page shows beside the chart, the CSV file and ``flask reports`` print), and how to draw it.

The enrolments are the outcomes register's (``register_tallies``) and the queue the review
queue's (``waiting_by_assessor``), so the numbers agree with both.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, bindparam, case, func, or_, select
from sqlalchemy.orm import Session

from portfolio.assessment.queue import AGE_BANDS, waiting_by_assessor
from portfolio.credentials.rules import EXPIRY_NOTICE_DAYS
from portfolio.credentials.services import expiring_soon
from portfolio.dialect import days_between, local_month_of, month_of
from portfolio.exports.register import Tally, register_tallies
from portfolio.models import (
    AssessmentState,
    CohortMember,
    Enrolment,
    EvidenceFile,
    EvidenceItem,
    EvidenceVersion,
    OutcomeResult,
    Role,
    Submission,
    Unit,
    UnitOutcome,
    UnitRelease,
    User,
    UserRole,
)
from portfolio.text import day
from portfolio.validation.services import plans

S = AssessmentState


@dataclass(frozen=True)
class Filters:
    """What the dashboard is narrowed to: a unit, an assessor, a period of decisions."""

    unit_code: str | None = None
    assessor_id: int | None = None
    decided_from: date | None = None
    decided_to: date | None = None
    cohort_id: int | None = None

    def learners(self) -> Select[tuple[int]] | None:
        """The cohort's learners (a query of their ids), when narrowed to one."""
        if self.cohort_id is None:
            return None
        return select(CohortMember.user_id).where(CohortMember.cohort_id == self.cohort_id)

    def query(self) -> dict[str, str]:
        """The filters as the page's address carries them (for links and downloads)."""
        found = {
            "unit": self.unit_code or "",
            "assessor": str(self.assessor_id or ""),
            "from": self.decided_from.isoformat() if self.decided_from else "",
            "to": self.decided_to.isoformat() if self.decided_to else "",
            "cohort": str(self.cohort_id or ""),
        }
        return {k: v for k, v in found.items() if v}


@dataclass
class Figure:
    """A table of numbers and how it is drawn: ``chart`` is "stacked" (rows are bars, columns
    after the first are stacked), "bars" (one bar per row, for each numeric column), "lines", or
    "none" (a list, shown as its table only). The admin's kept figures are shared by every
    request (``dashboard.admin_figures_kept``): a page only reads them."""

    name: str
    title: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    chart: str = "bars"
    #: Columns drawn (after the label column); the rest are shown in the table only.
    drawn: int | None = None
    #: Where each row leads (the enrolments behind a bar), by row index.
    links: dict[int, str] = field(default_factory=dict)
    note: str = ""
    #: Whose each row is, by row index (a per-assessor figure: the assessor's id, as two
    #: assessors may share a name); kept in step with ``rows`` by ``add`` and ``order``.
    keys: list[Any] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.rows

    def add(self, row: list[Any], key: Any) -> None:
        """A row and whose it is."""
        self.rows.append(row)
        self.keys.append(key)

    def order(self, by: Any, *, reverse: bool = False, keep: int | None = None) -> None:
        """Sort the rows by ``by(row)`` (their keys with them), keeping the first ``keep``."""
        pairs = sorted(
            zip(self.rows, self.keys, strict=True), key=lambda p: by(p[0]), reverse=reverse
        )
        pairs = pairs[:keep] if keep is not None else pairs
        self.rows, self.keys = [row for row, _ in pairs], [key for _, key in pairs]


#: The stacks of the states chart, in the order a portfolio moves through them.
STATE_BUCKETS: list[tuple[str, S, OutcomeResult | None]] = [
    ("Draft", S.DRAFT, None),
    ("Submitted", S.SUBMITTED, None),
    ("Resubmitted", S.RESUBMITTED, None),
    ("In review", S.IN_REVIEW, None),
    ("Returned", S.RETURNED, None),
    ("Reassessment", S.REASSESSMENT, None),
    ("Competent", S.DECIDED, OutcomeResult.COMPETENT),
    ("Not yet competent", S.DECIDED, OutcomeResult.NOT_YET_COMPETENT),
    ("RPL granted", S.DECIDED, OutcomeResult.RPL_GRANTED),
    ("RPL not granted", S.DECIDED, OutcomeResult.RPL_NOT_GRANTED),
    ("Withdrawn", S.WITHDRAWN, None),
    ("Credit transfer", S.CREDIT_TRANSFER, None),
]


def tallies(session: Session, filters: Filters) -> list[Tally]:
    return register_tallies(
        session,
        unit_code=filters.unit_code,
        assessor_id=filters.assessor_id,
        decided_from=filters.decided_from,
        decided_to=filters.decided_to,
        learners=filters.learners(),
    )


def states_by_unit(found: list[Tally]) -> Figure:
    """Learners by state, per unit: a stacked bar each."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for t in found:
        for label, state, result in STATE_BUCKETS:
            if t.state is state and t.result is result:
                counts[t.unit_code][label] += t.count
    figure = Figure(
        "states",
        "Learners by state, per unit",
        ["Unit", *(label for label, _, _ in STATE_BUCKETS), "Total"],
        chart="stacked",
        drawn=len(STATE_BUCKETS),
    )
    for code in sorted(counts):
        row = [counts[code][label] for label, _, _ in STATE_BUCKETS]
        figure.rows.append([code, *row, sum(row)])
    return figure


def _rate(achieved: int, decided: int) -> float | None:
    return round(100 * achieved / decided, 1) if decided else None


def outcome_rates(found: list[Tally], names: dict[int, str]) -> tuple[Figure, Figure]:
    """Outcome rates per unit and per assessor, each with the rate of all of them beside it, so
    an outlier stands out."""
    decided = [t for t in found if t.state is S.DECIDED and t.result is not None]
    total = sum(t.count for t in decided)
    achieved = sum(t.count for t in decided if t.result.is_achieved)  # type: ignore[union-attr]
    overall = _rate(achieved, total)

    def figure(name: str, title: str, key, label) -> Figure:
        groups: dict[Any, list[int]] = defaultdict(lambda: [0, 0])
        for t in decided:
            groups[key(t)][0] += t.count
            groups[key(t)][1] += t.count if t.result.is_achieved else 0  # type: ignore[union-attr]
        made = Figure(
            name,
            title,
            [label, "Achieved %", "All units %", "Decided", "Achieved"],
            drawn=2,
            note="Achieved: Competent or RPL granted, of the enrolments decided (their "
            "outcome as it stands, credited to whoever recorded it).",
        )
        for group in sorted(groups, key=lambda g: str(label_of(g))):
            n, yes = groups[group]
            made.add([label_of(group), _rate(yes, n), overall, n, yes], group)
        return made

    def label_of(group: Any) -> str:
        return names.get(group, "no assessor") if isinstance(group, int | None) else group

    by_unit = figure("outcomes-by-unit", "Outcome rates per unit", lambda t: t.unit_code, "Unit")
    by_assessor = figure(
        "outcomes-by-assessor",
        "Outcome rates per assessor",
        lambda t: t.assessor_id,
        "Assessor",
    )
    return by_unit, by_assessor


def _narrowed(query: Select[Any], filters: Filters, assessor: Any) -> Select[Any]:
    """``query`` (which joins Enrolment) kept to the filters' unit, assessor (``assessor`` is
    the column that names them) and cohort."""
    if filters.unit_code:
        query = (
            query.join(UnitRelease, UnitRelease.id == Enrolment.unit_release_id)
            .join(Unit, Unit.id == UnitRelease.unit_id)
            .where(Unit.code == filters.unit_code)
        )
    if filters.assessor_id is not None:
        query = query.where(assessor == filters.assessor_id)
    if (learners := filters.learners()) is not None:
        query = query.where(Enrolment.learner_id.in_(learners))
    return query


def _handed_in():
    """The last hand-in of each enrolment's attempt."""
    return (
        select(
            Submission.enrolment_id,
            Submission.attempt,
            func.max(Submission.submitted_at).label("handed_in"),
        )
        .group_by(Submission.enrolment_id, Submission.attempt)
        .subquery()
    )


def _percentiles(session: Session, group, filters: Filters) -> list[tuple[Any, int, float, float]]:
    """Per ``group``: decisions, median and 90th percentile (nearest rank) of the days from
    the last hand-in to the first outcome of the attempt; ranked in the database."""
    handed = _handed_in()
    days = days_between(handed.c.handed_in, UnitOutcome.recorded_at)
    base = (
        select(group.label("g"), days.label("days"))
        .select_from(UnitOutcome)
        .join(
            handed,
            (handed.c.enrolment_id == UnitOutcome.enrolment_id)
            & (handed.c.attempt == UnitOutcome.attempt),
        )
        .join(Enrolment, Enrolment.id == UnitOutcome.enrolment_id)
        .where(UnitOutcome.replaces_id.is_(None))
    )
    base = _narrowed(base, filters, UnitOutcome.assessor_id)
    if filters.decided_from:
        base = base.where(UnitOutcome.decided_on >= filters.decided_from)
    if filters.decided_to:
        base = base.where(UnitOutcome.decided_on <= filters.decided_to)
    base = base.subquery()
    ranked = select(
        base.c.g,
        base.c.days,
        func.row_number().over(partition_by=base.c.g, order_by=base.c.days).label("rn"),
        func.count().over(partition_by=base.c.g).label("n"),
    ).subquery()
    query = (
        select(
            ranked.c.g,
            ranked.c.n,
            # The median: the middle value, or the mean of the two middle ones.
            func.avg(
                case(
                    (
                        or_(
                            ranked.c.rn == (ranked.c.n + 1) // 2,
                            ranked.c.rn == (ranked.c.n + 2) // 2,
                        ),
                        ranked.c.days,
                    )
                )
            ),
            func.max(case((ranked.c.rn == (9 * ranked.c.n + 9) // 10, ranked.c.days))),
        )
        .group_by(ranked.c.g, ranked.c.n)
        .order_by(ranked.c.g)
    )
    return [(g, n, round(m, 1), round(p, 1)) for g, n, m, p in session.execute(query)]


def decision_times(
    session: Session, filters: Filters, names: dict[int, str]
) -> tuple[Figure, Figure]:
    """Days from hand-in to decision, median and 90th percentile, by month and by assessor."""
    columns = ["Median days", "90th percentile days", "Decisions"]
    note = (
        "From the last hand-in of an attempt to its outcome (the first one recorded; "
        "corrections are not decisions), in days; the 90th percentile by nearest rank. "
        "Credited to the assessor who made the first outcome."
    )
    by_month = Figure(
        "times-by-month",
        "Time to decision, by month",
        ["Month", *columns],
        chart="lines",
        drawn=2,
        note=note,
    )
    for month, n, median, p90 in _percentiles(session, month_of(UnitOutcome.decided_on), filters):
        by_month.rows.append([month, median, p90, n])
    by_assessor = Figure(
        "times-by-assessor",
        "Time to decision, by assessor",
        ["Assessor", *columns],
        drawn=2,
        note=note,
    )
    for who, n, median, p90 in _percentiles(session, UnitOutcome.assessor_id, filters):
        by_assessor.add([names.get(who, "unknown"), median, p90, n], who)
    by_assessor.order(lambda r: r[0])
    return by_month, by_assessor


def queue(
    session: Session,
    filters: Filters,
    names: dict[int, str],
    *,
    today: date,
    due_days: int,
    zone: ZoneInfo,
) -> Figure:
    """The review queue per assessor: waiting, overdue, and by days since the hand-in."""
    found = waiting_by_assessor(
        session,
        today=today,
        due_days=due_days,
        zone=zone,
        assessor_id=filters.assessor_id,
        unit_code=filters.unit_code,
        learners=filters.learners(),
    )
    figure = Figure(
        "queue",
        "Review queue: age since the hand-in",
        ["Assessor", *(label for _, label in AGE_BANDS), "Waiting", "Overdue"],
        chart="stacked",
        drawn=len(AGE_BANDS),
        note=f"Overdue: past {due_days} working days after the hand-in, as on the review queue. "
        "The queue as it stands today: the period does not narrow it.",
    )
    for w in found:
        figure.add(
            [names.get(w.assessor_id, "no assessor"), *w.ages, w.waiting, w.overdue], w.assessor_id
        )
    figure.order(lambda r: r[0])
    return figure


def evidence_by_month(session: Session, filters: Filters, *, zone: ZoneInfo) -> Figure:
    """Evidence files uploaded and their size, by month at the RTO (``zone``)."""
    month = local_month_of(EvidenceFile.uploaded_at, zone)
    query = (
        select(month, func.count(), func.coalesce(func.sum(EvidenceFile.size), 0))
        .join(EvidenceVersion, EvidenceVersion.id == EvidenceFile.version_id)
        .join(EvidenceItem, EvidenceItem.id == EvidenceVersion.item_id)
        .join(Enrolment, Enrolment.id == EvidenceItem.enrolment_id)
        .group_by(month)
        .order_by(month)
    )
    query = _narrowed(query, filters, Enrolment.assessor_id)
    figure = Figure(
        "evidence",
        "Evidence uploaded, by month",
        ["Month", "Files", "Megabytes"],
        drawn=1,
        note="Every upload, by the month it was made at the RTO; the period does not narrow it.",
    )
    for m, files, size in session.execute(query):
        figure.rows.append([m, files, round(size / 1_000_000, 1)])
    return figure


def expiries(session: Session, filters: Filters) -> Figure:
    """Credential entries lapsing within the notice period (as the Credentials page lists)."""
    figure = Figure(
        "expiries",
        f"Credentials lapsing in the next {EXPIRY_NOTICE_DAYS} days",
        ["Assessor", "Kind", "Code", "Title or activity", "Until"],
        chart="none",
        note="Narrowed by assessor only.",
    )
    for entry in expiring_soon(session):
        if filters.assessor_id is None or entry.user_id == filters.assessor_id:
            figure.rows.append(
                [entry.user.name, entry.kind.label, entry.code, entry.title, day(entry.ends_on)]
            )
    return figure


def validations_due(session: Session, filters: Filters) -> Figure:
    """Each unit with a validation plan: its risk, when last validated, when next due."""
    figure = Figure(
        "validations",
        "Validations",
        ["Unit", "Risk", "Last validated", "Next due", "In progress"],
        chart="none",
        note="Narrowed by unit only.",
    )
    for row in plans(session):
        if row.plan is None or (filters.unit_code and row.unit.code != filters.unit_code):
            continue
        figure.rows.append(
            [
                row.unit.code,
                row.plan.risk.label,
                day(row.last_completed) if row.last_completed else "never",
                "due now" if row.overdue else day(row.next_due),
                len(row.open),
            ]
        )
    return figure


@cache
def _decisions_of() -> Select[Any]:
    """The statement of ``decisions``, built once (``assessor_id``, ``since``, ``until``)."""
    return (
        select(UnitOutcome.result, func.count())
        .where(
            UnitOutcome.assessor_id == bindparam("assessor_id"),
            UnitOutcome.replaces_id.is_(None),
            UnitOutcome.decided_on >= bindparam("since"),
            UnitOutcome.decided_on <= bindparam("until"),
        )
        .group_by(UnitOutcome.result)
    )


def decisions(session: Session, assessor_id: int, since: date, until: date) -> Figure:
    """An assessor's decisions in a period, by outcome: the first outcome of each attempt they
    recorded (corrections are not decisions), as the review queue counts them."""
    figure = Figure(
        "decided-this-month", f"Your decisions in {since:%B %Y}", ["Outcome", "Decisions"], drawn=1
    )
    found = session.execute(
        _decisions_of(), {"assessor_id": assessor_id, "since": since, "until": until}
    )
    figure.rows = sorted([result.label, n] for result, n in found)
    return figure


def staff_names(session: Session) -> dict[int, str]:
    """Every assessor's name by id (one query, staff only), for the figures' labels."""
    return dict(
        session.execute(
            select(User.id, User.name)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == Role.ASSESSOR)
        ).all()
    )


# --- A learner's progress over time ------------------------------------------------------------

#: A learner's progress is drawn week by week while it spans this many weeks at most, and month
#: by month after that (the latest PROGRESS_MONTHS months).
PROGRESS_WEEKS = 16
PROGRESS_MONTHS = 24


def periods(start: date, end: date) -> tuple[str, list[tuple[str, date]]]:
    """The periods a timeline from ``start`` to ``end`` is drawn in, each as its label and its
    last day (``end`` for the period under way): weeks from Monday while the timeline spans
    PROGRESS_WEEKS at most, calendar months otherwise (the latest PROGRESS_MONTHS)."""
    start = min(start, end)
    monday = start - timedelta(days=start.weekday())
    if (end - monday).days < PROGRESS_WEEKS * 7:
        weeks = [monday + timedelta(days=7 * n) for n in range((end - monday).days // 7 + 1)]
        return "Week of", [(day(w), min(w + timedelta(days=6), end)) for w in weeks]
    months: list[tuple[str, date]] = []
    first = start.replace(day=1)
    while first <= end:
        following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
        months.append((f"{first:%b %Y}", min(following - timedelta(days=1), end)))
        first = following
    return "Month", months[-PROGRESS_MONTHS:]


def running_totals(dates: Sequence[date], ends: Sequence[date]) -> list[int]:
    """How many of ``dates`` fall on or before each of ``ends``."""
    ordered = sorted(dates)
    return [bisect_right(ordered, end) for end in ends]
