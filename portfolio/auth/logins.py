"""Logging in, as the audit log records it: every success and failure is an event, and an
account with too many recent failures is locked for a while.

The failures are counted from the log itself, so every worker process of the app sees the
same count and a lockout holds however the requests are spread. A lock does not hold for an
address the account has logged in from before (``LoginPolicy.known_for``), so guessing from
elsewhere cannot lock someone out of their usual place of work. Guessing from many addresses
is slowed per account here; guessing many accounts from one address is slowed per address by
the rate limit on the login form (``create_app``).

An unknown email costs the same password-hash work as a known one, so the time of the answer
does not tell whether an account exists.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from portfolio.audit.log import record
from portfolio.auth.services import find_user_by_email, normalise_email
from portfolio.models import AuditEvent, User
from portfolio.models.accounts import password_hash_method
from portfolio.models.base import utcnow

SUCCEEDED = "login.succeeded"
FAILED = "login.failed"
LOCKED = "login.locked"
#: An attempt while the account is locked: logged, but not counted as another failure.
REFUSED = "login.refused"


@dataclass(frozen=True)
class LoginPolicy:
    #: Failures in a row (since the last success) within ``window`` that lock the account.
    failures: int = 5
    window: timedelta = timedelta(minutes=15)
    #: A lock holds for addresses the account has not logged in from within this time: whoever
    #: guesses from elsewhere cannot lock the person out of their usual place of work.
    known_for: timedelta = timedelta(days=90)


def policy_from(config: Mapping[str, Any]) -> LoginPolicy:
    """The app's lockout policy (``LOGIN_LOCK_FAILURES`` in ``LOGIN_LOCK_MINUTES``)."""
    return LoginPolicy(
        int(config["LOGIN_LOCK_FAILURES"]), timedelta(minutes=int(config["LOGIN_LOCK_MINUTES"]))
    )


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    #: Set when the account is locked: the moment it may be tried again.
    locked_until: datetime | None = None
    #: The password was right, but this account logs in by single sign-on only.
    sso_only: bool = False


@functools.cache
def _decoy_hash(method: str) -> str:
    """A hash to check an unknown account's password against, made with the same method."""
    return generate_password_hash("not anyone's password", method=method)


def _subject(user: User) -> str:
    return f"user:{user.id}"


def _recent_failures(session: Session, user: User, policy: LoginPolicy) -> list[datetime]:
    """The account's failures within the window since its last success, newest first."""
    since = utcnow() - policy.window
    last_success = select(func.coalesce(func.max(AuditEvent.seq), 0)).where(
        AuditEvent.action == SUCCEEDED, AuditEvent.subject == _subject(user)
    )
    return list(
        session.scalars(
            select(AuditEvent.occurred_at)
            .where(
                AuditEvent.action == FAILED,
                AuditEvent.subject == _subject(user),
                AuditEvent.occurred_at >= since,
                AuditEvent.seq > last_success.scalar_subquery(),
            )
            .order_by(AuditEvent.seq.desc())
            .limit(policy.failures)
        )
    )


def _known_address(session: Session, user: User, address: str | None, policy: LoginPolicy) -> bool:
    """Whether the account logged in from ``address`` within ``policy.known_for``."""
    if not address:
        return False
    return (
        session.scalar(
            select(AuditEvent.id)
            .where(
                AuditEvent.action == SUCCEEDED,
                AuditEvent.subject == _subject(user),
                AuditEvent.occurred_at >= utcnow() - policy.known_for,
                AuditEvent.after["address"].as_string() == address,
            )
            .limit(1)
        )
        is not None
    )


def _locked_until(failures: list[datetime], policy: LoginPolicy) -> datetime | None:
    if len(failures) < policy.failures:
        return None
    # Locked until the oldest of the counted failures leaves the window.
    return failures[-1] + policy.window


def log_in(
    session: Session,
    *,
    email: str,
    password: str,
    address: str | None,
    hash_method: str | None = None,
    policy: LoginPolicy = LoginPolicy(),
    password_allowed: Callable[[User], bool] = lambda user: True,
) -> LoginResult:
    """The active account with this email and password, or why not; every outcome is logged.

    Never says which of email and password was wrong. The caller commits.
    """
    hash_method = hash_method or password_hash_method()
    where = {"address": address}

    def refused(action: str, subject: str, after: dict[str, object]) -> None:
        """A login that did not happen, logged without an actor (nobody is logged in)."""
        record(session, actor=None, role=None, action=action, subject=subject, after=after)

    user = find_user_by_email(session, email)
    if user is None:
        check_password_hash(_decoy_hash(hash_method), password)
        refused(
            FAILED, f"email:{normalise_email(email)[:200]}", {**where, "reason": "no such account"}
        )
        return LoginResult(None)
    locked = _locked_until(_recent_failures(session, user, policy), policy)
    if locked is not None and not _known_address(session, user, address, policy):
        check_password_hash(user.password_hash or _decoy_hash(hash_method), password)
        refused(
            REFUSED,
            _subject(user),
            {**where, "reason": "locked", "until": locked.isoformat(timespec="seconds")},
        )
        return LoginResult(None, locked)
    if not user.check_password(password) or not user.active:
        reason = "wrong password" if user.active else "account deactivated"
        refused(FAILED, _subject(user), {**where, "reason": reason})
        locked = _locked_until(_recent_failures(session, user, policy), policy)
        if locked is not None:
            refused(
                LOCKED, _subject(user), {**where, "until": locked.isoformat(timespec="seconds")}
            )
        return LoginResult(None, locked)
    if not password_allowed(user):
        refused(REFUSED, _subject(user), {**where, "reason": "password login is off for staff"})
        return LoginResult(None, sso_only=True)
    record(session, actor=user, role=None, action=SUCCEEDED, subject=_subject(user), after=where)
    return LoginResult(user)
