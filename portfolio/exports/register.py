"""The outcomes register: every enrolment with its AVETMISS outcome code, as CSV or XLSX.

One row per enrolment, for an RTO's student management system or a regulator's audit sample:
decided (Competent 20, Not yet competent 30, RPL granted 51, RPL not granted 52, from the
current outcome of its last attempt), closed (withdrawn 40, credit transfer 60), or still in
progress (continuing 70), with its activity dates and the outcomes of earlier attempts.
``register_rows`` loads them in a fixed number of queries however many there are;
``write_csv`` and ``write_xlsx`` write the same columns.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, fields
from datetime import date
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session, contains_eager

from portfolio.errors import ServiceError
from portfolio.models import (
    AssessmentState,
    Closure,
    Enrolment,
    OutcomeResult,
    Unit,
    UnitOutcome,
    UnitRelease,
    User,
)
from portfolio.models.review import not_replaced, outcome_stands
from portfolio.spreadsheets import csv_cell, xlsx_cell
from portfolio.text import day

EXPORT_ACTION = "export.created"

#: AVETMISS: an enrolment neither decided nor closed is continuing.
CONTINUING = ("Continuing", "70")

# Header names, in the order of RegisterRow's fields.
COLUMNS: tuple[str, ...] = (
    "Learner",
    "Student ID",
    "USI",
    "Email",
    "Unit code",
    "Unit title",
    "Release",
    "Enrolment type",
    "Outcome",
    "AVETMISS outcome code",
    "Outcome date",
    "Activity start",
    "Activity end",
    "Attempts",
    "Earlier attempts",
    "Assessor",
    "Corrected",
)

# Column widths in the workbook, in characters; fixed, so rows can be written as they come.
_WIDTHS = (28, 14, 13, 32, 12, 48, 9, 16, 20, 14, 14, 14, 14, 9, 40, 24, 11)


@dataclass(frozen=True)
class RegisterRow:
    """One enrolment, its fields in the order of ``COLUMNS``."""

    learner_name: str
    student_id: str | None
    usi: str | None
    email: str
    unit_code: str
    unit_title: str
    release: int
    enrolment_type: str  # "Assessment" or "RPL"
    outcome: str  # "Competent", "RPL granted", "Withdrawn", "Continuing", ...
    avetmiss_code: str  # text, never a number: "20", "30", "51", ...
    decided_on: date | None  # the decision or the closure; none while continuing
    activity_start: date
    activity_end: date | None
    attempts: int
    earlier_attempts: str  # "Attempt 1: Not yet competent, 02/03/2026"
    assessor_name: str
    corrected: bool  # the current outcome replaced an earlier one

    def values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f.name) for f in fields(self))


def _register_query(
    unit_code: str | None,
    decided_from: date | None,
    decided_to: date | None,
    enrolment_ids: Collection[int] | None = None,
) -> Select[tuple[Enrolment, UnitOutcome | None, Closure | None]]:
    """Every enrolment with its last attempt's current outcome and its closure (if any)."""
    # The outcome counts only while the enrolment stands decided (or was withdrawn after it).
    outcome_date = func.coalesce(Closure.closed_on, UnitOutcome.decided_on)
    query = (
        select(Enrolment, UnitOutcome, Closure)
        .join(Enrolment.learner)
        .join(Enrolment.unit_release)
        .join(UnitRelease.unit)
        .outerjoin(UnitOutcome, outcome_stands())
        .outerjoin(Closure, Closure.enrolment_id == Enrolment.id)
        .options(
            # Joined anyway to filter and sort: filled from the same rows, no further query;
            # of a release only what the register shows, not its whole content per row.
            contains_eager(Enrolment.learner).lazyload(User.role_rows),
            contains_eager(Enrolment.unit_release)
            .load_only(UnitRelease.release, UnitRelease.title)
            .contains_eager(UnitRelease.unit),
        )
        # Decided and closed by their date, continuing ones after them; then by name.
        .order_by(
            outcome_date.is_(None),
            outcome_date,
            func.lower(User.name),
            User.name,
            Unit.code,
            Enrolment.id,
        )
    )
    if unit_code:
        query = query.where(Unit.code == unit_code.strip().upper())
    # A decided or closed enrolment by the date of its outcome; a continuing one while its
    # activity runs in the period (started by its end).
    if decided_from is not None:
        query = query.where(or_(outcome_date >= decided_from, outcome_date.is_(None)))
    if decided_to is not None:
        query = query.where(
            or_(
                outcome_date <= decided_to,
                and_(outcome_date.is_(None), Enrolment.activity_start <= decided_to),
            )
        )
    if enrolment_ids is not None:
        query = query.where(Enrolment.id.in_(list(enrolment_ids)))
    return query


def _check_period(decided_from: date | None, decided_to: date | None) -> None:
    if decided_from is not None and decided_to is not None and decided_from > decided_to:
        raise ServiceError("The start date is after the end date.", "decided_from")


def register_rows(
    session: Session,
    *,
    unit_code: str | None = None,
    decided_from: date | None = None,
    decided_to: date | None = None,
    enrolment_ids: Collection[int] | None = None,
) -> list[RegisterRow]:
    """Every enrolment, decided and closed ones by the date of their outcome, then continuing
    ones, each by learner name.

    ``unit_code`` keeps one unit (every release of it); the dates are inclusive. Three queries
    whatever the number of rows: the enrolments with their learners, units, outcomes and
    closures; the people who decided or closed them; the outcomes of earlier attempts.
    """
    _check_period(decided_from, decided_to)
    found = session.execute(
        _register_query(unit_code, decided_from, decided_to, enrolment_ids)
    ).all()
    people_ids = {o.assessor_id for _, o, _ in found if o is not None}
    people_ids |= {c.closed_by_id for _, _, c in found if c is not None and c.closed_by_id}
    people = dict(session.execute(select(User.id, User.name).where(User.id.in_(people_ids))).all())
    reassessed = [e.id for e, _, _ in found if e.attempt > 1]
    earlier: defaultdict[int, list[str]] = defaultdict(list)
    if reassessed:
        for outcome in session.scalars(
            select(UnitOutcome)
            .join(Enrolment, Enrolment.id == UnitOutcome.enrolment_id)
            .where(
                UnitOutcome.enrolment_id.in_(reassessed),
                UnitOutcome.attempt < Enrolment.attempt,
                not_replaced(UnitOutcome),
            )
            .order_by(UnitOutcome.attempt)
        ):
            earlier[outcome.enrolment_id].append(
                f"Attempt {outcome.attempt}: {outcome.result.label}, {day(outcome.decided_on)}"
            )
    rows = []
    for enrolment, outcome, closure in found:
        learner, release = enrolment.learner, enrolment.unit_release
        decided = outcome is not None and enrolment.state is AssessmentState.DECIDED
        if closure is not None:
            label, code, when = closure.kind.label, closure.kind.avetmiss_code, closure.closed_on
            who = people.get(closure.closed_by_id, "")
        elif decided:
            label, code, when = (
                outcome.result.label,
                outcome.result.avetmiss_code,
                outcome.decided_on,
            )
            who = people[outcome.assessor_id]
        else:
            (label, code), when, who = CONTINUING, None, ""
        rows.append(
            RegisterRow(
                learner_name=learner.name,
                student_id=learner.student_id,
                usi=learner.usi,
                email=learner.email,
                unit_code=release.unit.code,
                unit_title=release.title,
                release=release.release,
                enrolment_type="RPL" if enrolment.is_rpl else "Assessment",
                outcome=label,
                avetmiss_code=code,
                decided_on=when,
                activity_start=enrolment.activity_start,
                activity_end=enrolment.activity_end,
                attempts=enrolment.attempt,
                earlier_attempts="; ".join(earlier[enrolment.id]),
                assessor_name=who,
                corrected=decided and closure is None and outcome.replaces_id is not None,
            )
        )
    return rows


def decided_enrolment_ids(
    session: Session,
    *,
    unit_code: str | None = None,
    decided_from: date | None = None,
    decided_to: date | None = None,
) -> list[int]:
    """The enrolments decided (their last attempt's current outcome) in a unit and decision
    date range, in the register's order."""
    _check_period(decided_from, decided_to)
    query = (
        _register_query(unit_code, decided_from, decided_to)
        .where(UnitOutcome.id.is_not(None), Enrolment.state == AssessmentState.DECIDED)
        .with_only_columns(Enrolment.id)
    )
    return list(session.scalars(query))


def decided_outcomes(
    session: Session,
    *,
    unit_code: str,
    decided_from: date,
    decided_to: date,
    countersigned: bool = False,
) -> list[tuple[int, int, OutcomeResult]]:
    """Each enrolment decided in a unit and period (as in the register): its id, who decided
    it and how; with ``countersigned``, not one whose outcome made under direction still
    waits for its countersignature."""
    _check_period(decided_from, decided_to)
    query = (
        _register_query(unit_code, decided_from, decided_to)
        .where(UnitOutcome.id.is_not(None), Enrolment.state == AssessmentState.DECIDED)
        .with_only_columns(Enrolment.id, UnitOutcome.assessor_id, UnitOutcome.result)
    )
    if countersigned:
        query = query.where(
            or_(
                UnitOutcome.countersign_needed.is_(False), UnitOutcome.countersigned_at.is_not(None)
            )
        )
    return [(row[0], row[1], row[2]) for row in session.execute(query)]


@dataclass(frozen=True)
class Tally:
    """How many enrolments of a unit stand in a state (and, decided, with an outcome), by the
    assessor who decided them or, until then, the one assigned."""

    unit_code: str
    assessor_id: int | None
    state: AssessmentState
    result: OutcomeResult | None
    count: int


def register_tallies(
    session: Session,
    *,
    unit_code: str | None = None,
    assessor_id: int | None = None,
    decided_from: date | None = None,
    decided_to: date | None = None,
    learners: Select[tuple[int]] | None = None,
) -> list[Tally]:
    """The register's enrolments counted by unit, assessor, state and outcome, in the database
    (one query): the same enrolments the register lists for these filters (``learners``: a
    query of the learners' ids to keep, a cohort's)."""
    _check_period(decided_from, decided_to)
    assessor = func.coalesce(UnitOutcome.assessor_id, Enrolment.assessor_id)
    query = (
        _register_query(unit_code, decided_from, decided_to)
        .with_only_columns(Unit.code, assessor, Enrolment.state, UnitOutcome.result, func.count())
        .group_by(Unit.code, assessor, Enrolment.state, UnitOutcome.result)
        .order_by(None)
    )
    if assessor_id is not None:
        query = query.where(assessor == assessor_id)
    if learners is not None:
        query = query.where(Enrolment.learner_id.in_(learners))
    return [
        Tally(code, who, state, result if state is AssessmentState.DECIDED else None, n)
        for code, who, state, result, n in session.execute(query)
    ]


def describe_register(
    *,
    unit_code: str | None = None,
    decided_from: date | None = None,
    decided_to: date | None = None,
) -> str:
    """What a register holds, in words, for the audit log: "Outcomes register: TLII5018, ..."."""
    parts = [unit_code.strip().upper() if unit_code else "all units"]
    if decided_from and decided_to:
        parts.append(f"decided {decided_from.isoformat()} to {decided_to.isoformat()}")
    elif decided_from:
        parts.append(f"decided from {decided_from.isoformat()}")
    elif decided_to:
        parts.append(f"decided up to {decided_to.isoformat()}")
    else:
        parts.append("all dates")
    return "Outcomes register: " + ", ".join(parts)


# --- CSV ------------------------------------------------------------------------------------


def write_csv(rows: Iterable[RegisterRow], stream: IO[str], *, bom: bool = False) -> int:
    """Write the header and the rows to a text stream; returns the number of rows written.

    Open a file with ``encoding="utf-8", newline=""``: lines end in CRLF as RFC 4180 has it.
    ``bom=True`` starts with a byte order mark, which Excel needs to read UTF-8 names right
    (most student management systems import without it).
    """
    if bom:
        stream.write("\ufeff")
    writer = csv.writer(stream)
    writer.writerow(COLUMNS)
    count = 0
    for row in rows:
        writer.writerow([csv_cell(value) for value in row.values()])
        count += 1
    return count


# --- XLSX -----------------------------------------------------------------------------------


def write_xlsx(rows: Iterable[RegisterRow], stream: IO[bytes], *, title: str = "Outcomes") -> int:
    """Write the register as a one-sheet workbook to a binary stream; returns the row count.

    A write-only workbook, so rows go out as they come: a bold, frozen header row with a
    filter, fixed column widths, the decision date as a date cell and the code as text.
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    for index, width in enumerate(_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for name in COLUMNS:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        cell.alignment = Alignment(vertical="top", wrap_text=True)
        header.append(cell)
    sheet.append(header)
    count = 0
    for row in rows:
        sheet.append([xlsx_cell(sheet, value) for value in row.values()])
        count += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{count + 1}"
    workbook.save(stream)
    return count


__all__ = [
    "COLUMNS",
    "RegisterRow",
    "describe_register",
    "register_rows",
    "write_csv",
    "write_xlsx",
]
