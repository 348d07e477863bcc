"""Legal holds: an admin keeps an enrolment past its retention dates (a complaint, an appeal,
an audit, a court matter). While a hold is in place `flask retention run` destroys nothing of
the enrolment; placing and lifting are in the audit log with their reasons."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from portfolio.audit.log import admin_role, record
from portfolio.errors import ServiceError
from portfolio.models import Enrolment, LegalHold, User
from portfolio.models.base import utcnow

MAX_REASON = 2000
#: Enrolments asked about per query.
BATCH = 500


#: A hold is in force until it is lifted.
IN_FORCE = LegalHold.lifted_at.is_(None)


def _in_force(enrolment: Enrolment) -> Select[tuple[LegalHold]]:
    return (
        select(LegalHold)
        .where(LegalHold.enrolment_id == enrolment.id, IN_FORCE)
        .order_by(LegalHold.id)
    )


def active_hold(session: Session, enrolment: Enrolment) -> LegalHold | None:
    return session.scalars(_in_force(enrolment)).first()


def holds_of(session: Session, enrolment: Enrolment) -> list[LegalHold]:
    """Every hold of the enrolment, newest first."""
    return list(
        session.scalars(
            select(LegalHold)
            .where(LegalHold.enrolment_id == enrolment.id)
            .order_by(LegalHold.id.desc())
        )
    )


def hold_reasons(session: Session, enrolment_ids: Iterable[int] | None = None) -> dict[int, str]:
    """The enrolments (of ``enrolment_ids``, or all) on hold now, each with the reason of its
    first hold in force; a query per 500 enrolments."""
    reasons: dict[int, str] = {}
    query = select(LegalHold.enrolment_id, LegalHold.reason).where(IN_FORCE).order_by(LegalHold.id)
    if enrolment_ids is None:
        chunks: Iterable[list[int] | None] = [None]
    else:
        ids = list(enrolment_ids)
        chunks = [ids[i : i + BATCH] for i in range(0, len(ids), BATCH)]
    for chunk in chunks:
        rows = session.execute(
            query if chunk is None else query.where(LegalHold.enrolment_id.in_(chunk))
        )
        for enrolment_id, reason in rows:
            reasons.setdefault(enrolment_id, reason)
    return reasons


def held_ids(session: Session, enrolment_ids: Iterable[int] | None = None) -> set[int]:
    """The enrolments (of ``enrolment_ids``, or all) that are on hold now."""
    return set(hold_reasons(session, enrolment_ids))


def _logged(
    session: Session,
    actor: User | None,
    enrolment: Enrolment,
    action: str,
    **change: dict[str, str],
) -> None:
    record(
        session,
        actor=actor,
        role=admin_role(actor),
        action=f"enrolment.legal_hold_{action}",
        subject=f"enrolment:{enrolment.id}",
        enrolment=enrolment,
        **change,
    )


def _reason(reason: str, field: str) -> str:
    reason = reason.strip()
    if not reason:
        raise ServiceError(
            "Say why: the reason is what an auditor reads when they ask about the hold.", field
        )
    if len(reason) > MAX_REASON:
        raise ServiceError(f"Keep the reason under {MAX_REASON} characters.", field)
    return reason


def place_hold(
    session: Session, *, actor: User | None, enrolment: Enrolment, reason: str
) -> LegalHold:
    reason = _reason(reason, "reason")
    if active_hold(session, enrolment) is not None:
        raise ServiceError("This enrolment is already on legal hold.")
    hold = LegalHold(
        enrolment_id=enrolment.id, reason=reason, placed_by_id=actor.id if actor else None
    )
    session.add(hold)
    _logged(session, actor, enrolment, "placed", after={"reason": reason})
    return hold


def lift_hold(
    session: Session, *, actor: User | None, enrolment: Enrolment, reason: str
) -> LegalHold:
    reason = _reason(reason, "lift_reason")
    # Two admins placing a hold at the same moment make two: lifting ends both.
    holds = session.scalars(_in_force(enrolment)).all()
    if not holds:
        raise ServiceError("This enrolment is not on legal hold (someone may have just lifted it).")
    for hold in holds:
        hold.lifted_at = utcnow()
        hold.lifted_by_id = actor.id if actor else None
        hold.lift_reason = reason
    _logged(
        session,
        actor,
        enrolment,
        "lifted",
        before={"reason": "; ".join(hold.reason for hold in holds)},
        after={"lift_reason": reason},
    )
    return holds[0]
