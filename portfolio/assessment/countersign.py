"""Countersigning: a credentialed assessor's own recorded step on the judgements, sign-offs and
outcomes someone working under their direction made (Standards for RTOs 2025, 3.3).

Who may countersign is the credential register's word (authorised for the unit today); what
waits is read from the records themselves; each countersignature is in the audit log.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, aliased

from portfolio.assessment.entries import audit
from portfolio.assessment.review import ReviewView
from portfolio.clock import today
from portfolio.credentials import rules as credential_rules
from portfolio.credentials.services import (
    authorised_units,
    check_countersigner,
    register_of,
    unit_codes,
)
from portfolio.enrolments.services import enrolments_by_id
from portfolio.errors import ServiceError
from portfolio.models import (
    Credential,
    Enrolment,
    GapSignoff,
    Judgement,
    UnitOutcome,
    User,
)
from portfolio.models.base import utcnow
from portfolio.models.review import Countersigned


@dataclass(frozen=True)
class Waiting:
    """One record waiting for a countersignature: what it is, about what, by whom."""

    kind: str
    about: str
    entry: Countersigned

    @property
    def label(self) -> str:
        return f"{self.kind} {self.about}".strip()


def waiting(view: ReviewView) -> list[Waiting]:
    """The enrolment's standing records made under direction and not yet countersigned, in
    the unit's order, the outcome last."""
    found = []
    for target in view.targets:
        signoff = view.signoffs.get(target.id)
        if signoff is not None and signoff.awaiting_countersign:
            found.append(Waiting("Sign-off of", target.ref, signoff))
        judgement = view.judgements.get(target.id)
        if judgement is not None and judgement.awaiting_countersign:
            found.append(Waiting("Judgement of", target.ref, judgement))
    if view.outcome is not None and view.outcome.awaiting_countersign:
        found.append(Waiting("Outcome:", view.outcome.result.label, view.outcome))
    return found


def countersign(
    session: Session, *, actor: User, view: ReviewView, seen: str | None = None
) -> list[Waiting]:
    """Countersign everything of the enrolment that waits, as one recorded step; ``seen``
    (from ``shown``) is what the page listed, refused if that changed meanwhile."""
    found = waiting(view)
    if not found:
        raise ServiceError("Nothing of this enrolment waits for a countersignature.")
    if seen is not None and seen != shown(found):
        raise ServiceError(
            "What waits changed while the page was open (a record was made or changed): "
            "read it again below, then countersign."
        )
    check_countersigner(session, actor, view.unit.release.unit.code)
    if any(w.entry.assessor_id == actor.id for w in found):  # type: ignore[attr-defined]
        raise ServiceError("A countersignature is another assessor's: not your own records.")
    now = utcnow()
    for w in found:
        w.entry.countersigned_by_id = actor.id
        w.entry.countersigned_at = now
    audit(
        session,
        actor,
        view.enrolment,
        "records.countersigned",
        f"enrolment:{view.enrolment.id}",
        None,
        {
            "countersigned": [w.label for w in found],
            "made_by": sorted({w.entry.assessor.name for w in found}),  # type: ignore[attr-defined]
        },
    )
    return found


@dataclass(frozen=True)
class Queue:
    """Enrolments with records waiting, each with how many and since when."""

    enrolment: Enrolment
    count: int
    since: datetime


def _waiting_rows(session: Session, enrolment_ids: list[int] | None = None):
    """(enrolment id, recorded at) of every standing record that waits (a query per kind)."""
    for model in (Judgement, GapSignoff, UnitOutcome):
        newer = aliased(model)
        query = select(model.enrolment_id, model.recorded_at).where(
            model.countersign_needed.is_(True),
            model.countersigned_at.is_(None),
            ~exists().where(newer.replaces_id == model.id),
        )
        if enrolment_ids is not None:
            query = query.where(model.enrolment_id.in_(enrolment_ids))
        yield from session.execute(query)


def queue(session: Session, actor: User) -> list[Queue]:
    """What waits for a countersignature in the units the register authorises ``actor`` for
    today, oldest first (a fixed number of queries)."""
    counts: dict[int, int] = defaultdict(int)
    since: dict[int, datetime] = {}
    for enrolment_id, recorded_at in _waiting_rows(session):
        counts[enrolment_id] += 1
        since[enrolment_id] = min(since.get(enrolment_id, recorded_at), recorded_at)
    if not counts:
        return []
    entries = list(session.scalars(select(Credential).where(Credential.user_id == actor.id)))
    on, now = today(), utcnow()
    found = enrolments_by_id(session, list(counts))
    mine = [
        e
        for e in found.values()
        if credential_rules.authorisation(entries, e.unit_release.unit.code, on, now).ok
        and e.assessor_id != actor.id
    ]
    return sorted(
        (Queue(e, counts[e.id], since[e.id]) for e in mine), key=lambda q: (q.since, q.enrolment.id)
    )


def may_countersign(session: Session, actor: User, enrolment: Enrolment) -> bool:
    """Whether ``actor`` may open the enrolment to countersign it: something of it waits, the
    register authorises them for its unit today, and it is not their own. (Nothing else of an
    enrolment is theirs to read.)"""
    if enrolment.assessor_id == actor.id or not any(_waiting_rows(session, [enrolment.id])):
        return False
    entries = session.scalars(select(Credential).where(Credential.user_id == actor.id))
    code = enrolment.unit_release.unit.code
    return credential_rules.authorisation(entries, code, today(), utcnow()).ok


def units_to_countersign(session: Session, actor: User) -> list[str]:
    """The units the register authorises ``actor`` for today: those they may countersign."""
    entries = register_of(session, actor)
    found = authorised_units(entries, unit_codes(session), today(), utcnow())
    return [code for code, authorisation in found.items() if authorisation.ok]


def shown(found: list[Waiting]) -> str:
    """What the countersigning page listed, as its form carries it back: each record's kind,
    id and version, so a record changed or added meanwhile is not signed unseen."""
    return ",".join(
        f"{type(w.entry).__name__}:{w.entry.id}:{w.entry.lock_version}"  # type: ignore[attr-defined]
        for w in found
    )
