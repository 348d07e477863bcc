"""Enrolling learners in units and assigning assessors. Services flush; callers commit."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, joinedload

from portfolio.audit.log import admin_role, record
from portfolio.auth.services import person_matches
from portfolio.clock import today
from portfolio.errors import ServiceError
from portfolio.models import (
    AssessmentState,
    CohortMember,
    Enrolment,
    Role,
    Unit,
    UnitRelease,
    User,
)
from portfolio.units.services import get_release


def enrolment_payload(
    learner_id: int, unit: str, release: int, is_rpl: bool, assessor_id: int | None
) -> dict[str, object]:
    """What the audit log keeps of a new enrolment."""
    return {
        "learner_id": learner_id,
        "unit": unit,
        "release": release,
        "is_rpl": is_rpl,
        "assessor_id": assessor_id,
    }


def enrol(
    session: Session,
    *,
    actor: User | None,
    learner: User,
    unit_code: str,
    is_rpl: bool = False,
    assessor: User | None = None,
    starts_on: date | None = None,
) -> Enrolment:
    """Enrol a learner in the newest release of a unit; the enrolment stays on that release.

    The activity starts ``starts_on`` (today where none is given), as the student management
    system is told."""
    if not learner.has_role(Role.LEARNER):
        raise ServiceError(f"{learner.name} is not a learner.", "learner")
    if not learner.active:
        raise ServiceError(f"{learner.name}'s account is deactivated.", "learner")
    release = get_release(session, unit_code)
    if release is None:
        raise ServiceError(f"There is no unit {unit_code}.", "unit")
    existing = session.scalar(
        select(Enrolment)
        .join(UnitRelease)
        .where(Enrolment.learner_id == learner.id, UnitRelease.unit_id == release.unit_id)
    )
    if existing is not None:
        raise ServiceError(
            f"{learner.name} is already enrolled in {release.unit.code} "
            f"(release {existing.unit_release.release}).",
            "unit",
        )
    if assessor is not None:
        check_assessor(assessor, learner)
    check_start(starts_on)
    return create_enrolment(
        session,
        actor=actor,
        learner=learner,
        release=release,
        is_rpl=is_rpl,
        assessor=assessor,
        starts_on=starts_on,
    )


def check_start(starts_on: date | None) -> None:
    if starts_on is not None and starts_on > today() + timedelta(days=366):
        raise ServiceError("An activity starts within the coming year.", "starts_on")


def create_enrolment(
    session: Session,
    *,
    actor: User | None,
    learner: User,
    release: UnitRelease,
    is_rpl: bool,
    assessor: User | None,
    starts_on: date | None,
) -> Enrolment:
    """The enrolment and its audit event, once ``enrol``'s checks (or a caller's own, made
    once for many learners) have passed."""
    enrolment = Enrolment(
        learner=learner,
        unit_release=release,
        is_rpl=is_rpl,
        assessor=assessor,
        created_by_id=actor.id if actor else None,
        activity_start=starts_on or today(),
    )
    session.add(enrolment)
    session.flush()
    record(
        session,
        actor=actor,
        role=admin_role(actor),
        action="enrolment.created",
        subject=f"enrolment:{enrolment.id}",
        enrolment=enrolment,
        after=enrolment_payload(
            learner.id,
            release.unit.code,
            release.release,
            is_rpl,
            assessor.id if assessor is not None else None,
        ),
    )
    return enrolment


def check_assessor(assessor: User, learner: User) -> None:
    """An assessor may take this learner's enrolment (and not their own)."""
    if not assessor.has_role(Role.ASSESSOR):
        raise ServiceError(f"{assessor.name} is not an assessor.", "assessor")
    if not assessor.active:
        raise ServiceError(f"{assessor.name}'s account is deactivated.", "assessor")
    if assessor.id == learner.id:
        raise ServiceError("Nobody assesses their own enrolment.", "assessor")


def assign_assessor(
    session: Session, *, actor: User | None, enrolment: Enrolment, assessor: User | None
) -> None:
    """Give the enrolment to an assessor (or take it from one with ``None``)."""
    if assessor is not None:
        check_assessor(assessor, enrolment.learner)
    before = enrolment.assessor.id if enrolment.assessor is not None else None
    after = assessor.id if assessor is not None else None
    enrolment.assessor = assessor
    session.flush()
    if before != after:
        record(
            session,
            actor=actor,
            role=admin_role(actor),
            action="enrolment.assessor",
            subject=f"enrolment:{enrolment.id}",
            enrolment=enrolment,
            before={"assessor_id": before},
            after={"assessor_id": after},
        )


def find_enrolment(session: Session, learner: User, unit_code: str) -> Enrolment | None:
    """The learner's enrolment in a unit (any release), if there is one."""
    return session.scalar(
        select(Enrolment)
        .join(UnitRelease)
        .join(Unit)
        .where(Enrolment.learner_id == learner.id, Unit.code == unit_code.strip().upper())
    )


def enrolments_query() -> Select[tuple[Enrolment]]:
    """Enrolments newest first, with learner, assessor and unit in the same row (one query)."""
    return (
        select(Enrolment)
        .options(
            # The lists name the learner and the assessor; their roles are not needed.
            joinedload(Enrolment.learner).lazyload(User.role_rows),
            joinedload(Enrolment.assessor).lazyload(User.role_rows),
            joinedload(Enrolment.unit_release).joinedload(UnitRelease.unit),
        )
        .order_by(Enrolment.created_at.desc(), Enrolment.id.desc())
    )


@dataclass(frozen=True)
class EnrolmentFilter:
    """What the admin's enrolments list is narrowed to; empty values do not narrow it."""

    q: str = ""
    unit: str = ""
    #: An assessor's id; 0 for enrolments with no assessor yet.
    assessor: int | None = None
    state: str = ""
    cohort: int | None = None

    @property
    def args(self) -> dict[str, object]:
        """The filter as query arguments, for the page links."""
        return {k: v for k, v in asdict(self).items() if v not in ("", None)}


def filtered(query: Select[tuple[Enrolment]], chosen: EnrolmentFilter) -> Select[tuple[Enrolment]]:
    """``query`` narrowed by learner (name, email or student ID), unit, assessor, state and
    cohort."""
    if chosen.q:
        query = query.where(
            Enrolment.learner_id.in_(select(User.id).where(person_matches(chosen.q)))
        )
    if chosen.unit:
        query = query.where(
            Enrolment.unit_release_id.in_(
                select(UnitRelease.id).join(Unit).where(Unit.code == chosen.unit)
            )
        )
    if chosen.assessor is not None:
        query = query.where(
            Enrolment.assessor_id.is_(None)
            if chosen.assessor == 0
            else Enrolment.assessor_id == chosen.assessor
        )
    if chosen.state in {s.value for s in AssessmentState}:
        query = query.where(Enrolment.state == AssessmentState(chosen.state))
    if chosen.cohort is not None:
        query = query.where(
            Enrolment.learner_id.in_(
                select(CohortMember.user_id).where(CohortMember.cohort_id == chosen.cohort)
            )
        )
    return query


def enrolments_by_id(session: Session, ids: Iterable[int]) -> dict[int, Enrolment]:
    """These enrolments with learner, assessor and unit loaded, by id, in a fixed few queries."""
    ids = list(ids)
    if not ids:
        return {}
    return {e.id: e for e in session.scalars(enrolments_query().where(Enrolment.id.in_(ids)))}
