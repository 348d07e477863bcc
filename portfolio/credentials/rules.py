"""What a credential entry needs, and whether an assessor may assess a unit on a day: pure
functions, tested without a database (``tests/credentials/test_rules.py``).

An assessor is authorised for a unit on a day when the register, as it stood then, holds for
that day: a training and assessment credential, vocational competency in that unit, and
industry currency (for that unit, or for all the units they assess).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from portfolio.errors import ServiceError
from portfolio.models import CredentialBasis, CredentialKind

#: The training and assessment credentials the Credential Policy names: the Certificate IV in
#: Training and Assessment in its releases, and the TAE diplomas. Anything else (a higher
#: education qualification in adult education, say) is recorded as an equivalent, with why.
ACCEPTED = {
    "TAE40122": "Certificate IV in Training and Assessment",
    "TAE40116": "Certificate IV in Training and Assessment",
    "TAE40110": "Certificate IV in Training and Assessment",
    "TAE50122": "Diploma of Vocational Education and Training",
    "TAE50116": "Diploma of Vocational Education and Training",
    "TAE50111": "Diploma of Vocational Education and Training",
    "TAE50222": "Diploma of Training Design and Development",
    "TAE50216": "Diploma of Training Design and Development",
    "TAE50211": "Diploma of Training Design and Development",
}
TAE_NEED = "training and assessment credential"
#: Expiries within this many days are shown to admins and sent to them by email.
EXPIRY_NOTICE_DAYS = 60


@dataclass(frozen=True)
class Entry:
    """A credential entry as an admin types it."""

    kind: CredentialKind
    code: str
    title: str
    basis: CredentialBasis
    reason: str
    starts_on: date | None
    ends_on: date | None


def checked_entry(entry: Entry, *, unit_codes: Iterable[str], today: date) -> Entry:
    """An entry as kept (trimmed, the code in capitals, a title for a known code), once it
    says what an auditor asks of one."""
    code = entry.code.strip().upper()
    title = entry.title.strip()
    reason = entry.reason.strip()
    if entry.starts_on is None:
        raise ServiceError("Give the date it was issued, or the activity began.", "starts_on")
    if entry.starts_on > today:
        raise ServiceError("The date it was issued cannot be in the future.", "starts_on")
    if entry.ends_on is not None and entry.ends_on < entry.starts_on:
        raise ServiceError("The expiry or review date is before the date it began.", "ends_on")
    if entry.basis is CredentialBasis.EQUIVALENT and not reason:
        raise ServiceError(
            "Say why the RTO accepts it as equivalent; an auditor will ask.", "reason"
        )
    if entry.kind is CredentialKind.TRAINING_AND_ASSESSMENT:
        if not code:
            raise ServiceError("Give the qualification's code (TAE40122, ...).", "code")
        if code not in ACCEPTED and entry.basis is CredentialBasis.HELD:
            raise ServiceError(
                f"{code} is not a training and assessment credential the Credential Policy "
                f"names ({', '.join(sorted(ACCEPTED))}): record it as an equivalent, with why.",
                "code",
            )
        title = title or ACCEPTED.get(code, "")
    elif entry.kind is CredentialKind.VOCATIONAL:
        if code not in set(unit_codes):
            raise ServiceError(
                f"{code or 'The code'} is not a unit here: give the code of the unit the "
                "vocational competency is in.",
                "code",
            )
        title = title or f"Vocational competency in {code}"
    elif entry.kind is CredentialKind.UNDER_DIRECTION:
        if code and code not in set(unit_codes):
            raise ServiceError(
                f"{code} is not a unit here: leave the code empty for every unit the person "
                "assesses under direction.",
                "code",
            )
        if not title:
            raise ServiceError(
                'Say whose direction they work under ("Under the direction of Alex '
                "Assessor\"), as the RTO's arrangement names it.",
                "title",
            )
        if entry.ends_on is None:
            raise ServiceError(
                "Give the date the arrangement is next reviewed: working under direction is "
                "for a time.",
                "ends_on",
            )
    else:
        if code and code not in set(unit_codes):
            raise ServiceError(
                f"{code} is not a unit here: leave the code empty for currency in every unit "
                "the assessor assesses.",
                "code",
            )
        if not title:
            raise ServiceError(
                "Say what the activity was (work in the industry, a course, a placement).",
                "title",
            )
        if entry.ends_on is None:
            raise ServiceError(
                "Give the date the currency is next reviewed: industry currency lapses.",
                "ends_on",
            )
    if not title:
        raise ServiceError("Give the qualification's title.", "title")
    if len(title) > 300 or len(code) > 32:
        raise ServiceError("That is too long.", "title" if len(title) > 300 else "code")
    return Entry(entry.kind, code, title, entry.basis, reason, entry.starts_on, entry.ends_on)


def stands(entry: Any, on: date, known_at: datetime) -> bool:
    """Whether the entry counted for ``on``, as the register stood at ``known_at``: recorded by
    then and not ended by then, and in force on that day."""
    return (
        entry.recorded_at <= known_at
        and (entry.ended_at is None or entry.ended_at > known_at)
        and entry.starts_on <= on
        and (entry.ends_on is None or on <= entry.ends_on)
    )


@dataclass(frozen=True)
class Authorisation:
    """Whether an assessor may assess a unit on a day, with what for and what is missing."""

    unit_code: str
    on: date
    held: tuple[Any, ...]
    missing: tuple[str, ...]
    #: The arrangements to assess the unit under a credentialed assessor's direction.
    directed: tuple[Any, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.missing

    @property
    def under_direction(self) -> bool:
        """Not authorised alone, but may assess with each decision countersigned: only the
        training and assessment credential is missing, and an arrangement stands."""
        return bool(self.directed) and self.missing == (TAE_NEED,)

    def __str__(self) -> str:
        if self.ok:
            return f"Authorised for {self.unit_code} on {self.on:%d/%m/%Y}."
        if self.under_direction:
            return (
                f"Working under direction for {self.unit_code} on {self.on:%d/%m/%Y} "
                f"({self.directed[0].title}): each judgement, sign-off and outcome needs a "
                "credentialed assessor's countersignature."
            )
        return (
            f"Not authorised for {self.unit_code} on {self.on:%d/%m/%Y}: the register holds no "
            + ", no ".join(self.missing)
            + " for that day."
        )


def authorisation(
    entries: Iterable[Any], unit_code: str, on: date, known_at: datetime
) -> Authorisation:
    """What the register (as it stood at ``known_at``) says of ``unit_code`` on ``on``."""
    standing = [e for e in entries if stands(e, on, known_at)]
    needs = [
        (
            TAE_NEED,
            [e for e in standing if e.kind is CredentialKind.TRAINING_AND_ASSESSMENT],
        ),
        (
            f"vocational competency in {unit_code}",
            [e for e in standing if e.kind is CredentialKind.VOCATIONAL and e.code == unit_code],
        ),
        (
            f"industry currency for {unit_code}",
            [
                e
                for e in standing
                if e.kind is CredentialKind.INDUSTRY_CURRENCY and e.code in ("", unit_code)
            ],
        ),
    ]
    return Authorisation(
        unit_code,
        on,
        tuple(e for _, found in needs for e in found),
        tuple(need for need, found in needs if not found),
        tuple(
            e
            for e in standing
            if e.kind is CredentialKind.UNDER_DIRECTION and e.code in ("", unit_code)
        ),
    )


def expiring(
    entries: Iterable[Any], today: date, now: datetime, within: int = EXPIRY_NOTICE_DAYS
) -> list[Any]:
    """Entries in force today that lapse within ``within`` days, soonest first."""
    last = today + timedelta(days=within)
    due = [
        e for e in entries if stands(e, today, now) and e.ends_on is not None and e.ends_on <= last
    ]
    return sorted(due, key=lambda e: (e.ends_on, e.id or 0))


def entry_payload(entry: Entry) -> dict[str, Any]:
    """What the audit log keeps of a new entry."""
    return {
        "kind": entry.kind,
        "code": entry.code,
        "title": entry.title,
        "basis": entry.basis,
        "reason": entry.reason,
        "starts_on": entry.starts_on,
        "ends_on": entry.ends_on,
    }
