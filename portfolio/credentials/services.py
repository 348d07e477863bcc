"""Keeping the credential register: entries added and ended by an admin, each in the audit
log; read back for a person, for everyone's upcoming expiries, and as an authorisation for a
unit on a day."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from portfolio.audit.log import record
from portfolio.auth.services import active_admins, active_with_role
from portfolio.clock import today
from portfolio.credentials import rules
from portfolio.credentials.rules import Authorisation, Entry
from portfolio.errors import ServiceError
from portfolio.files.uploads import NewFile
from portfolio.mail.outbox import mail_on, public_url, write
from portfolio.models import Credential, CredentialFile, Role, Unit, User
from portfolio.models.base import utcnow
from portfolio.text import count


def _subject(user: User) -> str:
    return f"user:{user.id}"


def unit_codes(session: Session) -> list[str]:
    return list(session.scalars(select(Unit.code).order_by(Unit.code)))


def add_entry(
    session: Session, *, actor: User, user: User, entry: Entry, files: list[NewFile]
) -> Credential:
    """Add an entry to ``user``'s register, with the documents behind it."""
    if not user.has_role(Role.ASSESSOR):
        raise ServiceError(f"{user.name} is not an assessor: give them the role first.")
    kept = rules.checked_entry(entry, unit_codes=unit_codes(session), today=today())
    credential = Credential(
        user_id=user.id,
        kind=kept.kind,
        code=kept.code,
        title=kept.title,
        basis=kept.basis,
        reason=kept.reason,
        starts_on=kept.starts_on,
        ends_on=kept.ends_on,
        recorded_by_id=actor.id,
        files=[CredentialFile(uploaded_by_id=actor.id, **vars(f)) for f in files],
    )
    session.add(credential)
    session.flush()
    record(
        session,
        actor=actor,
        role=Role.ADMIN,
        action="credential.added",
        subject=_subject(user),
        after={
            **rules.entry_payload(kept),
            "files": [{"name": f.display_name, "sha256": f.sha256} for f in files],
        },
    )
    return credential


def end_entry(session: Session, *, actor: User, credential: Credential, reason: str) -> None:
    """An entry that no longer stands (entered in error, withdrawn): ended, kept on record."""
    if credential.ended_at is not None:
        raise ServiceError("That entry is already ended.")
    if not reason.strip():
        raise ServiceError("Say why the entry no longer stands; it is kept on record.", "reason")
    credential.ended_at = utcnow()
    credential.ended_by_id = actor.id
    credential.end_reason = reason.strip()
    record(
        session,
        actor=actor,
        role=Role.ADMIN,
        action="credential.ended",
        subject=_subject(credential.user),
        before={"kind": credential.kind, "code": credential.code, "title": credential.title},
        after={"reason": credential.end_reason},
    )


def register_of(session: Session, user: User) -> list[Credential]:
    """A person's entries, current and past, by kind and newest first."""
    return list(
        session.scalars(
            select(Credential)
            .where(Credential.user_id == user.id)
            .options(selectinload(Credential.files), selectinload(Credential.ended_by))
            .order_by(Credential.kind, Credential.starts_on.desc(), Credential.id.desc())
        )
    )


def authorised_units(
    entries: Iterable[Credential], codes: Iterable[str], on: date, known_at: datetime
) -> dict[str, Authorisation]:
    """Each unit's authorisation for the person whose ``entries`` these are."""
    entries = list(entries)
    return {code: rules.authorisation(entries, code, on, known_at) for code in codes}


def assessors_authorised(session: Session) -> list[tuple[User, dict[str, Authorisation]]]:
    """Every active assessor with each unit's authorisation today (three queries)."""
    assessors = sorted(active_with_role(session, Role.ASSESSOR), key=lambda a: (a.name, a.id))
    entries: dict[int, list[Credential]] = {}
    for entry in session.scalars(
        select(Credential).where(Credential.user_id.in_([a.id for a in assessors]))
    ):
        entries.setdefault(entry.user_id, []).append(entry)
    codes = unit_codes(session)
    on, now = today(), utcnow()
    return [(a, authorised_units(entries.get(a.id, []), codes, on, now)) for a in assessors]


def expiring_soon(session: Session) -> list[Credential]:
    """Everyone's entries in force that lapse within the notice period, soonest first."""
    entries = session.scalars(
        select(Credential)
        .where(Credential.ended_at.is_(None), Credential.ends_on.is_not(None))
        .options(selectinload(Credential.user))
    ).all()
    return rules.expiring(entries, today(), utcnow())


def tell_expiring(session: Session) -> tuple[list[Credential], int]:
    """The entries lapsing soon, and how many admins were emailed the list (none when there is
    nothing to tell or mail is off)."""
    entries = expiring_soon(session)
    if not entries or not mail_on():
        return entries, 0
    rows = [
        {
            "assessor": e.user.name,
            "kind": e.kind.label,
            "code": e.code,
            "title": e.title,
            "ends_on": e.ends_on,
        }
        for e in entries
    ]
    told = 0
    for admin in active_admins(session):
        sent = write(
            session,
            to=admin,
            kind="credentials.expiring",
            subject=f"{count(len(entries), 'credential entry')} lapse within "
            f"{rules.EXPIRY_NOTICE_DAYS} days",
            link=public_url("/admin/credentials"),
            context={"rows": rows, "days": rules.EXPIRY_NOTICE_DAYS},
        )
        told += sent is not None
    return entries, told


def check_authorised(session: Session, actor: User, unit_code: str) -> bool:
    """Refuse a judgement, sign-off or outcome by someone the register does not authorise for
    the unit today, with what is missing (when CREDENTIALS_ENFORCED is on). True when the
    person works under direction: what they record then needs a countersignature."""
    if not current_app.config.get("CREDENTIALS_ENFORCED"):
        return False
    found = _authorisation_today(session, actor, unit_code)
    if found.under_direction:
        return True
    if not found.ok:
        raise ServiceError(
            f"{found} Only an assessor the credential register authorises for the unit may "
            "record a judgement, a sign-off or an outcome: ask an admin to add what is missing "
            "to your register (Your account > Your credentials shows it)."
        )
    return False


def check_countersigner(session: Session, actor: User, unit_code: str) -> None:
    """Refuse a countersignature by anyone the register does not authorise for the unit today
    (whether or not CREDENTIALS_ENFORCED is on: a countersignature is the credential's word)."""
    found = _authorisation_today(session, actor, unit_code)
    if not found.ok:
        raise ServiceError(
            f"Only a credentialed assessor the register authorises for {unit_code} today may "
            f"countersign: {str(found)[0].lower()}{str(found)[1:]}"
        )


def _authorisation_today(session: Session, actor: User, unit_code: str) -> Authorisation:
    entries = session.scalars(select(Credential).where(Credential.user_id == actor.id))
    return rules.authorisation(entries, unit_code, today(), utcnow())


#: The columns of the register extract an audit bundle carries.
EXTRACT_HEADER = [
    "Assessor",
    "Email",
    "Kind",
    "Code",
    "Title or activity",
    "Basis",
    "Why equivalent",
    "From",
    "Until",
    "Recorded",
    "Ended",
    "Why ended",
    "Documents (SHA-256)",
]


def register_extract(session: Session, user_ids: Iterable[int]) -> list[list[object]]:
    """Every entry, ended ones included, of these people's registers: one row each."""
    entries = session.scalars(
        select(Credential)
        .where(Credential.user_id.in_(list(user_ids)))
        .options(selectinload(Credential.user), selectinload(Credential.files))
        .order_by(Credential.user_id, Credential.kind, Credential.starts_on, Credential.id)
    )
    return [
        [
            e.user.name,
            e.user.email,
            e.kind.label,
            e.code,
            e.title,
            e.basis.label,
            e.reason,
            e.starts_on,
            e.ends_on,
            e.recorded_at.isoformat(timespec="seconds"),
            e.ended_at.isoformat(timespec="seconds") if e.ended_at else None,
            e.end_reason,
            "; ".join(f"{f.display_name} {f.sha256}" for f in e.files),
        ]
        for e in entries
    ]
