"""Account services. They take the acting user and flush; the caller commits."""

from __future__ import annotations

import csv
import io
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from portfolio.audit.log import admin_role, record
from portfolio.errors import ServiceError
from portfolio.models import Role, User

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# USIs use digits and capital letters without the easily confused 0, 1, I and O.
USI = re.compile(r"^[2-9A-HJ-NP-Z]{10}$")
IMPORT_COLUMNS = ("name", "email", "student_id", "usi")


def generate_password() -> str:
    """A temporary password that reads clearly when handed over on paper or screen."""
    return secrets.token_urlsafe(9)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


def find_user(session: Session, key: str) -> User | None:
    """The account whose email or student ID is ``key`` (as typed by an admin)."""
    key = key.strip()
    return session.scalar(
        select(User).where(
            or_(func.lower(User.email) == normalise_email(key), User.student_id == key)
        )
    )


def get_user(session: Session, key: str, field: str | None = None) -> User:
    """The account whose email or student ID is ``key``; refused when there is none."""
    user = find_user(session, key)
    if user is None:
        raise ServiceError(f"No account has the email or student ID {key.strip()}.", field)
    return user


def _check_email(session: Session, email: str) -> None:
    if not EMAIL.match(email):
        raise ServiceError(f"{email!r} is not an email address.", "email")
    if find_user_by_email(session, email) is not None:
        raise ServiceError(f"There is already an account for {email}.", "email")


def _check_student_id(session: Session, student_id: str | None) -> None:
    if student_id and session.scalar(select(User.id).where(User.student_id == student_id)):
        raise ServiceError(f"Student ID {student_id} belongs to another learner.", "student_id")


def _check_usi(usi: str | None) -> None:
    if usi and not USI.match(usi):
        raise ServiceError(
            "A USI is 10 characters: digits 2-9 and capital letters except I and O.", "usi"
        )


def account_payload(
    name: str, email: str, roles: Iterable[Role], student_id: str | None, usi: str | None
) -> dict[str, object]:
    """What the audit log keeps of a new account (never its password or hash: the log is kept
    for good and read by people)."""
    return {
        "name": name,
        "email": email,
        "roles": sorted(role.value for role in roles),
        "student_id": student_id,
        "usi": usi,
        "active": True,
    }


def create_user(
    session: Session,
    *,
    actor: User | None,
    name: str,
    email: str,
    roles: Iterable[Role],
    password: str | None = None,
    student_id: str | None = None,
    usi: str | None = None,
) -> tuple[User, str]:
    """Create an account; returns it with its password (generated when none is given).

    ``actor`` is None only for command-line set-up by the operator.
    """
    email = normalise_email(email)
    student_id = (student_id or "").strip() or None
    usi = (usi or "").strip().upper() or None
    role_set = set(roles)
    if not role_set:
        raise ServiceError("Choose at least one role.", "roles")
    if not name.strip():
        raise ServiceError("A name is required.", "name")
    _check_email(session, email)
    _check_student_id(session, student_id)
    _check_usi(usi)
    password = password or generate_password()
    user = User(name=name.strip(), email=email, student_id=student_id, usi=usi)
    user.set_roles(role_set)
    user.set_password(password)
    session.add(user)
    session.flush()
    record(
        session,
        actor=actor,
        role=admin_role(actor),
        action="user.created",
        subject=f"user:{user.id}",
        after=account_payload(user.name, user.email, role_set, user.student_id, user.usi),
    )
    return user, password


def set_active(session: Session, *, actor: User | None, user: User, active: bool) -> None:
    """Deactivate (log out and refuse logins) or reactivate an account. Nothing is deleted.

    ``actor`` is None only for command-line administration by the operator.
    """
    if actor is not None and user.id == actor.id and not active:
        raise ServiceError("You cannot deactivate your own account.")
    if user.active == active:
        return
    user.active = active
    if not active:
        user.end_sessions()  # reactivated later, the old cookies still do not work
    session.flush()
    record(
        session,
        actor=actor,
        role=admin_role(actor),
        action="user.activated" if active else "user.deactivated",
        subject=f"user:{user.id}",
        before={"active": not active},
        after={"active": active},
    )


@dataclass
class ImportProblem:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.column}: {self.message}"


@dataclass
class ImportResult:
    created: list[tuple[User, str]] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)


def _csv_refusal(error: csv.Error) -> str:
    if "field limit" in str(error):
        limit = csv.field_size_limit()
        return (
            f"has a value longer than {limit:,} characters, which no name, email or ID is; "
            "check that this is the list of learners, saved as CSV"
        )
    return f"cannot be read as CSV ({error}); save it again as CSV UTF-8"


def import_learners(session: Session, *, actor: User | None, data: bytes) -> ImportResult:
    """Create learner accounts from CSV: every row is checked first, and none is written
    unless the whole file is clean."""
    result = ImportResult()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        result.problems.append(ImportProblem(1, "file", "is not UTF-8 text; save it as CSV UTF-8"))
        return result
    reader = csv.DictReader(io.StringIO(text))
    try:
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
        reader.fieldnames = header
        records = [(reader.line_num, row) for row in reader]
    except csv.Error as error:
        result.problems.append(ImportProblem(reader.line_num + 1, "file", _csv_refusal(error)))
        return result
    missing = [c for c in ("name", "email") if c not in header]
    unknown = [h for h in header if h not in IMPORT_COLUMNS]
    if missing or unknown:
        message = "the header must name the columns " + ", ".join(IMPORT_COLUMNS)
        if missing:
            message += f" (missing: {', '.join(missing)})"
        if unknown:
            message += f" (unknown: {', '.join(unknown)})"
        result.problems.append(ImportProblem(1, "header", message))
        return result
    rows: list[tuple[int, dict[str, str]]] = []
    emails: dict[str, int] = {}
    student_ids: dict[str, int] = {}
    for line, row in records:
        if None in row:
            result.problems.append(ImportProblem(line, "row", "has more values than columns"))
            continue
        values = {k: (v or "").strip() for k, v in row.items()}
        if not any(values.values()):
            continue
        email = normalise_email(values.get("email", ""))
        values["email"] = email
        if not values.get("name"):
            result.problems.append(ImportProblem(line, "name", "is empty"))
        if not email:
            result.problems.append(ImportProblem(line, "email", "is empty"))
        elif email in emails:
            result.problems.append(
                ImportProblem(line, "email", f"{email} is also on line {emails[email]}")
            )
        else:
            emails[email] = line
            try:
                _check_email(session, email)
            except ServiceError as error:
                result.problems.append(ImportProblem(line, "email", error.message))
        student_id = values.get("student_id", "")
        if student_id:
            if student_id in student_ids:
                other = student_ids[student_id]
                result.problems.append(
                    ImportProblem(line, "student_id", f"{student_id} is also on line {other}")
                )
            student_ids[student_id] = line
        usi = values.get("usi", "").upper()
        values["usi"] = usi
        try:
            _check_student_id(session, student_id or None)
            _check_usi(usi or None)
        except ServiceError as error:
            result.problems.append(ImportProblem(line, error.field or "row", error.message))
        rows.append((line, values))
    if not rows and not result.problems:
        result.problems.append(ImportProblem(2, "file", "has no learners below the header"))
    if result.problems:
        return result
    for _line, values in rows:
        result.created.append(
            create_user(
                session,
                actor=actor,
                name=values["name"],
                email=values["email"],
                roles={Role.LEARNER},
                student_id=values.get("student_id") or None,
                usi=values.get("usi") or None,
            )
        )
    return result
