"""One-time account links: a new account's set-up link (choose a first password) and a reset
link (choose a new one in place of a forgotten one).

A link is a random token; only its SHA-256 is kept. It works once, until it expires (set-up:
SETUP_LINK_DAYS; reset: an hour), and a newer link for the same purpose, or any new password,
makes the older ones void. Each issue, use and refusal of a link is in the audit log.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portfolio.audit.log import admin_role, record
from portfolio.auth import passwords
from portfolio.auth.services import find_user_by_email
from portfolio.clock import rto_zone
from portfolio.errors import ServiceError
from portfolio.mail.outbox import mail_on, public_url, write
from portfolio.models import AccountLink, LinkPurpose, User
from portfolio.models.base import utcnow
from portfolio.text import day_and_time

RESET_FOR = timedelta(hours=1)
#: What a person is told of a link that does not work, whatever the reason: the reason is in
#: the audit log, not on a page anyone holding a guessed link can read.
DEAD_LINK = (
    "This link does not work: it has been used already, has expired, or was replaced by a "
    "newer one. Ask for a new one below, or ask your RTO."
)


@dataclass(frozen=True)
class Issued:
    link: AccountLink
    url: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def lifetime(purpose: LinkPurpose) -> timedelta:
    if purpose is LinkPurpose.RESET:
        return RESET_FOR
    return timedelta(days=int(current_app.config["SETUP_LINK_DAYS"]))


def path(purpose: LinkPurpose, token: str) -> str:
    return f"/account/{purpose.value}/{token}"


def _void(session: Session, user: User, purpose: LinkPurpose | None = None) -> None:
    """Every unused link of ``user`` (for ``purpose``, or all) stops working."""
    query = update(AccountLink).where(AccountLink.user_id == user.id, AccountLink.used_at.is_(None))
    if purpose is not None:
        query = query.where(AccountLink.purpose == purpose)
    session.execute(query.values(used_at=utcnow()))


def issue(session: Session, *, actor: User | None, user: User, purpose: LinkPurpose) -> Issued:
    """A new link for ``user``; their older unused links for the same purpose stop working."""
    if not user.active:
        raise ServiceError(f"{user.name}'s account is deactivated: reactivate it first.")
    _void(session, user, purpose)
    token = secrets.token_urlsafe(32)
    link = AccountLink(
        user_id=user.id,
        purpose=purpose,
        token_hash=_hash(token),
        created_by_id=actor.id if actor else None,
        expires_at=utcnow() + lifetime(purpose),
    )
    session.add(link)
    session.flush()
    record(
        session,
        actor=actor,
        role=admin_role(actor) if purpose is LinkPurpose.SETUP else None,
        action=f"account.{purpose.value}-link-issued",
        subject=f"user:{user.id}",
        after={"expires_at": link.expires_at.isoformat(timespec="seconds")},
    )
    return Issued(link, public_url(path(purpose, token)))


def send_setup_link(session: Session, *, actor: User | None, user: User) -> bool:
    """Email ``user`` a new set-up link; False when mail is off (nothing issued)."""
    if not mail_on():
        return False
    issued = issue(session, actor=actor, user=user, purpose=LinkPurpose.SETUP)
    write(
        session,
        to=user,
        kind="account.setup",
        subject="Your portfolio account",
        link=issued.url,
        context={
            "expires": expires_text(issued.link.expires_at),
            "roles": ", ".join(sorted(r.label for r in user.roles)),
        },
    )
    return True


def expires_text(moment: datetime) -> str:
    """When a link stops working, as the RTO reads it."""
    return day_and_time(moment, rto_zone())


def request_reset(session: Session, *, email: str, address: str | None) -> None:
    """Email a reset link to the active account with ``email``, if there is one. The caller
    answers the same either way, so the page does not tell who has an account."""
    user = find_user_by_email(session, email)
    if user is None or not user.active or not mail_on():
        record(
            session,
            actor=None,
            role=None,
            action="account.reset-refused",
            subject=f"user:{user.id}" if user else f"email:{email.strip().lower()[:200]}",
            after={
                "address": address,
                "reason": "no such account"
                if user is None
                else ("account deactivated" if not user.active else "mail is off"),
            },
        )
        return
    issued = issue(session, actor=None, user=user, purpose=LinkPurpose.RESET)
    write(
        session,
        to=user,
        kind="password.reset",
        subject="Set a new password",
        link=issued.url,
        context={"expires": expires_text(issued.link.expires_at)},
    )


def _stored(session: Session, token: str) -> AccountLink | None:
    return session.scalar(select(AccountLink).where(AccountLink.token_hash == _hash(token)))


def _why_dead(link: AccountLink | None, purpose: LinkPurpose) -> str | None:
    """Why the link does not work (for the audit log), or None when it does."""
    if link is None:
        return "unknown link"
    if link.used_at is not None:
        return "used or replaced"
    if link.expires_at <= utcnow():
        return "expired"
    if link.purpose is not purpose:
        return "wrong kind of link"
    if not link.user.active:
        return "account deactivated"
    return None


def find(session: Session, token: str, purpose: LinkPurpose) -> AccountLink | None:
    """The working link with this token, or None (unknown, used, void or expired)."""
    link = _stored(session, token)
    return link if _why_dead(link, purpose) is None else None


def refused(session: Session, token: str, purpose: LinkPurpose, address: str | None) -> None:
    """Log a link that did not work, and why."""
    link = _stored(session, token)
    record(
        session,
        actor=None,
        role=None,
        action="account.link-refused",
        subject=f"user:{link.user_id}" if link else "account-link",
        after={"address": address, "reason": _why_dead(link, purpose), "purpose": purpose.value},
    )


def redeem(
    session: Session, *, token: str, purpose: LinkPurpose, password: str, address: str | None
) -> User:
    """Set the password the link's holder chose; the link (and any other) stops working."""
    link = find(session, token, purpose)
    if link is None:
        raise ServiceError(DEAD_LINK)
    user = link.user
    chosen = passwords.check(
        password, known=(user.name, user.email, user.student_id or ""), field="new_password"
    )
    user.set_password(chosen)
    user.must_change_password = False
    link.used_at = utcnow()
    _void(session, user)
    session.flush()
    record(
        session,
        actor=user,
        role=None,
        action="account.password-set",
        subject=f"user:{user.id}",
        after={"by": f"{purpose.value} link", "address": address},
    )
    return user
