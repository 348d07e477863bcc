"""Learner accounts from a CSV file, as student management systems and spreadsheets export
them: every row is checked first, shown as a preview, and none is created unless the whole
file is clean.

The header may spell its columns as people do: ``Name`` or ``Full name`` (or ``Given name``
and ``Family name``), ``Email``, ``Student ID`` / ``student_id`` / ``StudentID``, ``USI``.
The file is UTF-8, with or without the byte-order mark spreadsheets add.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from portfolio.auth.services import (
    check_email_free,
    check_student_id_free,
    check_usi,
    create_user,
    normalise_email,
)
from portfolio.errors import ServiceError
from portfolio.models import Role, User
from portfolio.spreadsheets import FORMULA_STARTS

#: A file past this many learners is refused whole: split it (and check it) in parts.
MAX_ROWS = 5000
#: Far more than 5,000 learners' rows take; a bigger file is not read at all (callers read at
#: most one byte more than this, so a huge upload never sits whole in memory).
MAX_BYTES = 4 * 1024 * 1024
#: Header spellings, compared without case, spaces, dots, dashes or underscores.
ALIASES = {
    "name": ("name", "fullname", "learnername", "studentname", "learner"),
    "given_name": ("givenname", "firstname", "givennames", "forename", "firstnames", "first"),
    "family_name": ("familyname", "lastname", "surname", "last", "family"),
    "email": ("email", "emailaddress", "e-mail", "mail", "studentemail", "learneremail"),
    "student_id": ("studentid", "studentnumber", "studentno", "learnerid", "id"),
    "usi": ("usi", "uniquestudentidentifier"),
}
_CANONICAL = {alias: column for column, aliases in ALIASES.items() for alias in aliases}


@dataclass
class ImportProblem:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.column}: {self.message}"


@dataclass(frozen=True)
class LearnerRow:
    line: int
    name: str
    email: str
    student_id: str | None
    usi: str | None


@dataclass
class ImportPlan:
    """What a file would create, or why it cannot."""

    rows: list[LearnerRow] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)
    #: The header as read, and the column each heading was taken as.
    columns: dict[str, str] = field(default_factory=dict)


@dataclass
class ImportResult:
    created: list[User] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)


def _key(heading: str) -> str:
    return re.sub(r"[\s._\-]+", "", heading.strip().lower())


def _csv_refusal(error: csv.Error) -> str:
    if "field limit" in str(error):
        limit = csv.field_size_limit()
        return (
            f"has a value longer than {limit:,} characters, which no name, email or ID is; "
            "check that this is the list of learners, saved as CSV"
        )
    return f"cannot be read as CSV ({error}); save it again as CSV UTF-8"


def _decode(data: bytes) -> str | None:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def _header(raw: list[str], plan: ImportPlan) -> list[str] | None:
    """The canonical column of each heading, or None with the problem recorded."""
    header = [_CANONICAL.get(_key(h), "") for h in raw]
    plan.columns = {h.strip(): c for h, c in zip(raw, header, strict=True) if c}
    unknown = [h.strip() for h, c in zip(raw, header, strict=True) if not c and h.strip()]
    present = set(header)
    missing = []
    if "name" not in present and not {"given_name", "family_name"} <= present:
        missing.append("Name (or Given name and Family name)")
    if "email" not in present:
        missing.append("Email")
    twice = sorted({c for c in header if c and header.count(c) > 1})
    if missing or unknown or twice:
        parts = []
        if missing:
            parts.append("missing " + ", ".join(missing))
        if unknown:
            parts.append("columns not known: " + ", ".join(unknown))
        if twice:
            parts.append("more than one column for " + ", ".join(twice))
        plan.problems.append(
            ImportProblem(
                1,
                "header",
                "; ".join(parts)
                + ". The columns are Name (or Given name and Family name), Email, and "
                "optionally Student ID and USI.",
            )
        )
        return None
    return header


def read_learners(session: Session, data: bytes) -> ImportPlan:
    """Check a CSV file of learners against itself and the accounts already here."""
    plan = ImportPlan()
    if len(data) > MAX_BYTES:
        plan.problems.append(
            ImportProblem(
                1,
                "file",
                f"is larger than {MAX_BYTES // (1024 * 1024)} MB, far more than {MAX_ROWS:,} "
                "learners take: check that it is the list of learners, saved as CSV, or split it.",
            )
        )
        return plan
    text = _decode(data)
    if text is None:
        plan.problems.append(
            ImportProblem(
                1,
                "file",
                "is not UTF-8 text. In Excel choose Save As, CSV UTF-8 (Comma delimited); in "
                "LibreOffice, Save As Text CSV with the character set Unicode (UTF-8).",
            )
        )
        return plan
    reader = csv.reader(io.StringIO(text))
    try:
        raw = next(reader, None)
        if raw is None or not any(h.strip() for h in raw):
            plan.problems.append(ImportProblem(1, "file", "is empty: it has no header row"))
            return plan
        header = _header(raw, plan)
        if header is None:
            return plan
        records = []
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            if len(records) == MAX_ROWS:
                plan.problems.append(
                    ImportProblem(
                        reader.line_num,
                        "file",
                        f"has more than {MAX_ROWS:,} learners. Split it into files of at most "
                        f"{MAX_ROWS:,} rows, each with the header, and import them one by one.",
                    )
                )
                return plan
            records.append((reader.line_num, values))
    except csv.Error as error:
        plan.problems.append(ImportProblem(max(reader.line_num, 1), "file", _csv_refusal(error)))
        return plan
    if not records:
        plan.problems.append(ImportProblem(2, "file", "has no learners below the header"))
        return plan
    _check_rows(session, header, records, plan)
    return plan


def _check_rows(
    session: Session, header: list[str], records: list[tuple[int, list[str]]], plan: ImportPlan
) -> None:
    emails: dict[str, int] = {}
    student_ids: dict[str, int] = {}
    for line, values in records:
        if len(values) > len(header) and any(v.strip() for v in values[len(header) :]):
            plan.problems.append(ImportProblem(line, "row", "has more values than columns"))
            continue
        row = {c: v.strip() for c, v in zip(header, values, strict=False) if c}
        problems = len(plan.problems)
        for column, value in row.items():
            if value.startswith(FORMULA_STARTS):
                plan.problems.append(
                    ImportProblem(
                        line,
                        column,
                        f"starts with {value[0]!r}, which a spreadsheet runs as a formula; no "
                        "name, email or ID does. Correct the cell.",
                    )
                )
        name = row.get("name") or " ".join(
            p for p in (row.get("given_name", ""), row.get("family_name", "")) if p
        )
        email = normalise_email(row.get("email", ""))
        if not name:
            plan.problems.append(ImportProblem(line, "name", "is empty"))
        if not email:
            plan.problems.append(ImportProblem(line, "email", "is empty"))
        elif email in emails:
            plan.problems.append(
                ImportProblem(line, "email", f"{email} is also on line {emails[email]}")
            )
        else:
            emails[email] = line
            _refusal(plan, line, "email", check_email_free, session, email)
        student_id = row.get("student_id") or None
        if student_id:
            if student_id in student_ids:
                other = student_ids[student_id]
                plan.problems.append(
                    ImportProblem(line, "student_id", f"{student_id} is also on line {other}")
                )
            student_ids[student_id] = line
            _refusal(plan, line, "student_id", check_student_id_free, session, student_id)
        usi = (row.get("usi") or "").upper() or None
        _refusal(plan, line, "usi", check_usi, usi)
        if len(plan.problems) == problems:
            plan.rows.append(LearnerRow(line, name, email, student_id, usi))


def _refusal(
    plan: ImportPlan, line: int, column: str, check: Callable[..., None], *args: object
) -> None:
    try:
        check(*args)
    except ServiceError as error:
        plan.problems.append(ImportProblem(line, error.field or column, error.message))


def import_learners(session: Session, *, actor: User | None, data: bytes) -> ImportResult:
    """Create the learners of a clean file; a file with any problem creates none. The new
    accounts have no password: each chooses one by a set-up link (``auth.links``)."""
    plan = read_learners(session, data)
    if plan.problems:
        return ImportResult(problems=plan.problems)
    return ImportResult(
        created=[
            create_user(
                session,
                actor=actor,
                name=row.name,
                email=row.email,
                roles={Role.LEARNER},
                student_id=row.student_id,
                usi=row.usi,
            )
            for row in plan.rows
        ]
    )
