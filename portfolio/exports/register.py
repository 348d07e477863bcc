"""The outcomes register: every decided enrolment with its AVETMISS outcome code, as CSV or XLSX.

One row per enrolment that has a current outcome (the outcome no correction has replaced), for
an RTO's student management system or a regulator's audit sample. ``register_rows`` loads them
in a fixed number of queries however many there are; ``write_csv`` and ``write_xlsx`` write the
same columns.
"""

from __future__ import annotations

import csv
from collections.abc import Collection, Iterable
from dataclasses import dataclass, fields
from datetime import date
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased, contains_eager, selectinload

from portfolio.errors import ServiceError
from portfolio.models import Enrolment, Unit, UnitOutcome, UnitRelease, User
from portfolio.spreadsheets import csv_cell, xlsx_cell

EXPORT_ACTION = "export.created"

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
    "Decision date",
    "Assessor",
    "Corrected",
)

# Column widths in the workbook, in characters; fixed, so rows can be written as they come.
_WIDTHS = (28, 14, 13, 32, 12, 48, 9, 16, 20, 14, 14, 24, 11)


@dataclass(frozen=True)
class RegisterRow:
    """One decided enrolment, its fields in the order of ``COLUMNS``."""

    learner_name: str
    student_id: str | None
    usi: str | None
    email: str
    unit_code: str
    unit_title: str
    release: int
    enrolment_type: str  # "Assessment" or "RPL"
    outcome: str  # the result's label: "Competent", "RPL granted", ...
    avetmiss_code: str  # text, never a number: "20", "30", "51", ...
    decided_on: date
    assessor_name: str
    corrected: bool  # the current outcome replaced an earlier one

    def values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f.name) for f in fields(self))


def _current_outcomes_query(
    unit_code: str | None,
    decided_from: date | None,
    decided_to: date | None,
    enrolment_ids: Collection[int] | None = None,
) -> Select[tuple[UnitOutcome]]:
    newer = aliased(UnitOutcome)
    replaced = select(newer.id).where(newer.replaces_id == UnitOutcome.id).exists()
    via_enrolment = contains_eager(UnitOutcome.enrolment)
    query = (
        select(UnitOutcome)
        .join(UnitOutcome.enrolment)
        .join(Enrolment.learner)
        .join(Enrolment.unit_release)
        .join(UnitRelease.unit)
        .where(~replaced)
        .options(
            # Joined anyway to filter and sort: filled from the same rows, no further query;
            # of a release only what the register shows, not its whole content per row.
            via_enrolment.contains_eager(Enrolment.learner).lazyload(User.role_rows),
            via_enrolment.contains_eager(Enrolment.unit_release)
            .load_only(UnitRelease.release, UnitRelease.title)
            .contains_eager(UnitRelease.unit),
            selectinload(UnitOutcome.assessor).lazyload(User.role_rows),
        )
        .order_by(
            UnitOutcome.decided_on, func.lower(User.name), User.name, Unit.code, UnitOutcome.id
        )
    )
    if unit_code:
        query = query.where(Unit.code == unit_code.strip().upper())
    if decided_from is not None:
        query = query.where(UnitOutcome.decided_on >= decided_from)
    if decided_to is not None:
        query = query.where(UnitOutcome.decided_on <= decided_to)
    if enrolment_ids is not None:
        query = query.where(UnitOutcome.enrolment_id.in_(list(enrolment_ids)))
    return query


def register_rows(
    session: Session,
    *,
    unit_code: str | None = None,
    decided_from: date | None = None,
    decided_to: date | None = None,
    enrolment_ids: Collection[int] | None = None,
) -> list[RegisterRow]:
    """Every enrolment with a current outcome, by decision date then learner name.

    ``unit_code`` keeps one unit (every release of it); the dates are inclusive. Two queries
    whatever the number of rows: the outcomes with their enrolments, learners and units, then
    the assessors.
    """
    if decided_from is not None and decided_to is not None and decided_from > decided_to:
        raise ServiceError("The start date is after the end date.", "decided_from")
    outcomes = session.scalars(
        _current_outcomes_query(unit_code, decided_from, decided_to, enrolment_ids)
    )
    rows = []
    for outcome in outcomes:
        enrolment = outcome.enrolment
        learner, release = enrolment.learner, enrolment.unit_release
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
                outcome=outcome.result.label,
                avetmiss_code=outcome.result.avetmiss_code,
                decided_on=outcome.decided_on,
                assessor_name=outcome.assessor.name,
                corrected=outcome.replaces_id is not None,
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
    """The enrolments with a current outcome in a unit and decision date range, in order."""
    if decided_from is not None and decided_to is not None and decided_from > decided_to:
        raise ServiceError("The start date is after the end date.", "decided_from")
    query = _current_outcomes_query(unit_code, decided_from, decided_to)
    return list(session.scalars(query.with_only_columns(UnitOutcome.enrolment_id)))


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
