"""Cohort services. They take the acting admin and flush; the caller commits."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session, selectinload

from portfolio.audit.log import admin_role, record
from portfolio.auth.services import normalise_email
from portfolio.enrolments.services import check_assessor, check_start, create_enrolment
from portfolio.errors import ServiceError
from portfolio.models import Cohort, CohortMember, Enrolment, Role, UnitRelease, User, UserRole
from portfolio.units.services import get_release

#: Learners named in one go (a pasted column of a spreadsheet), and members enrolled at once.
MAX_NAMED = 5000
MAX_UNITS = 20


def _subject(cohort: Cohort) -> str:
    return f"cohort:{cohort.id}"


def create_cohort(session: Session, *, actor: User | None, name: str, description: str) -> Cohort:
    name = " ".join(name.split())
    if not name:
        raise ServiceError("Give the cohort a name.", "name")
    taken = session.scalar(select(Cohort.id).where(func.lower(Cohort.name) == name.lower()))
    if taken is not None:
        raise ServiceError(f"There is already a cohort called {name}.", "name")
    cohort = Cohort(
        name=name, description=description.strip(), created_by_id=actor.id if actor else None
    )
    session.add(cohort)
    session.flush()
    record(
        session,
        actor=actor,
        role=admin_role(actor),
        action="cohort.created",
        subject=_subject(cohort),
        after={"name": cohort.name, "description": cohort.description},
    )
    return cohort


def find_cohort(session: Session, name: str) -> Cohort:
    cohort = session.scalar(select(Cohort).where(func.lower(Cohort.name) == name.strip().lower()))
    if cohort is None:
        raise ServiceError(f"There is no cohort called {name.strip()}.", "cohort")
    return cohort


def keys_from(text: str) -> list[str]:
    """Emails or student IDs, one a line (or separated by commas, semicolons or tabs, as a
    column pasted from a spreadsheet arrives)."""
    return [k for k in (part.strip() for part in re.split(r"[\n,;\t]+", text)) if k]


def add_members(
    session: Session, *, actor: User | None, cohort: Cohort, keys: Iterable[str]
) -> list[User]:
    """Add the learners named by email or student ID; all of them or, if any is unknown or not
    a learner, none (the refusal names each). Returns those newly added."""
    keys = list(dict.fromkeys(keys))
    if not keys:
        raise ServiceError("Name at least one learner by email or student ID.", "members")
    if len(keys) > MAX_NAMED:
        raise ServiceError(
            f"That is {len(keys):,} learners; add at most {MAX_NAMED:,} at a time.", "members"
        )
    emails = [normalise_email(k) for k in keys]
    found = session.scalars(
        select(User).where(or_(func.lower(User.email).in_(emails), User.student_id.in_(keys)))
    ).all()
    by_key = {u.email: u for u in found} | {u.student_id: u for u in found if u.student_id}
    unknown = [k for k in keys if k not in by_key and normalise_email(k) not in by_key]
    if unknown:
        shown = ", ".join(unknown[:20]) + (
            f" and {len(unknown) - 20} more" if len(unknown) > 20 else ""
        )
        raise ServiceError(
            f"No account has the email or student ID {shown}; nobody was added.", "members"
        )
    learner_ids = set(
        session.scalars(
            select(UserRole.user_id).where(
                UserRole.user_id.in_([u.id for u in found]), UserRole.role == Role.LEARNER
            )
        )
    )
    not_learners = [u.name for u in found if u.id not in learner_ids]
    if not_learners:
        raise ServiceError(
            f"Not learners: {', '.join(sorted(not_learners))}; nobody was added.", "members"
        )
    members = set(
        session.scalars(select(CohortMember.user_id).where(CohortMember.cohort_id == cohort.id))
    )
    added = [u for u in {u.id: u for u in found}.values() if u.id not in members]
    session.add_all(CohortMember(cohort_id=cohort.id, user_id=u.id) for u in added)
    session.flush()
    if added:
        record(
            session,
            actor=actor,
            role=admin_role(actor),
            action="cohort.members-added",
            subject=_subject(cohort),
            after={"user_ids": sorted(u.id for u in added)},
        )
    return added


def remove_member(session: Session, *, actor: User | None, cohort: Cohort, user: User) -> None:
    """Take a learner out of the cohort; their enrolments stay as they are."""
    removed = session.execute(
        delete(CohortMember).where(
            CohortMember.cohort_id == cohort.id, CohortMember.user_id == user.id
        )
    ).rowcount
    if not removed:
        raise ServiceError(f"{user.name} is not in {cohort.name}.")
    record(
        session,
        actor=actor,
        role=admin_role(actor),
        action="cohort.member-removed",
        subject=_subject(cohort),
        before={"user_id": user.id},
    )


@dataclass
class CohortEnrolment:
    enrolled: list[Enrolment] = field(default_factory=list)
    #: (learner, unit code, why not)
    skipped: list[tuple[User, str, str]] = field(default_factory=list)


def enrol_cohort(
    session: Session,
    *,
    actor: User | None,
    cohort: Cohort,
    unit_codes: Iterable[str],
    assessor: User | None,
    is_rpl: bool = False,
    starts_on: date | None = None,
) -> CohortEnrolment:
    """Enrol every active member in each unit, with the assessor, in one action. A member
    already enrolled in a unit (in any release) is left as they are and listed; each new
    enrolment is logged as one enrolled alone is."""
    codes = list(dict.fromkeys(c.strip().upper() for c in unit_codes if c.strip()))
    if not codes:
        raise ServiceError("Choose at least one unit.", "units")
    if len(codes) > MAX_UNITS:
        raise ServiceError(f"Choose at most {MAX_UNITS} units at a time.", "units")
    releases = {}
    for code in codes:
        release = get_release(session, code)
        if release is None:
            raise ServiceError(f"There is no unit {code}.", "units")
        releases[code] = release
    members = session.scalars(
        select(User)
        .join(CohortMember, CohortMember.user_id == User.id)
        .where(CohortMember.cohort_id == cohort.id)
        .order_by(User.name, User.id)
        .options(selectinload(User.role_rows))
    ).all()
    if not members:
        raise ServiceError(f"{cohort.name} has no learners yet: add them first.")
    already = set(
        session.execute(
            select(Enrolment.learner_id, UnitRelease.unit_id)
            .join(UnitRelease)
            .where(
                Enrolment.learner_id.in_([m.id for m in members]),
                UnitRelease.unit_id.in_([r.unit_id for r in releases.values()]),
            )
        ).all()
    )
    check_start(starts_on)
    result = CohortEnrolment()
    # What ``enrol`` checks for one learner is checked here once for all of them (the
    # releases, who is enrolled already, the start), so each enrolment costs only its row
    # and its audit event.
    for code, release in releases.items():
        for member in members:
            if not member.active:
                result.skipped.append((member, code, "account deactivated"))
            elif not member.has_role(Role.LEARNER):
                result.skipped.append((member, code, "not a learner"))
            elif (member.id, release.unit_id) in already:
                result.skipped.append((member, code, "already enrolled"))
            else:
                if assessor is not None:
                    check_assessor(assessor, member)
                result.enrolled.append(
                    create_enrolment(
                        session,
                        actor=actor,
                        learner=member,
                        release=release,
                        is_rpl=is_rpl,
                        assessor=assessor,
                        starts_on=starts_on,
                    )
                )
    record(
        session,
        actor=actor,
        role=admin_role(actor),
        action="cohort.enrolled",
        subject=_subject(cohort),
        after={
            "units": codes,
            "assessor_id": assessor.id if assessor else None,
            "enrolled": len(result.enrolled),
            "skipped": len(result.skipped),
        },
    )
    return result
