"""Where an enrolment stands: how much of the unit its evidence covers, the assessor's latest
return, the outcome. Read by the learner's pages, the review queue and the exports alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import distinct, func, select, union
from sqlalchemy.orm import Session, lazyload, selectinload

from portfolio.models import (
    Enrolment,
    EvidenceItem,
    EvidenceMapping,
    EvidenceVersion,
    GapSignoff,
    Submission,
    Target,
    UnitOutcome,
    User,
)
from portfolio.models.review import current_entries


@dataclass(frozen=True)
class Coverage:
    covered: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.covered / self.total) if self.total else 0


def coverage(session: Session, enrolments: Iterable[Enrolment]) -> dict[int, Coverage]:
    """Targets with at least one mapped item / all targets, per enrolment: two queries."""
    enrolments = list(enrolments)
    if not enrolments:
        return {}
    release_ids = {e.unit_release_id for e in enrolments}
    totals = dict(
        session.execute(
            select(Target.unit_release_id, func.count())
            .where(Target.unit_release_id.in_(release_ids), Target.is_group.is_(False))
            .group_by(Target.unit_release_id)
        ).all()
    )
    ids = [e.id for e in enrolments]
    mapped = (
        select(EvidenceItem.enrolment_id.label("enrolment_id"), EvidenceMapping.target_id)
        .join(EvidenceVersion, EvidenceVersion.id == EvidenceItem.current_version_id)
        .join(EvidenceMapping, EvidenceMapping.version_id == EvidenceVersion.id)
        .where(EvidenceItem.enrolment_id.in_(ids))
    )
    # A gap the assessor signed off is covered too, though the learner mapped nothing to it.
    replaced = select(GapSignoff.replaces_id).where(GapSignoff.replaces_id.is_not(None))
    signed_off = select(GapSignoff.enrolment_id, GapSignoff.target_id).where(
        GapSignoff.enrolment_id.in_(ids), GapSignoff.id.not_in(replaced)
    )
    both = union(mapped, signed_off).subquery()
    covered = dict(
        session.execute(
            select(both.c.enrolment_id, func.count(distinct(both.c.target_id))).group_by(
                both.c.enrolment_id
            )
        ).all()
    )
    return {
        e.id: Coverage(covered.get(e.id, 0), totals.get(e.unit_release_id, 0)) for e in enrolments
    }


@dataclass
class LearnerFeedback:
    """The latest return (what each criterion needs) and the outcome, for the learner's page."""

    returned: Submission | None
    by_target: dict[int, str]
    outcome: UnitOutcome | None


def learner_feedback(session: Session, enrolment: Enrolment) -> LearnerFeedback:
    """At most four queries: the latest submission (its feedback only if it was returned), and
    the current outcome with who decided it."""
    latest = session.scalars(
        select(Submission)
        .where(Submission.enrolment_id == enrolment.id)
        .order_by(Submission.round.desc())
        .limit(1)
    ).first()
    # The latest submission was returned while the portfolio is back with the learner.
    returned = latest if latest is not None and latest.returned_at is not None else None
    outcomes = current_entries(
        session.scalars(
            select(UnitOutcome)
            .where(UnitOutcome.enrolment_id == enrolment.id)
            .options(selectinload(UnitOutcome.assessor).options(lazyload(User.role_rows)))
        )
    )
    return LearnerFeedback(
        returned=returned,
        by_target={f.target_id: f.feedback for f in returned.gap_feedback} if returned else {},
        outcome=outcomes[-1] if outcomes else None,
    )
