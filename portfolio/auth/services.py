"""Account services. They take the acting user and flush; the caller commits."""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import Session

from portfolio.audit.log import admin_role, record
from portfolio.auth import passwords
from portfolio.errors import ServiceError
from portfolio.models import AccountLink, NotifyMode, Role, User, UserRole
from portfolio.models.base import utcnow

# A local part, then a domain of two or more labels split by single dots. (Labels hold no dot,
# so a long line that is no address is refused in time in step with its length.)
EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+$")
# USIs use digits and capital letters without the easily confused 0, 1, I and O; the last is a
# check character over the first nine (Luhn mod N over this alphabet, as the USI Registry
# System issues them).
USI_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
USI = re.compile(r"^[2-9A-HJ-NP-Z]{10}$")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def active_with_role(session: Session, role: Role) -> list[User]:
    """The people with ``role`` who can log in, oldest account first."""
    return list(
        session.scalars(
            select(User)
            .join(UserRole)
            .where(UserRole.role == role, User.active.is_(True))
            .order_by(User.id)
        )
    )


def active_admins(session: Session) -> list[User]:
    """The RTO's admins who can log in (whom a notice goes to)."""
    return active_with_role(session, Role.ADMIN)


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


def person_matches(typed: str) -> ColumnElement[bool]:
    """The condition of the account lists' search box: part of the name or email, or the
    whole student ID, as an admin types it."""
    typed = typed.strip()
    like = f"%{typed.lower()}%"
    return or_(
        func.lower(User.name).like(like),
        func.lower(User.email).like(like),
        User.student_id == typed,
    )


def get_user(session: Session, key: str, field: str | None = None) -> User:
    """The account whose email or student ID is ``key``; refused when there is none."""
    user = find_user(session, key)
    if user is None:
        raise ServiceError(f"No account has the email or student ID {key.strip()}.", field)
    return user


def check_email_free(session: Session, email: str) -> None:
    if not EMAIL.match(email):
        raise ServiceError(f"{email!r} is not an email address.", "email")
    if find_user_by_email(session, email) is not None:
        raise ServiceError(f"There is already an account for {email}.", "email")


def check_student_id_free(session: Session, student_id: str | None) -> None:
    if student_id and session.scalar(select(User.id).where(User.student_id == student_id)):
        raise ServiceError(f"Student ID {student_id} belongs to another learner.", "student_id")


def usi_check_character(first_nine: str) -> str:
    """The character a USI ends with, computed from its first nine (Luhn mod N, N = 32)."""
    n = len(USI_ALPHABET)
    total, factor = 0, 2
    for character in reversed(first_nine):
        addend = factor * USI_ALPHABET.index(character)
        total += addend // n + addend % n
        factor = 1 if factor == 2 else 2
    return USI_ALPHABET[(n - total % n) % n]


def check_usi(usi: str | None) -> None:
    if not usi:
        return
    if not USI.match(usi):
        raise ServiceError(
            f"{usi} is not a USI: a USI is 10 characters, digits 2-9 and capital letters "
            "except I and O.",
            "usi",
        )
    if usi_check_character(usi[:9]) != usi[9]:
        raise ServiceError(
            f"{usi} is not a valid USI: its last character does not match the other nine. "
            "Check it against the learner's USI record; a letter or digit is mistyped.",
            "usi",
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
    temporary: bool = False,
    student_id: str | None = None,
    usi: str | None = None,
) -> User:
    """Create an account. Without a password it cannot log in until its holder chooses one
    by a set-up link (``auth.links``); a ``temporary`` password must be changed at the
    first login.

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
    check_email_free(session, email)
    check_student_id_free(session, student_id)
    check_usi(usi)
    user = User(name=name.strip(), email=email, student_id=student_id, usi=usi)
    user.set_roles(role_set)
    if password:
        user.set_password(passwords.check(password, known=(name, email, student_id or "")))
        user.must_change_password = temporary
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
    return user


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


def _changed(user: User, values: dict[str, object]) -> tuple[dict[str, object], dict[str, object]]:
    before: dict[str, object] = {}
    after: dict[str, object] = {}
    for key, value in values.items():
        old = sorted(r.value for r in user.roles) if key == "roles" else getattr(user, key)
        if old != value:
            before[key], after[key] = old, value
    return before, after


def update_user(
    session: Session,
    *,
    actor: User | None,
    user: User,
    name: str,
    email: str,
    roles: Iterable[Role],
    student_id: str | None,
    usi: str | None,
) -> bool:
    """Change an account's details and roles; False when nothing was different. The audit
    event keeps each changed value before and after."""
    email = normalise_email(email)
    student_id = (student_id or "").strip() or None
    usi = (usi or "").strip().upper() or None
    role_set = set(roles)
    if not name.strip():
        raise ServiceError("A name is required.", "name")
    if not role_set:
        raise ServiceError("Choose at least one role.", "roles")
    if actor is not None and actor.id == user.id and Role.ADMIN not in role_set:
        raise ServiceError("You cannot take the RTO admin role from your own account.", "roles")
    if email != user.email:
        if not EMAIL.match(email):
            raise ServiceError(f"{email!r} is not an email address.", "email")
        other = find_user_by_email(session, email)
        if other is not None and other.id != user.id:
            raise ServiceError(f"{email} is the email of another account.", "email")
    if student_id != user.student_id:
        check_student_id_free(session, student_id)
    if usi != user.usi:
        check_usi(usi)
    before, after = _changed(
        user,
        {
            "name": name.strip(),
            "email": email,
            "roles": sorted(r.value for r in role_set),
            "student_id": student_id,
            "usi": usi,
        },
    )
    if not after:
        return False
    user.name, user.email, user.student_id, user.usi = name.strip(), email, student_id, usi
    user.set_roles(role_set)
    session.flush()
    record(
        session,
        actor=actor,
        role=admin_role(actor),
        action="user.updated",
        subject=f"user:{user.id}",
        before=before,
        after=after,
    )
    return True


def change_password(
    session: Session, *, user: User, current: str, new: str, address: str | None
) -> None:
    """The person chooses a new password, giving their current one. Every other session of
    theirs ends, and any set-up or reset link stops working."""
    if not user.check_password(current):
        raise ServiceError("That is not your current password.", "current_password")
    if current == new:
        raise ServiceError("Choose a password different from your current one.", "new_password")
    chosen = passwords.check(
        new, known=(user.name, user.email, user.student_id or ""), field="new_password"
    )
    user.set_password(chosen)
    user.must_change_password = False
    session.execute(
        update(AccountLink)
        .where(AccountLink.user_id == user.id, AccountLink.used_at.is_(None))
        .values(used_at=utcnow())
    )
    session.flush()
    record(
        session,
        actor=user,
        role=None,
        action="account.password-changed",
        subject=f"user:{user.id}",
        after={"address": address},
    )


def set_temporary_password(
    session: Session, *, actor: User | None, user: User, password: str
) -> None:
    """Someone else sets the person's password (the operator at the command line): it must be
    changed at their next login, and their sessions end."""
    user.set_password(passwords.check(password, known=(user.name, user.email)))
    user.must_change_password = True
    session.flush()
    record(
        session,
        actor=actor,
        role=admin_role(actor),
        action="account.password-set",
        subject=f"user:{user.id}",
        after={"by": "admin" if actor else "system", "must_change": True},
    )


def set_notify(session: Session, *, user: User, mode: NotifyMode) -> None:
    """How the person hears of what waits for them: each email at once, or a daily digest."""
    if user.notify is mode:
        return
    before = user.notify.value
    user.notify = mode
    session.flush()
    record(
        session,
        actor=user,
        role=None,
        action="account.notify-changed",
        subject=f"user:{user.id}",
        before={"notify": before},
        after={"notify": mode.value},
    )
